package scan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testRepo is a git repository built by a test, with a fixed identity and
// no global or system configuration.
type testRepo struct {
	t   testing.TB
	dir string
	env []string
}

func newTestRepo(t testing.TB, args ...string) *testRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("these tests need git on PATH (apt-get install git)")
	}
	r := &testRepo{t: t, dir: t.TempDir()}
	r.env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com")
	r.git(append([]string{"init", "-q", "-b", "main"}, args...)...)
	return r
}

// git runs git in the repository and returns its trimmed output.
func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	return r.gitEnv(nil, args...)
}

func (r *testRepo) gitEnv(env []string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(r.env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *testRepo) write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit stages everything and commits it with author date date (RFC
// 3339), returning the commit id.
func (r *testRepo) commit(msg, date string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.gitEnv([]string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}, "commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func scanGit(t *testing.T, dir string, opt SourceOptions) ([]Finding, SourceStats) {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []Finding
	st, err := s.ScanGit(context.Background(), dir, opt, func(f Finding) { got = append(got, f) })
	if err != nil {
		t.Fatalf("ScanGit: %v", err)
	}
	return got, st
}

// keyLine returns a line holding a generated Anthropic key, and the key.
func keyLine(seed uint64) (line, key string) {
	key = genKey("anthropic-api-key", seed)
	return "ANTHROPIC_API_KEY=" + key + "\n", key
}

func TestScanGitHistory(t *testing.T) {
	const d1, d2, d3 = "2024-01-02T03:04:05Z", "2024-02-03T04:05:06+02:00", "2024-03-04T05:06:07Z"
	line, key := keyLine(1)
	line2, key2 := keyLine(2)

	t.Run("added then removed", func(t *testing.T) {
		r := newTestRepo(t)
		r.write("README.md", "hello\n")
		r.write("config/app.env", "DEBUG=1\n"+line)
		c1 := r.commit("add config", d1)
		blob := r.git("rev-parse", c1+":config/app.env")
		r.write("config/app.env", "DEBUG=1\n")
		r.commit("remove key", d2)

		got, st := scanGit(t, r.dir, SourceOptions{})
		if len(got) != 1 {
			t.Fatalf("got %d findings %v, want 1", len(got), got)
		}
		f := got[0]
		if string(f.secret) != key || f.Blob != blob || f.Path != "config/app.env" || f.Line != 2 || f.CommitCount != 1 {
			t.Errorf("finding %v: blob %s path %q line %d count %d", f, f.Blob, f.Path, f.Line, f.CommitCount)
		}
		want := Commit{SHA: c1, Path: "config/app.env", Author: "Ada <ada@example.com>", AuthorDate: mustTime(t, d1)}
		if len(f.Commits) != 1 || f.Commits[0].SHA != want.SHA || f.Commits[0].Path != want.Path ||
			f.Commits[0].Author != want.Author || !f.Commits[0].AuthorDate.Equal(want.AuthorDate) {
			t.Errorf("commits %+v, want %+v", f.Commits, want)
		}
		if f.Source != c1[:12]+":config/app.env" {
			t.Errorf("source %q", f.Source)
		}
		if st.Blobs < 3 || st.Bytes == 0 {
			t.Errorf("stats %+v: want at least 3 blobs", st)
		}
	})

	t.Run("one blob at two paths in two commits", func(t *testing.T) {
		r := newTestRepo(t)
		r.write("a.env", line)
		c1 := r.commit("a", d1)
		r.write("deploy/b.env", line)
		r.write("other.env", line2)
		c2 := r.commit("b", d3)
		got, _ := scanGit(t, r.dir, SourceOptions{})
		if len(got) != 2 {
			t.Fatalf("got %d findings %v, want 2 (one per blob)", len(got), got)
		}
		f := got[0]
		if string(f.secret) != key || f.CommitCount != 2 || len(f.Commits) != 2 {
			t.Fatalf("first finding %v: %d commits of %d, want the shared blob in 2", f, len(f.Commits), f.CommitCount)
		}
		if f.Commits[0].SHA != c1 || f.Commits[0].Path != "a.env" || f.Commits[1].SHA != c2 || f.Commits[1].Path != "deploy/b.env" {
			t.Errorf("commits %+v", f.Commits)
		}
		if string(got[1].secret) != key2 || got[1].Path != "other.env" || got[1].Commits[0].SHA != c2 {
			t.Errorf("second finding %v in %+v", got[1], got[1].Commits)
		}
	})

	t.Run("merge resolution and dangling blob", func(t *testing.T) {
		r := newTestRepo(t)
		r.write("x", "base\n")
		r.commit("base", d1)
		r.git("checkout", "-q", "-b", "side")
		r.write("x", "side\n")
		r.commit("side", d1)
		r.git("checkout", "-q", "main")
		r.write("x", "main\n")
		r.commit("main", d1)
		merge := exec.Command("git", "-C", r.dir, "merge", "-q", "side", "-m", "merge")
		merge.Env = r.env
		merge.Run() // a conflict, resolved below
		r.write("x", "resolved\n"+line)
		m := r.commit("merge side", d2)
		p := filepath.Join(t.TempDir(), "loose")
		os.WriteFile(p, []byte(line2), 0o644)
		dangling := r.git("hash-object", "-w", p)

		got, _ := scanGit(t, r.dir, SourceOptions{})
		if len(got) != 2 {
			t.Fatalf("got %d findings %v, want 2", len(got), got)
		}
		if len(got[0].Commits) != 1 || got[0].Commits[0].SHA != m || got[0].Path != "x" {
			t.Errorf("merge finding %v in %+v, want commit %s", got[0], got[0].Commits, m)
		}
		if got[1].Blob != dangling || len(got[1].Commits) != 0 || got[1].Source != dangling {
			t.Errorf("dangling finding %v blob %s, want %s with no commits", got[1], got[1].Blob, dangling)
		}
	})

	t.Run("exclude", func(t *testing.T) {
		r := newTestRepo(t)
		r.write("vendor/lib/k.txt", line)
		r.write("fixtures/k.env", line2)
		r.write("app/k.env", line2)
		r.commit("c", d1)
		got, _ := scanGit(t, r.dir, SourceOptions{Exclude: []string{"vendor", "fixtures/*"}})
		if len(got) != 1 || got[0].Path != "app/k.env" || got[0].CommitCount != 1 {
			t.Fatalf("got %v, want only app/k.env", got)
		}
	})
}

func TestScanGitRepoKinds(t *testing.T) {
	line, _ := keyLine(3)
	src := newTestRepo(t)
	src.write("k.env", line)
	src.commit("one", "2024-01-01T00:00:00Z")
	src.write("k.env", "gone\n")
	src.commit("two", "2024-01-02T00:00:00Z")

	empty := newTestRepo(t)
	staged := newTestRepo(t)
	staged.write("k.env", line)
	staged.git("add", "k.env")
	bare := t.TempDir()
	src.git("clone", "-q", "--bare", src.dir, bare)
	shallow := t.TempDir()
	src.git("clone", "-q", "--depth", "1", "file://"+src.dir, shallow)

	for _, tc := range []struct {
		name     string
		dir      string
		findings int
		commits  int
	}{
		{"no commits", empty.dir, 0, 0},
		{"no commits, staged blob", staged.dir, 1, 0},
		{"bare", bare, 1, 1},
		{"shallow", shallow, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := scanGit(t, tc.dir, SourceOptions{})
			if len(got) != tc.findings {
				t.Fatalf("got %d findings %v, want %d", len(got), got, tc.findings)
			}
			if len(got) > 0 && len(got[0].Commits) != tc.commits {
				t.Errorf("commits %+v, want %d", got[0].Commits, tc.commits)
			}
		})
	}

	t.Run("not a repository", func(t *testing.T) {
		s, _ := New(Options{})
		dir := t.TempDir()
		_, err := s.ScanGit(context.Background(), dir, SourceOptions{}, func(Finding) {})
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "not a git repository") {
			t.Errorf("err = %v, want one naming %s and saying it is not a repository", err, dir)
		}
	})
}

