// Package secret derives what keywatch keeps of an API key's secret: a
// fingerprint (HMAC-SHA256 under a local pepper) and the last 4
// characters. The secret itself is never stored, logged or put in an error.
package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"
)

// PepperSize is the length of a new pepper and the minimum accepted.
const PepperSize = 32

// PepperPath returns where the pepper lives when LoadPepper is given no
// path: $KEYWATCH_PEPPER_FILE, else $XDG_CONFIG_HOME/keywatch/pepper, else
// ~/.config/keywatch/pepper.
func PepperPath() (string, error) {
	if p := os.Getenv("KEYWATCH_PEPPER_FILE"); p != "" {
		return p, nil
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locate pepper file: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "keywatch", "pepper"), nil
}

// LoadPepper reads the pepper at path (PepperPath when path is ""). On
// first use it creates PepperSize random bytes with mode 0600, in a
// directory created with mode 0700. It refuses a file that group or others
// may read or write, and one shorter than PepperSize bytes.
func LoadPepper(path string) ([]byte, error) {
	if path == "" {
		var err error
		if path, err = PepperPath(); err != nil {
			return nil, err
		}
	}
	b, err := readPepper(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createPepper(path)
	}
	return b, err
}

func readPepper(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read pepper %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read pepper %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("read pepper %s: mode %04o lets group or others access it; run chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("read pepper %s: %w", path, err)
	}
	if len(b) < PepperSize {
		return nil, fmt.Errorf("read pepper %s: %d bytes, need at least %d", path, len(b), PepperSize)
	}
	return b, nil
}

func createPepper(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create pepper %s: %w", path, err)
	}
	b := make([]byte, PepperSize)
	rand.Read(b)
	// O_EXCL: when another process creates it first, read theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readPepper(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create pepper %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create pepper %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("create pepper %s: %w", path, err)
	}
	return b, nil
}

// Fingerprint returns the hex HMAC-SHA256 of secret under pepper: the
// key's identity in the store and in scanner findings.
func Fingerprint(pepper, secret []byte) string {
	m := hmac.New(sha256.New, pepper)
	m.Write(secret)
	return hex.EncodeToString(m.Sum(nil))
}

// Fingerprinter computes Fingerprint under one pepper, reusing HMAC
// state between calls: for hot paths (the gateway fingerprints the key of
// every request). It is safe for concurrent use.
type Fingerprinter struct{ pool sync.Pool }

// NewFingerprinter returns a Fingerprinter for pepper.
func NewFingerprinter(pepper []byte) *Fingerprinter {
	pepper = append([]byte(nil), pepper...)
	return &Fingerprinter{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, pepper) }}}
}

// Fingerprint returns Fingerprint(pepper, secret).
func (f *Fingerprinter) Fingerprint(secret []byte) string {
	m := f.pool.Get().(hash.Hash)
	m.Reset()
	m.Write(secret)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], m.Sum(sum[:0]))
	f.pool.Put(m)
	return string(out[:])
}

// Last4 returns the last 4 characters of secret for display, or "" when
// the secret is shorter than 12 characters (its last 4 would give away too
// much of it).
func Last4(secret []byte) string {
	if utf8.RuneCount(secret) < 12 {
		return ""
	}
	r := []rune(string(secret))
	return string(r[len(r)-4:])
}

// Equal reports whether a and b (fingerprints, tokens) are equal, in time
// that does not depend on where they differ.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
