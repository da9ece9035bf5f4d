package secret_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keywatch/keywatch/secret"
)

func TestLoadPepperCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	t.Setenv("KEYWATCH_PEPPER_FILE", "")
	t.Setenv("XDG_CONFIG_HOME", dir)
	p, err := secret.LoadPepper("")
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != secret.PepperSize {
		t.Errorf("pepper has %d bytes", len(p))
	}
	path := filepath.Join(dir, "keywatch", "pepper")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("pepper mode %04o, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("pepper dir mode %04o, want 0700", di.Mode().Perm())
	}
	again, err := secret.LoadPepper("")
	if err != nil || !bytes.Equal(p, again) {
		t.Errorf("second load: %v, same %v", err, bytes.Equal(p, again))
	}
	// $KEYWATCH_PEPPER_FILE wins.
	other := filepath.Join(t.TempDir(), "pep")
	t.Setenv("KEYWATCH_PEPPER_FILE", other)
	if _, err := secret.LoadPepper(""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("KEYWATCH_PEPPER_FILE not used: %v", err)
	}
}

func TestLoadPepperRefuses(t *testing.T) {
	long := bytes.Repeat([]byte("p"), 32)
	for _, tc := range []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"group readable", long, 0o640, "chmod 600"},
		{"world readable", long, 0o604, "group or others"},
		{"short", []byte("short-pepper"), 0o600, "need at least 32"},
		{"empty", nil, 0o600, "need at least 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pepper")
			if err := os.WriteFile(path, tc.data, tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tc.mode)
			_, err := secret.LoadPepper(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadPepper: %v, want error with %q", err, tc.want)
			}
			if len(tc.data) > 0 && strings.Contains(err.Error(), string(tc.data)) {
				t.Errorf("error shows the pepper: %v", err)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	pepper := bytes.Repeat([]byte{7}, 32)
	const key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
	fp := secret.Fingerprint(pepper, []byte(key))
	if len(fp) != 64 || strings.Contains(fp, key) {
		t.Errorf("fingerprint %q", fp)
	}
	if fp != secret.Fingerprint(pepper, []byte(key)) {
		t.Error("fingerprint not deterministic")
	}
	if fp == secret.Fingerprint(bytes.Repeat([]byte{8}, 32), []byte(key)) {
		t.Error("fingerprint ignores the pepper")
	}
	// RFC 4231 test case 2.
	if got := secret.Fingerprint([]byte("Jefe"), []byte("what do ya want for nothing?")); got !=
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Errorf("HMAC-SHA256 = %s", got)
	}
}

// TestFingerprinter: the pooled fingerprinter answers as Fingerprint, from
// many goroutines at once.
func TestFingerprinter(t *testing.T) {
	pepper := []byte("Jefe")
	f := secret.NewFingerprinter(pepper)
	pepper[0] = 'X' // the fingerprinter keeps its own copy
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				sec := []byte(fmt.Sprintf("what do ya want for nothing? %d %d", g, i%7))
				if got, want := f.Fingerprint(sec), secret.Fingerprint([]byte("Jefe"), sec); got != want {
					t.Errorf("%q: %s, want %s", sec, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestLast4(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"sk-proj-abcdefghijklmnop", "mnop"},
		{"sk-ant-api03-xyz1234", "1234"},
		{"short", ""},
		{"", ""},
		{"ключ-секрет-длинный", "нный"},
	} {
		if got := secret.Last4([]byte(tc.in)); got != tc.want {
			t.Errorf("Last4(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{{"abc", "abc", true}, {"abc", "abd", false}, {"abc", "abcd", false}, {"", "", true}} {
		if got := secret.Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
