// Package postgres is the keywatch.Store for several instances: one
// PostgreSQL database (or schema, via the DSN's search_path) shared by all,
// through a pgx connection pool. Every audited mutation first takes
// LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE, which serialises writers of
// the audit log across instances while leaving it readable, so concurrent
// appends never fork the hash chain.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/store/schema"
)

// Store is a keywatch.Store in PostgreSQL. It is safe for concurrent use,
// also by several processes on one database.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

var _ keywatch.Store = (*Store)(nil)

// Redact returns dsn with any password replaced, for messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "postgres (unparsable DSN)"
	}
	return u.Redacted()
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string that pgx accepts) and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's own message redacts the password; ours names no DSN.
		return nil, keywatch.Errorf(keywatch.EINVALID, "open store %s: %v", Redact(dsn), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", Redact(dsn), err)
	}
	s := &Store{pool: pool, now: time.Now}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store %s: %w", Redact(dsn), err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store %s: %w", Redact(dsn), err)
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, all in one transaction under an advisory lock so that
// instances starting together migrate once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := schema.Migrations(schema.Postgres)
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('keywatch.migrate.' || current_schema()))`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if n := len(ms); n > 0 && have > ms[n-1].Version {
		return fmt.Errorf("migrate: database schema version %d is newer than this keywatch knows (%d)", have, ms[n-1].Version)
	}
	for _, m := range ms {
		if m.Version <= have {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// writeTx is an audited write transaction holding the audit log's lock.
type writeTx struct {
	pgx.Tx
	ctx     context.Context
	change  keywatch.Change
	chain   schema.Chain
	now     func() time.Time
	pending [][]any
}

// audit queues an entry for the log; write inserts the queue before commit.
func (tx *writeTx) audit(action, subject string, detail any) error {
	tx.chain.Now = tx.now()
	e, err := tx.chain.Next(action, subject, detail, tx.change)
	if err != nil {
		return err
	}
	tx.pending = append(tx.pending, schema.AuditArgs(&e))
	return nil
}

// write runs fn in a transaction that holds the audit log's write lock and
// commits it, with the audit entries fn queued, when fn succeeds.
func (s *Store) write(ctx context.Context, c keywatch.Change, fn func(tx *writeTx) error) error {
	t, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer t.Rollback(ctx)
	if _, err := t.Exec(ctx, `LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("lock audit log: %w", err)
	}
	tx := &writeTx{Tx: t, ctx: ctx, change: c, now: s.now}
	err = t.QueryRow(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&tx.chain.Seq, &tx.chain.Hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read audit tail: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := insertRows(ctx, t, "audit", schema.AuditColumns, tx.pending); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return t.Commit(ctx)
}

// insertRows inserts rows into table: with COPY when there are many, else
// with one pipelined batch of INSERTs.
func insertRows(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) >= 32 {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	q := insertSQL(table, cols, "")
	var b pgx.Batch
	for _, r := range rows {
		b.Queue(q, r...)
	}
	return tx.SendBatch(ctx, &b).Close()
}

// insertSQL returns an INSERT statement for cols with $n placeholders and
// the given tail (e.g. an ON CONFLICT clause).
func insertSQL(table string, cols []string, tail string) string {
	ps := make([]string, len(cols))
	for i := range ps {
		ps[i] = ph(i + 1)
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(ps, ", ") + ")" + tail
}

func ph(n int) string { return "$" + strconv.Itoa(n) }

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
	rows, err := s.pool.Query(ctx, "SELECT "+strings.Join(schema.AuditColumns, ", ")+
		" FROM audit WHERE seq > $1 ORDER BY seq"+schema.Limit(limit), after)
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
	_, err := s.pool.Exec(ctx, `INSERT INTO snapshots (name, data, updated_at) VALUES ($1, $2, $3)
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
	err := s.pool.QueryRow(ctx, `SELECT data FROM snapshots WHERE name = $1`, name).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, keywatch.Errorf(keywatch.ENOTFOUND, "snapshot %s: not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", name, err)
	}
	return data, nil
}
