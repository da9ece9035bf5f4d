package keywatch

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Store is keywatch's durable state: the key inventory, alerts, the audit
// log and profile snapshots. Two adapters implement it with one schema:
// sqlite (embedded default) and postgres (several instances); storetest is
// the conformance suite both pass. Implementations are safe for concurrent
// use.
type Store interface {
	KeyStore
	AlertStore
	AuditLog
	SnapshotStore
	TokenStore
	Close() error
}

// Change says who makes a change and why; every mutation of a Store takes
// one and records it in the audit log in the same transaction.
type Change struct {
	Actor  string // user, token name or "keywatch" for automatic actions
	Reason string
}

// StoredKey is a key as the store keeps it: the inventory record plus what
// is derived from its secret. The secret itself is never stored.
type StoredKey struct {
	Key
	ProviderKeyID string    `json:"provider_key_id,omitempty"` // the provider's own id (key_abc, apikey_01...)
	Fingerprint   string    `json:"fingerprint,omitempty"`     // HMAC-SHA256 of the secret under the local pepper, hex
	Last4         string    `json:"last4,omitempty"`           // last 4 characters of the secret, for display
	Redacted      string    `json:"redacted,omitempty"`        // the provider's redacted form (sk-...abcd) when no secret is known
	LastUsed      time.Time `json:"last_used,omitzero"`
	// OldFingerprints are the fingerprints of secrets rotated away, kept so
	// that a leaked old secret still maps to this key.
	OldFingerprints []string  `json:"old_fingerprints,omitempty"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
	// Usage is what detection has observed of the key.
	Usage KeyUsage `json:"usage,omitzero"`
}

// KeyUse is what one run observed of one key.
type KeyUse struct {
	LastUsed time.Time
	KeyUsage
}

// MaxUsageItems bounds each list of a KeyUsage: past it, new items are
// dropped, so a key used with ever-new models cannot grow without limit.
const MaxUsageItems = 32

// Merge adds the items of o missing from u, keeping each list sorted and
// bounded by MaxUsageItems, and reports whether u changed.
func (u *KeyUsage) Merge(o KeyUsage) bool {
	changed := false
	for _, p := range []struct {
		dst *[]string
		src []string
	}{
		{&u.Envs, o.Envs}, {&u.Models, o.Models}, {&u.Operations, o.Operations},
	} {
		for _, v := range p.src {
			if v == "" || slices.Contains(*p.dst, v) || len(*p.dst) >= MaxUsageItems {
				continue
			}
			*p.dst = append(*p.dst, v)
			changed = true
		}
		slices.Sort(*p.dst)
	}
	return changed
}

// IsZero reports whether nothing was observed.
func (u KeyUsage) IsZero() bool { return len(u.Envs)+len(u.Models)+len(u.Operations) == 0 }

// KeyUsage is what replay or serve observed of a key's use: the
// environments it was seen in and the models and operations it called.
// Audits compare it with the declared record.
type KeyUsage struct {
	Envs       []string `json:"envs,omitempty"`
	Models     []string `json:"models,omitempty"`
	Operations []string `json:"operations,omitempty"`
}

// KeyFilter selects keys; zero fields match everything.
type KeyFilter struct {
	Service, Team, Owner, Env, Provider string
	Status                              KeyStatus
	Limit                               int // 0: no limit
}

// KeyStore holds the inventory.
type KeyStore interface {
	// PutKeys inserts or replaces keys by id, all in one transaction. Fields
	// derived from secrets (fingerprints, last 4) are kept when the new
	// record leaves them empty.
	PutKeys(ctx context.Context, keys []StoredKey, c Change) error
	// Key returns the key with id, or an ENOTFOUND *Error.
	Key(ctx context.Context, id string) (*StoredKey, error)
	// Keys returns the keys that match f, ordered by id.
	Keys(ctx context.Context, f KeyFilter) ([]StoredKey, error)
	// KeyByFingerprint finds the key whose current or former secret has
	// fingerprint fp; current reports which. ENOTFOUND when none.
	KeyByFingerprint(ctx context.Context, fp string) (k *StoredKey, current bool, err error)
	// SetKeyStatus changes a key's status.
	SetKeyStatus(ctx context.Context, id string, s KeyStatus, c Change) error
	// RotateKey records a new secret's fingerprint and last 4 characters;
	// the old fingerprint stays findable.
	RotateKey(ctx context.Context, id, fingerprint, last4 string, at time.Time, c Change) error
	// TouchKeys records what was observed of keys' use (id to use): it
	// raises last-used times (never lowers them) and merges the
	// environments, models and operations seen into each key's Usage. Ids
	// not in the inventory are ignored. It is not audited, being
	// observation rather than change.
	TouchKeys(ctx context.Context, use map[string]KeyUse) error
}

// AlertFilter selects alerts; zero fields match everything.
type AlertFilter struct {
	KeyID, Rule, Service string
	Status               AlertStatus
	Since, Until         time.Time // on alert time
	Limit                int
}

// AlertStore holds alerts.
type AlertStore interface {
	// PutAlerts inserts alerts, ignoring ids already stored.
	PutAlerts(ctx context.Context, alerts []*Alert) error
	// Alert returns the alert with id, or ENOTFOUND.
	Alert(ctx context.Context, id string) (*Alert, error)
	// Alerts returns matching alerts, newest first.
	Alerts(ctx context.Context, f AlertFilter) ([]*Alert, error)
	// UpdateAlert sets an alert's status and appends action when not nil.
	UpdateAlert(ctx context.Context, id string, s AlertStatus, action *Action, c Change) error
}

// AuditEntry is one record of the append-only audit log. Entries are
// hash-chained: Hash covers the entry's fields and PrevHash, so editing or
// removing an entry breaks every hash after it.
type AuditEntry struct {
	Seq      int64           `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`  // e.g. key.import, key.disable, alert.confirm
	Subject  string          `json:"subject"` // what it acted on: a key or alert id
	Reason   string          `json:"reason,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"` // never holds a secret
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// AuditLog is the append-only, hash-chained audit log.
type AuditLog interface {
	// Audit returns entries with Seq > after, oldest first, at most limit
	// (0: all).
	Audit(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	// AppendAudit records an entry that is not a side effect of another
	// store call (e.g. a containment action taken elsewhere).
	AppendAudit(ctx context.Context, action, subject string, detail any, c Change) error
}

// SnapshotStore holds opaque profile snapshots by name.
type SnapshotStore interface {
	PutSnapshot(ctx context.Context, name string, data []byte) error
	// Snapshot returns the named snapshot, or ENOTFOUND.
	Snapshot(ctx context.Context, name string) ([]byte, error)
}

// Role is what an API token may do. Roles are ordered viewer < responder <
// admin; ingest is apart: it may only send usage.
type Role string

// Roles of API tokens.
const (
	RoleIngest    Role = "ingest"    // POST usage events
	RoleViewer    Role = "viewer"    // read alerts and keys
	RoleResponder Role = "responder" // viewer, plus acknowledge, confirm, resolve
	RoleAdmin     Role = "admin"     // everything, including tokens and ingest
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleIngest, RoleViewer, RoleResponder, RoleAdmin:
		return true
	}
	return false
}

// Allows reports whether a token of role r may do what needs role need.
func (r Role) Allows(need Role) bool {
	rank := map[Role]int{RoleViewer: 1, RoleResponder: 2, RoleAdmin: 3}
	switch {
	case r == RoleAdmin:
		return true
	case need == RoleIngest || r == RoleIngest:
		return r == need
	}
	return rank[r] >= rank[need]
}

// Token is an API credential of keywatch itself. The store keeps only the
// SHA-256 of the token's secret; the secret is shown once, at creation.
type Token struct {
	ID      string    `json:"id"` // public id, tok_...
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
	Revoked bool      `json:"revoked"`
}

// TokenStore holds API tokens.
type TokenStore interface {
	// CreateToken stores t with the hash of its secret (audited).
	CreateToken(ctx context.Context, t Token, hash string, c Change) error
	// TokenByHash returns the token whose secret hashes to hash, revoked or
	// not, or ENOTFOUND.
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	// Tokens lists tokens, oldest first.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes a token by id (audited); ENOTFOUND when absent.
	RevokeToken(ctx context.Context, id string, c Change) error
}
