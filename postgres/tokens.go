package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/store/schema"
)

// CreateToken stores t with the hash of its secret, audited as token.create.
func (s *Store) CreateToken(ctx context.Context, t keywatch.Token, hash string, c keywatch.Change) error {
	if err := schema.CheckToken(&t, hash); err != nil {
		return err
	}
	err := s.write(ctx, c, func(tx *writeTx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tokens (id, name, role, hash, created) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, t.Name, string(t.Role), hash, t.Created.UnixMicro()); err != nil {
			return err
		}
		return tx.audit("token.create", t.ID, map[string]any{"name": t.Name, "role": t.Role})
	})
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// TokenByHash returns the token whose secret hashes to hash, or ENOTFOUND.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*keywatch.Token, error) {
	t, err := schema.ScanToken(s.pool.QueryRow(ctx, `SELECT `+schema.TokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, keywatch.Errorf(keywatch.ENOTFOUND, "token: not found")
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	return t, nil
}

// Tokens lists tokens, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]keywatch.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+schema.TokenColumns+` FROM tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []keywatch.Token
	for rows.Next() {
		t, err := schema.ScanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token, audited as token.revoke.
func (s *Store) RevokeToken(ctx context.Context, id string, c keywatch.Change) error {
	err := s.write(ctx, c, func(tx *writeTx) error {
		tag, err := tx.Exec(ctx, `UPDATE tokens SET revoked = $1 WHERE id = $2 AND revoked IS NULL`, s.now().UnixMicro(), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM tokens WHERE id = $1`, id).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
				return keywatch.Errorf(keywatch.ENOTFOUND, "token %s: not found", id)
			}
			return nil // already revoked: idempotent
		}
		return tx.audit("token.revoke", id, nil)
	})
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}
