package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/postgres"
	"github.com/keywatch/keywatch/storetest"
)

// defaultDSN is the machine's PostgreSQL; KEYWATCH_TEST_POSTGRES overrides it.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func baseDSN() string {
	if v := os.Getenv("KEYWATCH_TEST_POSTGRES"); v != "" {
		return v
	}
	return defaultDSN
}

// withSearchPath returns dsn with search_path set to schema.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("KEYWATCH_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// open returns a store in a fresh schema of the test database, dropped in
// Cleanup, so that tests and parallel runs never share data.
func open(tb testing.TB) keywatch.Store {
	tb.Helper()
	ctx := context.Background()
	dsn := baseDSN()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("PostgreSQL for tests is unreachable at %s: %v\n"+
			"Start it (e.g. `pg_ctlcluster 15 main start` or `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres`)"+
			" or point KEYWATCH_TEST_POSTGRES at one.", postgres.Redact(dsn), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "kw_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		tb.Fatalf("create schema %s: %v", name, err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	s, err := postgres.Open(ctx, withSearchPath(tb, dsn, name))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func tamper(tb testing.TB, s keywatch.Store, seq int64) {
	tb.Helper()
	if err := postgres.Exec(s.(*postgres.Store), `UPDATE audit SET actor = 'mallory' WHERE seq = $1`, seq); err != nil {
		tb.Fatal(err)
	}
}

func TestStore(t *testing.T) { storetest.Run(t, open, tamper) }

func TestOpenRedactsPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://postgres:hunter2secret@127.0.0.1:1/test?connect_timeout=2",
		"postgres://postgres:hunter2secret@127.0.0.1:5432/test?sslmode=bogus",
	} {
		_, err := postgres.Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", postgres.Redact(dsn))
		}
		if strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func BenchmarkPutKeys100k(b *testing.B)      { storetest.BenchPutKeys100k(b, open) }
func BenchmarkKeys(b *testing.B)             { storetest.BenchKeys(b, open) }
func BenchmarkKeyByFingerprint(b *testing.B) { storetest.BenchKeyByFingerprint(b, open) }
func BenchmarkPutAlerts(b *testing.B)        { storetest.BenchPutAlerts(b, open) }
func BenchmarkTouchKeys(b *testing.B)        { storetest.BenchTouchKeys(b, open) }
func BenchmarkSnapshot(b *testing.B)         { storetest.BenchSnapshot(b, open) }
