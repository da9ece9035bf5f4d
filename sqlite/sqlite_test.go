package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/sqlite"
	"github.com/keywatch/keywatch/storetest"
)

func open(tb testing.TB) keywatch.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "keywatch.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func tamper(tb testing.TB, s keywatch.Store, seq int64) {
	tb.Helper()
	if err := sqlite.Exec(s.(*sqlite.Store), `UPDATE audit SET actor = 'mallory' WHERE seq = ?`, seq); err != nil {
		tb.Fatal(err)
	}
}

func TestStore(t *testing.T) { storetest.Run(t, open, tamper) }

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, "note", "x", nil, keywatch.Change{Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Reopening applies no migration twice and keeps the data.
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.AppendAudit(ctx, "note", "y", nil, keywatch.Change{Actor: "a"}); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Audit(ctx, 0, 0)
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	if err := keywatch.VerifyAuditChain(entries); err != nil {
		t.Error(err)
	}
}

func TestOpenInvalid(t *testing.T) {
	for _, path := range []string{"", "a?b"} {
		if _, err := sqlite.Open(context.Background(), path); keywatch.ErrorCode(err) != keywatch.EINVALID {
			t.Errorf("Open(%q): %v, want EINVALID", path, err)
		}
	}
}

func BenchmarkPutKeys100k(b *testing.B)      { storetest.BenchPutKeys100k(b, open) }
func BenchmarkKeys(b *testing.B)             { storetest.BenchKeys(b, open) }
func BenchmarkKeyByFingerprint(b *testing.B) { storetest.BenchKeyByFingerprint(b, open) }
func BenchmarkPutAlerts(b *testing.B)        { storetest.BenchPutAlerts(b, open) }
func BenchmarkTouchKeys(b *testing.B)        { storetest.BenchTouchKeys(b, open) }
func BenchmarkSnapshot(b *testing.B)         { storetest.BenchSnapshot(b, open) }
