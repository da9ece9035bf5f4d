package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/store/schema"
)

// selectKeys selects schema.KeyColumns and the JSON array of old
// fingerprints, oldest first (NULL when none).
var selectKeys = "SELECT " + strings.Join(schema.KeyColumns, ", ") +
	", (SELECT json_agg(fingerprint ORDER BY pos)::text FROM key_fingerprints f WHERE f.key_id = k.id)" +
	", (SELECT usage FROM key_usage u WHERE u.key_id = k.id) FROM keys k"

// PutKeys inserts or replaces keys by id in one transaction, with one
// audit entry (action key.put) per key: the keys are copied (COPY) into a
// temporary table and upserted from it in one statement. Fingerprint,
// Last4 and OldFingerprints are kept when the new record leaves them
// empty; last_used is never lowered. A later duplicate id in keys wins.
func (s *Store) PutKeys(ctx context.Context, keys []keywatch.StoredKey, c keywatch.Change) error {
	if len(keys) == 0 {
		return nil
	}
	keys = schema.Dedupe(keys)
	now := s.now()
	rows := make([][]any, len(keys))
	var oldIDs []string
	var old [][]any
	for i := range keys {
		k := &keys[i]
		var err error
		if rows[i], err = schema.KeyArgs(k, now); err != nil {
			return fmt.Errorf("put %d keys: %w", len(keys), err)
		}
		if len(k.OldFingerprints) > 0 {
			oldIDs = append(oldIDs, k.ID)
			var seen []string
			for _, fp := range k.OldFingerprints {
				if !slices.Contains(seen, fp) {
					seen = append(seen, fp)
					old = append(old, []any{k.ID, fp, int64(len(seen)), nil})
				}
			}
		}
	}
	err := s.write(ctx, c, func(tx *writeTx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE kw_import (LIKE keys) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"kw_import"}, schema.KeyColumns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		cols := strings.Join(schema.KeyColumns, ", ")
		if _, err := tx.Exec(ctx, "INSERT INTO keys ("+cols+") SELECT "+cols+" FROM kw_import"+schema.KeyUpsert); err != nil {
			return err
		}
		if len(oldIDs) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM key_fingerprints WHERE key_id = ANY($1)`, oldIDs); err != nil {
				return err
			}
			if err := insertRows(ctx, tx.Tx, "key_fingerprints", []string{"key_id", "fingerprint", "pos", "retired_at"}, old); err != nil {
				return err
			}
		}
		for i := range keys {
			if err := tx.audit("key.put", keys[i].ID, schema.KeyDetail(&keys[i])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d keys: %w", len(keys), err)
	}
	if len(keys) >= analyzeAfter {
		// A bulk import makes the planner's statistics stale; without them
		// a lookup by fingerprint can walk the primary key in id order
		// instead of using the fingerprint index.
		if _, err := s.pool.Exec(ctx, `ANALYZE keys`); err != nil {
			return fmt.Errorf("analyze keys after import: %w", err)
		}
	}
	return nil
}

// analyzeAfter is the import size from which PutKeys refreshes the
// planner's statistics.
const analyzeAfter = 1000

// Key returns the key with id, or an ENOTFOUND error.
func (s *Store) Key(ctx context.Context, id string) (*keywatch.StoredKey, error) {
	k, err := schema.ScanKey(s.pool.QueryRow(ctx, selectKeys+" WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, keywatch.Errorf(keywatch.ENOTFOUND, "key %s: not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", id, err)
	}
	return &k, nil
}

// Keys returns the keys that match f, ordered by id.
func (s *Store) Keys(ctx context.Context, f keywatch.KeyFilter) ([]keywatch.StoredKey, error) {
	where, args := schema.KeyWhere(f, ph)
	rows, err := s.pool.Query(ctx, selectKeys+where+" ORDER BY id"+schema.Limit(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []keywatch.StoredKey
	for rows.Next() {
		k, err := schema.ScanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return out, nil
}

// KeyByFingerprint finds the key whose current or former secret has
// fingerprint fp; current reports which. When several keys match, the
// current fingerprint wins, then the smallest id.
func (s *Store) KeyByFingerprint(ctx context.Context, fp string) (*keywatch.StoredKey, bool, error) {
	if fp == "" {
		return nil, false, keywatch.Errorf(keywatch.EINVALID, "find key by fingerprint: empty fingerprint")
	}
	k, err := schema.ScanKey(s.pool.QueryRow(ctx, selectKeys+" WHERE fingerprint = $1 ORDER BY id LIMIT 1", fp))
	if err == nil {
		return &k, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, false, fmt.Errorf("find key by fingerprint %s: %w", fp, err)
	}
	k, err = schema.ScanKey(s.pool.QueryRow(ctx, selectKeys+
		" WHERE id = (SELECT key_id FROM key_fingerprints WHERE fingerprint = $1 ORDER BY key_id LIMIT 1)", fp))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, keywatch.Errorf(keywatch.ENOTFOUND, "key with fingerprint %s: not found", fp)
	}
	if err != nil {
		return nil, false, fmt.Errorf("find key by fingerprint %s: %w", fp, err)
	}
	return &k, false, nil
}

// SetKeyStatus changes a key's status, audited as key.enable, key.clamp,
// key.disable or key.revoke.
func (s *Store) SetKeyStatus(ctx context.Context, id string, st keywatch.KeyStatus, c keywatch.Change) error {
	st, err := schema.CheckKeyStatus(st)
	if err != nil {
		return fmt.Errorf("set key %s status: %w", id, err)
	}
	err = s.write(ctx, c, func(tx *writeTx) error {
		var prev string
		err := tx.QueryRow(ctx, `SELECT status FROM keys WHERE id = $1 FOR UPDATE`, id).Scan(&prev)
		if errors.Is(err, pgx.ErrNoRows) {
			return keywatch.Errorf(keywatch.ENOTFOUND, "key %s: not found", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE keys SET status = $1, updated_at = $2 WHERE id = $3`,
			string(st), s.now().UnixMicro(), id); err != nil {
			return err
		}
		return tx.audit(schema.StatusAction(st), id, map[string]string{"status": string(st), "previous": prev})
	})
	if err != nil {
		return fmt.Errorf("set key %s status %s: %w", id, st, err)
	}
	return nil
}

