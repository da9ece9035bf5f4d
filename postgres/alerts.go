package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/store/schema"
)

// PutAlerts inserts alerts in one pipelined batch, ignoring ids already
// stored. Times are kept in UTC and an empty status is stored as open.
func (s *Store) PutAlerts(ctx context.Context, alerts []*keywatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	q := insertSQL("alerts", schema.AlertColumns, " ON CONFLICT (id) DO NOTHING")
	var b pgx.Batch
	for _, a := range alerts {
		if a == nil {
			return keywatch.Errorf(keywatch.EINVALID, "put alerts: nil alert")
		}
		n := schema.NormalizeAlert(a)
		args, err := schema.AlertArgs(&n)
		if err != nil {
			return fmt.Errorf("put alerts: %w", err)
		}
		b.Queue(q, args...)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("put %d alerts: %w", len(alerts), err)
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("put %d alerts: %w", len(alerts), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("put %d alerts: %w", len(alerts), err)
	}
	return nil
}

// Alert returns the alert with id, or ENOTFOUND.
func (s *Store) Alert(ctx context.Context, id string) (*keywatch.Alert, error) {
	var body string
	err := s.pool.QueryRow(ctx, `SELECT body FROM alerts WHERE id = $1`, id).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, keywatch.Errorf(keywatch.ENOTFOUND, "alert %s: not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read alert %s: %w", id, err)
	}
	a, err := schema.DecodeAlert([]byte(body))
	if err != nil {
		return nil, fmt.Errorf("read alert %s: %w", id, err)
	}
	return a, nil
}

// Alerts returns alerts that match f, newest first (by alert time, then id
// descending). Since is inclusive and Until exclusive.
func (s *Store) Alerts(ctx context.Context, f keywatch.AlertFilter) ([]*keywatch.Alert, error) {
	where, args := schema.AlertWhere(f, ph)
	rows, err := s.pool.Query(ctx, "SELECT body FROM alerts"+where+" ORDER BY time DESC, id DESC"+schema.Limit(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []*keywatch.Alert
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		a, err := schema.DecodeAlert([]byte(body))
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// UpdateAlert sets an alert's status and appends action when not nil,
// audited as alert.<status>.
func (s *Store) UpdateAlert(ctx context.Context, id string, st keywatch.AlertStatus, action *keywatch.Action, c keywatch.Change) error {
	if err := schema.CheckAlertStatus(st); err != nil {
		return fmt.Errorf("update alert %s: %w", id, err)
	}
	err := s.write(ctx, c, func(tx *writeTx) error {
		var body string
		err := tx.QueryRow(ctx, `SELECT body FROM alerts WHERE id = $1 FOR UPDATE`, id).Scan(&body)
		if errors.Is(err, pgx.ErrNoRows) {
			return keywatch.Errorf(keywatch.ENOTFOUND, "alert %s: not found", id)
		}
		if err != nil {
			return err
		}
		a, detail, err := schema.UpdateAlert([]byte(body), st, action)
		if err != nil {
			return err
		}
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE alerts SET status = $1, body = $2 WHERE id = $3`, string(st), string(b), id); err != nil {
			return err
		}
		return tx.audit("alert."+string(st), id, detail)
	})
	if err != nil {
		return fmt.Errorf("update alert %s: %w", id, err)
	}
	return nil
}