func TestScanStaged(t *testing.T) {
	line, key := keyLine(4)
	line2, _ := keyLine(5)
	for _, tc := range []struct {
		name  string
		setup func(r *testRepo)
		want  []string // paths
	}{
		{"staged file", func(r *testRepo) {
			r.write("clean.txt", "hi\n")
			r.commit("c", "2024-01-01T00:00:00Z")
			r.write("new/k.env", "x=1\n"+line)
			r.git("add", "new/k.env")
			r.write("unstaged.env", line2) // in the work tree only
		}, []string{"new/k.env"}},
		{"same blob at two paths", func(r *testRepo) {
			r.write("a.env", line)
			r.write("b.env", line)
			r.git("add", ".")
		}, []string{"a.env", "b.env"}},
		{"removal staged", func(r *testRepo) {
			r.write("k.env", line)
			r.commit("c", "2024-01-01T00:00:00Z")
			r.git("rm", "-q", "k.env")
		}, nil},
		{"committed, not staged", func(r *testRepo) {
			r.write("k.env", line)
			r.commit("c", "2024-01-01T00:00:00Z")
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRepo(t)
			tc.setup(r)
			s, _ := New(Options{})
			var got []string
			err := s.ScanStaged(context.Background(), r.dir, func(f Finding) {
				if string(f.secret) != key || f.Blob == "" || f.Source != f.Path {
					t.Errorf("finding %v: blob %q", f, f.Blob)
				}
				got = append(got, f.Path)
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("paths %v, want %v", got, tc.want)
			}
		})
	}
}
