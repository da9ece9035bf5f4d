package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/store/schema"
)

// selectKeys selects schema.KeyColumns and the JSON array of old
// fingerprints, oldest first.
var selectKeys = "SELECT " + strings.Join(schema.KeyColumns, ", ") +
	", (SELECT json_group_array(fingerprint) FROM (SELECT fingerprint FROM key_fingerprints f" +
	" WHERE f.key_id = k.id ORDER BY pos) HAVING COUNT(*) > 0)" +
	", (SELECT usage FROM key_usage u WHERE u.key_id = k.id) FROM keys k"

// upsertKey keeps the secret-derived fields when the new record leaves them
// empty, and never lowers last_used.
var upsertKey = insertSQL("keys", schema.KeyColumns, schema.KeyUpsert)

// PutKeys inserts or replaces keys by id in one transaction, with one
// audit entry (action key.put) per key. Fingerprint, Last4 and
// OldFingerprints are kept when the new record leaves them empty;
// last_used is never lowered. A later duplicate id in keys wins.
func (s *Store) PutKeys(ctx context.Context, keys []keywatch.StoredKey, c keywatch.Change) error {
	keys = schema.Dedupe(keys)
	now := s.now()
	err := s.write(ctx, c, func(tx *writeTx) error {
		up, err := tx.PrepareContext(ctx, upsertKey)
		if err != nil {
			return err
		}
		defer up.Close()
		var del, ins *sql.Stmt
		for i := range keys {
			k := &keys[i]
			args, err := schema.KeyArgs(k, now)
			if err != nil {
				return err
			}
			if _, err := up.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("key %s: %w", k.ID, err)
			}
			if len(k.OldFingerprints) > 0 {
				if del == nil {
					if del, err = tx.PrepareContext(ctx, `DELETE FROM key_fingerprints WHERE key_id = ?`); err != nil {
						return err
					}
					defer del.Close()
					if ins, err = tx.PrepareContext(ctx, `INSERT INTO key_fingerprints (key_id, fingerprint, pos, retired_at)
						VALUES (?, ?, ?, NULL) ON CONFLICT DO NOTHING`); err != nil {
						return err
					}
					defer ins.Close()
				}
				if _, err := del.ExecContext(ctx, k.ID); err != nil {
					return fmt.Errorf("key %s: %w", k.ID, err)
				}
				for pos, fp := range k.OldFingerprints {
					if _, err := ins.ExecContext(ctx, k.ID, fp, pos+1); err != nil {
						return fmt.Errorf("key %s: %w", k.ID, err)
					}
				}
			}
			if err := tx.audit("key.put", k.ID, schema.KeyDetail(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d keys: %w", len(keys), err)
	}
	return nil
}

// Key returns the key with id, or an ENOTFOUND error.
func (s *Store) Key(ctx context.Context, id string) (*keywatch.StoredKey, error) {
	k, err := schema.ScanKey(s.r.QueryRowContext(ctx, selectKeys+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := s.r.QueryContext(ctx, selectKeys+where+" ORDER BY id"+schema.Limit(f.Limit), args...)
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
	k, err := schema.ScanKey(s.r.QueryRowContext(ctx, selectKeys+" WHERE fingerprint = ? ORDER BY id LIMIT 1", fp))
	if err == nil {
		return &k, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("find key by fingerprint %s: %w", fp, err)
	}
	k, err = schema.ScanKey(s.r.QueryRowContext(ctx, selectKeys+
		" WHERE id = (SELECT key_id FROM key_fingerprints WHERE fingerprint = ? ORDER BY key_id LIMIT 1)", fp))
	if errors.Is(err, sql.ErrNoRows) {
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
		err := tx.QueryRowContext(ctx, `SELECT status FROM keys WHERE id = ?`, id).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return keywatch.Errorf(keywatch.ENOTFOUND, "key %s: not found", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET status = ?, updated_at = ? WHERE id = ?`,
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
		err := tx.QueryRowContext(ctx, `SELECT fingerprint FROM keys WHERE id = ?`, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return keywatch.Errorf(keywatch.ENOTFOUND, "key %s: not found", id)
		}
		if err != nil {
			return err
		}
		if old != "" && old != fingerprint {
			if _, err := tx.ExecContext(ctx, `INSERT INTO key_fingerprints (key_id, fingerprint, pos, retired_at)
				VALUES (?, ?, (SELECT COALESCE(MAX(pos), 0) + 1 FROM key_fingerprints WHERE key_id = ?), ?)
				ON CONFLICT DO NOTHING`, id, old, id, schema.Micros(at)); err != nil {
				return err
			}
		}
		// A secret rotated back in is current again, not old.
		if _, err := tx.ExecContext(ctx, `DELETE FROM key_fingerprints WHERE key_id = ? AND fingerprint = ?`, id, fingerprint); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET fingerprint = ?, last4 = ?, rotated = ?, updated_at = ? WHERE id = ?`,
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
// it; unknown ids are ignored. It is not audited.
func (s *Store) TouchKeys(ctx context.Context, use map[string]keywatch.KeyUse) error {
	if len(use) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("touch %d keys: %w", len(use), err)
	}
	defer tx.Rollback()
	touch, err := tx.PrepareContext(ctx, `UPDATE keys SET last_used = ?1 WHERE id = ?2 AND (last_used IS NULL OR last_used < ?1)`)
	if err != nil {
		return fmt.Errorf("touch %d keys: %w", len(use), err)
	}
	defer touch.Close()
	for _, id := range schema.SortedIDs(use) {
		u := use[id]
		if !u.LastUsed.IsZero() {
			if _, err := touch.ExecContext(ctx, u.LastUsed.UnixMicro(), id); err != nil {
				return fmt.Errorf("touch key %s: %w", id, err)
			}
		}
		if u.KeyUsage.IsZero() {
			continue
		}
		var have sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT u.usage FROM keys k LEFT JOIN key_usage u ON u.key_id = k.id WHERE k.id = ?`, id).Scan(&have)
		if errors.Is(err, sql.ErrNoRows) {
			continue // not in the inventory
		}
		if err != nil {
			return fmt.Errorf("touch key %s: %w", id, err)
		}
		merged, changed, err := schema.MergeUsage(have, u.KeyUsage)
		if err != nil {
			return fmt.Errorf("touch key %s: %w", id, err)
		}
		if !changed {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO key_usage (key_id, usage) VALUES (?1, ?2)
			ON CONFLICT (key_id) DO UPDATE SET usage = excluded.usage`, id, merged); err != nil {
			return fmt.Errorf("touch key %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("touch %d keys: %w", len(use), err)
	}
	return nil
}
