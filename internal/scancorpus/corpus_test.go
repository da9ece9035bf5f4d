package scancorpus

import (
	"encoding/base64"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/keywatch/keywatch/scan"
)

// TestWriteDir checks that the manifest says where every planted key is
// (on the stated line, plain or in the stated encoding), that every rule
// is planted, and that a seed always gives the same corpus.
func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	m, err := WriteDir(dir, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	if m.Bytes < 1<<20 || m.Bytes > 2<<20 {
		t.Errorf("corpus of %d bytes, want about 1 MiB", m.Bytes)
	}
	lines := map[string][]string{}
	rules := map[string]int{}
	for _, k := range m.Keys {
		ls, ok := lines[k.Path]
		if !ok {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(k.Path)))
			if err != nil {
				t.Fatal(err)
			}
			ls = strings.Split(string(b), "\n")
			lines[k.Path] = ls
		}
		if k.Line < 1 || k.Line > len(ls) || !holds(ls[k.Line-1], k) {
			t.Errorf("%s:%d: %s key (%s) not on that line", k.Path, k.Line, k.Rule, k.Encoding)
		}
		rules[k.Rule]++
	}
	for _, r := range scan.Rules() {
		if rules[r.ID] != KeysPerRule(1) {
			t.Errorf("rule %s: %d keys planted, want %d", r.ID, rules[r.ID], KeysPerRule(1))
		}
	}
	if len(m.Lookalikes) < len(m.Keys) {
		t.Errorf("%d lookalikes for %d keys", len(m.Lookalikes), len(m.Keys))
	}
	m2, err := WriteDir(t.TempDir(), 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Error("same seed, different manifests")
	}
}

func holds(line string, k Planted) bool {
	switch k.Encoding {
	case "base64":
		i := strings.LastIndexByte(line, ' ')
		b, err := base64.StdEncoding.DecodeString(line[i+1:])
		return err == nil && strings.Contains(string(b), k.Secret)
	case "url":
		s, err := url.QueryUnescape(line)
		return err == nil && strings.Contains(s, k.Secret)
	case "json":
		return strings.Contains(line, jsonEscape(k.Secret))
	}
	return strings.Contains(line, k.Secret)
}

// TestWriteGitRepo checks that the repository has the commits asked for
// and that every planted key's commit exists and holds the key at its
// path and line.
func TestWriteGitRepo(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	m, err := WriteGitRepo(dir, 150, 3)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", dir, "rev-list", "--count", "main").Output()
	if err != nil || strings.TrimSpace(string(out)) != "150" {
		t.Fatalf("rev-list: %q, %v; want 150 commits", out, err)
	}
	if len(m.Keys) == 0 || len(m.Lookalikes) == 0 {
		t.Fatalf("%d keys, %d lookalikes", len(m.Keys), len(m.Lookalikes))
	}
	for _, k := range m.Keys {
		b, err := exec.Command("git", "-C", dir, "show", k.Commit+":"+k.Path).Output()
		if err != nil {
			t.Fatalf("git show %s:%s: %v", k.Commit, k.Path, err)
		}
		ls := strings.Split(string(b), "\n")
		if k.Line < 1 || k.Line > len(ls) || !holds(ls[k.Line-1], k) {
			t.Errorf("%s:%s:%d: %s key not on that line", k.Commit[:8], k.Path, k.Line, k.Rule)
		}
	}
}