// RotateKey records a new secret's fingerprint and last 4 characters; the
// old fingerprint moves to the key's history and stays findable.
func (s *Store) RotateKey(ctx context.Context, id, fingerprint, last4 string, at time.Time, c keywatch.Change) error {
	if fingerprint == "" {
		return keywatch.Errorf(keywatch.EINVALID, "rotate key %s: empty fingerprint", id)
	}
	err := s.write(ctx, c, func(tx *writeTx) error {
		var old string
		err := tx.QueryRow(ctx, `SELECT fingerprint FROM keys WHERE id = $1 FOR UPDATE`, id).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return keywatch.Errorf(keywatch.ENOTFOUND, "key %s: not found", id)
		}
		if err != nil {
			return err
		}
		if old != "" && old != fingerprint {
			if _, err := tx.Exec(ctx, `INSERT INTO key_fingerprints (key_id, fingerprint, pos, retired_at)
				VALUES ($1, $2, (SELECT COALESCE(MAX(pos), 0) + 1 FROM key_fingerprints WHERE key_id = $1), $3)
				ON CONFLICT DO NOTHING`, id, old, schema.Micros(at)); err != nil {
				return err
			}
		}
		// A secret rotated back in is current again, not old.
		if _, err := tx.Exec(ctx, `DELETE FROM key_fingerprints WHERE key_id = $1 AND fingerprint = $2`, id, fingerprint); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE keys SET fingerprint = $1, last4 = $2, rotated = $3, updated_at = $4 WHERE id = $5`,
			fingerprint, last4, schema.Micros(at), s.now().UnixMicro(), id); err != nil {
			return err
		}
		return tx.audit("key.rotate", id, map[string]string{"fingerprint": fingerprint, "previous_fingerprint": old})
	})
	if err != nil {
		return fmt.Errorf("rotate key %s: %w", id, err)
	}
	return nil
}

// TouchKeys raises the last-used time of keys (id to time), never lowering
// it, in one statement; unknown ids are ignored. It is not audited.
func (s *Store) TouchKeys(ctx context.Context, use map[string]keywatch.KeyUse) error {
	if len(use) == 0 {
		return nil
	}
	ids := make([]string, 0, len(use))
	ts := make([]int64, 0, len(use))
	withUsage := false
	for id, u := range use {
		if !u.LastUsed.IsZero() {
			ids = append(ids, id)
			ts = append(ts, u.LastUsed.UnixMicro())
		}
		withUsage = withUsage || !u.KeyUsage.IsZero()
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("touch %d keys: %w", len(use), err)
	}
	defer tx.Rollback(ctx)
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE keys k SET last_used = v.t
			FROM unnest($1::text[], $2::bigint[]) AS v(id, t)
			WHERE k.id = v.id AND (k.last_used IS NULL OR k.last_used < v.t)`, ids, ts); err != nil {
			return fmt.Errorf("touch %d keys: %w", len(use), err)
		}
	}
	if withUsage {
		for _, id := range schema.SortedIDs(use) {
			u := use[id]
			if u.KeyUsage.IsZero() {
				continue
			}
			var have sql.NullString
			// FOR UPDATE OF k serialises concurrent merges of one key's usage.
			err := tx.QueryRow(ctx, `SELECT u.usage FROM keys k LEFT JOIN key_usage u ON u.key_id = k.id
				WHERE k.id = $1 FOR UPDATE OF k`, id).Scan(&have)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // not in the inventory
			}
			if err != nil {
				return fmt.Errorf("touch key %s: %w", id, err)
			}
			merged, changed, err := schema.MergeUsage(have, u.KeyUsage)
			if err != nil {
				return fmt.Errorf("touch key %s: %w", id, err)
			}
			if changed {
				if _, err := tx.Exec(ctx, `INSERT INTO key_usage (key_id, usage) VALUES ($1, $2)
					ON CONFLICT (key_id) DO UPDATE SET usage = excluded.usage`, id, merged); err != nil {
					return fmt.Errorf("touch key %s: %w", id, err)
				}
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("touch %d keys: %w", len(use), err)
	}
	return nil
}
