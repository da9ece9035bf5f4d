package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/store"
)

func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	for _, url := range []string{"sqlite://rel.db", "sqlite://" + filepath.Join(dir, "abs.db")} {
		s, err := store.Open(ctx, url)
		if err != nil {
			t.Fatalf("Open(%s): %v", url, err)
		}
		if err := s.PutSnapshot(ctx, "x", []byte("y")); err != nil {
			t.Error(err)
		}
		s.Close()
	}
	for _, name := range []string{"rel.db", "abs.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestOpenInvalid(t *testing.T) {
	for _, url := range []string{"", "mysql://u:pw@h/db", "keywatch.db", "sqlite://", "redis://:sekrit@h"} {
		_, err := store.Open(context.Background(), url)
		if keywatch.ErrorCode(err) != keywatch.EINVALID {
			t.Errorf("Open(%q): %v, want EINVALID", url, err)
		}
		if err != nil && (strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "sekrit")) {
			t.Errorf("Open(%q): error shows the password: %v", url, err)
		}
	}
	_, err := store.Open(context.Background(), "ftp://x")
	if err == nil || !strings.Contains(err.Error(), "sqlite://PATH") {
		t.Errorf("error does not name the accepted forms: %v", err)
	}
}

func TestOpenPostgresRedacts(t *testing.T) {
	_, err := store.Open(context.Background(), "postgresql://kw:topsecretpw@127.0.0.1:1/db?connect_timeout=2")
	if err == nil {
		t.Fatal("Open succeeded on a closed port")
	}
	if strings.Contains(err.Error(), "topsecretpw") {
		t.Errorf("error shows the password: %v", err)
	}
}
