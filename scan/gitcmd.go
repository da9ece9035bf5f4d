package scan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// This file runs the git command for ScanGit and ScanStaged: git is
// installed wherever repositories are, it reads every object format and
// pack layout, and one long-lived "git cat-file --batch" streams blobs as
// fast as they decompress.

// gitCmd is a git process with its stderr captured (bounded) for errors.
type gitCmd struct {
	repo   string
	args   []string
	cmd    *exec.Cmd
	stderr *tailBuffer
}

// newGit prepares git -C repo args. Prompts for credentials and lazy
// fetches of missing objects in partial clones are turned off: a scan
// reads what is there and never touches the network.
func newGit(ctx context.Context, repo string, args ...string) *gitCmd {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_NO_LAZY_FETCH=1", "LC_ALL=C")
	g := &gitCmd{repo: repo, args: args, cmd: cmd, stderr: &tailBuffer{max: 4 << 10}}
	cmd.Stderr = g.stderr
	return g
}

// err describes a failure of the command: which git command, in which
// repository, git's first line of complaint and the exit status.
func (g *gitCmd) err(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(g.stderr.String())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimPrefix(msg, "fatal: ")
	name := "git " + g.args[0]
	if len(g.args) > 1 && !strings.HasPrefix(g.args[1], "-") {
		name += " " + g.args[1]
	}
	if msg == "" {
		return fmt.Errorf("%s in %s: %w", name, g.repo, err)
	}
	return fmt.Errorf("%s in %s: %s: %w", name, g.repo, msg, err)
}

// output runs the command and returns its stdout.
func (g *gitCmd) output() ([]byte, error) {
	out, err := g.cmd.Output()
	return out, g.err(err)
}

// tailBuffer keeps the first max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// checkRepo reports whether repo is a git repository (bare or not), with
// git's own explanation when it is not, and returns its object format
// ("sha1", "sha256") and the absolute path of its object directory.
func checkRepo(ctx context.Context, repo string) (format, objects string, err error) {
	if _, err := os.Stat(repo); err != nil {
		return "", "", fmt.Errorf("scan git %s: %w", repo, err)
	}
	if _, err := exec.LookPath("git"); err != nil {
		return "", "", fmt.Errorf("scan git %s: %w", repo, err)
	}
	out, err := newGit(ctx, repo, "rev-parse", "--show-object-format", "--path-format=absolute", "--git-path", "objects").output()
	if err != nil {
		// Not a repository, or a git older than 2.31: ask what any git
		// answers, for its explanation or for the cat-file path.
		_, err := newGit(ctx, repo, "rev-parse", "--git-dir").output()
		return "", "", err
	}
	if f := strings.Fields(string(out)); len(f) == 2 {
		format, objects = f[0], f[1]
	}
	return format, objects, nil
}

// catFile is a running "git cat-file --batch": object ids go in, object
// headers and contents come out, in order.
type catFile struct {
	g   *gitCmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startCatFile(ctx context.Context, repo string) (*catFile, error) {
	g := newGit(ctx, repo, "cat-file", "--batch", "--buffer")
	in, err := g.cmd.StdinPipe()
	if err != nil {
		return nil, g.err(err)
	}
	out, err := g.cmd.StdoutPipe()
	if err != nil {
		return nil, g.err(err)
	}
	if err := g.cmd.Start(); err != nil {
		return nil, g.err(err)
	}
	return &catFile{g: g, in: in, out: bufio.NewReaderSize(out, 1<<20)}, nil
}

// errMissing is the header of an object git does not have.
var errMissing = errors.New("object missing")

// header reads the next object's header, "<id> <type> <size>". It returns
// errMissing (and the id) for "<id> missing", and io.EOF at the end.
func (c *catFile) header() (id, typ string, size int64, err error) {
	line, err := c.out.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return "", "", 0, io.EOF
		}
		return "", "", 0, fmt.Errorf("read git cat-file output: %w", err)
	}
	f := strings.Fields(string(line))
	if len(f) == 2 && f[1] == "missing" {
		return f[0], "", 0, errMissing
	}
	if len(f) != 3 {
		return "", "", 0, fmt.Errorf("read git cat-file output: bad header %q", truncate(string(line), 100))
	}
	size, err = strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return "", "", 0, fmt.Errorf("read git cat-file output: bad size in %q", truncate(string(line), 100))
	}
	return f[0], f[1], size, nil
}

// body returns a reader of the current object's content; the caller reads
// it to the end and then calls endBody.
func (c *catFile) body(size int64) io.Reader { return io.LimitReader(c.out, size) }

// endBody consumes the newline after an object's content.
func (c *catFile) endBody() error {
	b, err := c.out.ReadByte()
	if err != nil || b != '\n' {
		return fmt.Errorf("read git cat-file output: object not followed by a newline")
	}
	return nil
}

// wait closes stdin and waits for git to exit.
func (c *catFile) wait() error {
	c.in.Close()
	io.Copy(io.Discard, c.out)
	return c.g.err(c.g.cmd.Wait())
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
