package schema

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
)

// AlertColumns are the columns of the alerts table in AlertArgs order. The
// body column holds the whole alert as JSON; the others are copies of its
// fields for filtering.
var AlertColumns = []string{"id", "time", "key_id", "rule", "status", "service", "body"}

// NormalizeAlert returns a copy of a with times in UTC and an empty status
// read as open, as the store keeps it.
func NormalizeAlert(a *keywatch.Alert) keywatch.Alert {
	c := *a
	c.Time, c.DetectedAt, c.FirstSeen = utc(c.Time), utc(c.DetectedAt), utc(c.FirstSeen)
	if c.Status == "" {
		c.Status = keywatch.AlertOpen
	}
	if len(c.Actions) > 0 {
		c.Actions = append([]keywatch.Action(nil), c.Actions...)
		for i := range c.Actions {
			c.Actions[i].Time = utc(c.Actions[i].Time)
		}
	}
	return c
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// AlertArgs returns the column values of a (already normalised), in
// AlertColumns order.
func AlertArgs(a *keywatch.Alert) ([]any, error) {
	if strings.TrimSpace(a.ID) == "" {
		return nil, keywatch.Errorf(keywatch.EINVALID, "alert: empty id")
	}
	if err := CheckAlertStatus(a.Status); err != nil {
		return nil, fmt.Errorf("alert %s: %w", a.ID, err)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("alert %s: encode: %w", a.ID, err)
	}
	return []any{a.ID, Micros(a.Time), a.KeyID, a.Rule, string(a.Status), a.Service, string(body)}, nil
}

// DecodeAlert decodes an alert body column.
func DecodeAlert(body []byte) (*keywatch.Alert, error) {
	a := new(keywatch.Alert)
	if err := json.Unmarshal(body, a); err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	return a, nil
}

// AlertWhere returns the WHERE clause (with leading " WHERE", or "") and
// arguments for f; ph(n) writes the n-th placeholder (1-based).
func AlertWhere(f keywatch.AlertFilter, ph func(int) string) (string, []any) {
	var w where
	w.eq("key_id", f.KeyID, ph)
	w.eq("rule", f.Rule, ph)
	w.eq("service", f.Service, ph)
	w.eq("status", string(f.Status), ph)
	if !f.Since.IsZero() {
		w.add("time >= ", f.Since.UnixMicro(), ph)
	}
	if !f.Until.IsZero() {
		w.add("time < ", f.Until.UnixMicro(), ph)
	}
	return w.String(), w.args
}

// KeyWhere returns the WHERE clause and arguments for f, like AlertWhere.
// Filtering on the active status also matches keys stored without one.
func KeyWhere(f keywatch.KeyFilter, ph func(int) string) (string, []any) {
	var w where
	w.eq("service", f.Service, ph)
	w.eq("team", f.Team, ph)
	w.eq("owner", f.Owner, ph)
	w.eq("env", f.Env, ph)
	w.eq("provider", f.Provider, ph)
	w.eq("status", string(f.Status), ph)
	return w.String(), w.args
}

type where struct {
	conds []string
	args  []any
}

func (w *where) eq(col, v string, ph func(int) string) {
	if v != "" {
		w.add(col+" = ", v, ph)
	}
}

func (w *where) add(cond string, v any, ph func(int) string) {
	w.args = append(w.args, v)
	w.conds = append(w.conds, cond+ph(len(w.args)))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Limit returns a LIMIT clause for n, or "" when n <= 0.
func Limit(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", n)
}

// AuditColumns are the columns of the audit table in AuditArgs order.
var AuditColumns = []string{"seq", "time", "actor", "action", "subject", "reason", "detail", "prev_hash", "hash"}

// AuditArgs returns the column values of e, in AuditColumns order.
func AuditArgs(e *keywatch.AuditEntry) []any {
	var detail any
	if len(e.Detail) > 0 {
		detail = string(e.Detail)
	}
	return []any{e.Seq, e.Time.UnixMicro(), e.Actor, e.Action, e.Subject, e.Reason, detail, e.PrevHash, e.Hash}
}

// ScanAudit reads a row of AuditColumns.
func ScanAudit(s Scanner) (keywatch.AuditEntry, error) {
	var (
		e      keywatch.AuditEntry
		t      int64
		detail sql.NullString
	)
	if err := s.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Subject, &e.Reason, &detail, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	e.Time = time.UnixMicro(t).UTC()
	if detail.Valid {
		e.Detail = json.RawMessage(detail.String)
	}
	return e, nil
}

// Chain builds audit entries on the tail of the log. The caller holds the
// log's write lock (a transaction that serialises appends) from reading
// the tail until the entries are committed.
type Chain struct {
	Seq  int64  // last sequence number; 0 for an empty log
	Hash string // last hash; "" for an empty log
	Now  time.Time
}

// Next returns the entry after the tail, hashed, and advances the tail.
// detail is encoded as JSON (nil for none); it must never hold a secret.
func (ch *Chain) Next(action, subject string, detail any, c keywatch.Change) (keywatch.AuditEntry, error) {
	if strings.TrimSpace(action) == "" {
		return keywatch.AuditEntry{}, keywatch.Errorf(keywatch.EINVALID, "audit: empty action")
	}
	var raw json.RawMessage
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return keywatch.AuditEntry{}, keywatch.Errorf(keywatch.EINVALID, "audit %s %s: detail is not JSON: %v", action, subject, err)
		}
		if string(b) != "null" {
			raw = b
		}
	}
	e := keywatch.AuditEntry{
		Seq:      ch.Seq + 1,
		Time:     Truncate(ch.Now),
		Actor:    c.Actor,
		Action:   action,
		Subject:  subject,
		Reason:   c.Reason,
		Detail:   raw,
		PrevHash: ch.Hash,
	}
	e.Hash = e.ComputeHash()
	ch.Seq, ch.Hash = e.Seq, e.Hash
	return e, nil
}

// UpdateAlert decodes an alert body, sets its status, appends action (in
// UTC) when not nil, and returns the alert with the audit detail of the
// change: previous status and the action's kind and target.
func UpdateAlert(body []byte, s keywatch.AlertStatus, action *keywatch.Action) (*keywatch.Alert, map[string]string, error) {
	a, err := DecodeAlert(body)
	if err != nil {
		return nil, nil, err
	}
	detail := map[string]string{"status": string(s), "previous": string(a.Status)}
	a.Status = s
	if action != nil {
		act := *action
		act.Time = utc(act.Time)
		a.Actions = append(a.Actions, act)
		detail["action"] = act.Kind
		if act.Target != "" {
			detail["target"] = act.Target
		}
	}
	return a, detail, nil
}
