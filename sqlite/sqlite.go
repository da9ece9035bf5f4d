// Package sqlite is the embedded keywatch.Store: one SQLite file, pure Go
// (modernc.org/sqlite), no server. It runs in WAL mode with one writer
// connection, which serialises every mutation and so every audit append,
// and a pool of reader connections that never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/store/schema"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a keywatch.Store in one SQLite file. It is safe for concurrent
// use; other processes may open the same file, and SQLite's file locks (with
// a busy timeout) serialise their writes with this one's.
type Store struct {
	path string
	w    *sql.DB // one connection: the single writer
	r    *sql.DB // readers
	now  func() time.Time
}

var _ keywatch.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.TrimSpace(path) == "" {
		return nil, keywatch.Errorf(keywatch.EINVALID, "open store sqlite: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, keywatch.Errorf(keywatch.EINVALID, "open store sqlite://%s: path must not contain ? or #", path)
	}
	s := &Store{path: path, now: time.Now}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	var err error
	// The writer sets WAL (persistent in the file) and begins IMMEDIATE
	// transactions, so that a write never fails upgrading a read lock.
	if s.w, err = sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_txlock=immediate"); err != nil {
		return nil, fmt.Errorf("open store sqlite://%s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store sqlite://%s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store sqlite://%s: %w", path, err)
	}
	if s.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)"); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store sqlite://%s: %w", path, err)
	}
	s.r.SetMaxIdleConns(4)
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, all in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := schema.Migrations(schema.SQLite)
	if err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if n := len(ms); n > 0 && have > ms[n-1].Version {
		return fmt.Errorf("migrate: database schema version %d is newer than this keywatch knows (%d)", have, ms[n-1].Version)
	}
	for _, m := range ms {
		if m.Version <= have {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// writeTx is a write transaction with the audit chain's tail.
type writeTx struct {
	*sql.Tx
	ctx    context.Context
	change keywatch.Change
	chain  *schema.Chain
	ins    *sql.Stmt
	now    func() time.Time
}

// audit appends an entry to the log in this transaction.
func (tx *writeTx) audit(action, subject string, detail any) error {
	if tx.chain == nil {
		tx.chain = &schema.Chain{}
		err := tx.QueryRowContext(tx.ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).
			Scan(&tx.chain.Seq, &tx.chain.Hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read audit tail: %w", err)
		}
	}
	tx.chain.Now = tx.now()
	e, err := tx.chain.Next(action, subject, detail, tx.change)
	if err != nil {
		return err
	}
	if tx.ins == nil {
		if tx.ins, err = tx.PrepareContext(tx.ctx, insertSQL("audit", schema.AuditColumns, "")); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
	}
	if _, err := tx.ins.ExecContext(tx.ctx, schema.AuditArgs(&e)...); err != nil {
		return fmt.Errorf("append audit %s %s: %w", action, subject, err)
	}
	return nil
}

// write runs fn in a write transaction and commits it when fn succeeds.
// The single writer connection serialises it with every other write, so
// the audit tail read in it stays the tail until commit.
func (s *Store) write(ctx context.Context, c keywatch.Change, fn func(tx *writeTx) error) error {
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &writeTx{Tx: t, ctx: ctx, change: c, now: s.now}
	defer t.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return t.Commit()
}

// insertSQL returns an INSERT statement for cols with ? placeholders and
// the given tail (e.g. an ON CONFLICT clause).
func insertSQL(table string, cols []string, tail string) string {
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")" + tail
}

func ph(int) string { return "?" }

// AppendAudit records an entry that is not a side effect of another store
// call.
func (s *Store) AppendAudit(ctx context.Context, action, subject string, detail any, c keywatch.Change) error {
	err := s.write(ctx, c, func(tx *writeTx) error { return tx.audit(action, subject, detail) })
	if err != nil {
		return fmt.Errorf("append audit %s %s: %w", action, subject, err)
	}
	return nil
}

// Audit returns entries with Seq > after, oldest first, at most limit (0:
// all).
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([]keywatch.AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+strings.Join(schema.AuditColumns, ", ")+
		" FROM audit WHERE seq > ? ORDER BY seq"+schema.Limit(limit), after)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	var out []keywatch.AuditEntry
	for rows.Next() {
		e, err := schema.ScanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	return out, nil
}

// PutSnapshot stores data under name, replacing any earlier snapshot.
func (s *Store) PutSnapshot(ctx context.Context, name string, data []byte) error {
	if name == "" {
		return keywatch.Errorf(keywatch.EINVALID, "put snapshot: empty name")
	}
	if data == nil {
		data = []byte{}
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO snapshots (name, data, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		name, data, s.now().UnixMicro())
	if err != nil {
		return fmt.Errorf("put snapshot %s: %w", name, err)
	}
	return nil
}

// Snapshot returns the named snapshot, or ENOTFOUND.
func (s *Store) Snapshot(ctx context.Context, name string) ([]byte, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM snapshots WHERE name = ?`, name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keywatch.Errorf(keywatch.ENOTFOUND, "snapshot %s: not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", name, err)
	}
	return data, nil
}
