// Package schema is the one logical schema of keywatch's SQL stores and the
// row encoding both adapters (sqlite and postgres) share, so that a key, an
// alert or an audit entry reads back the same from either database.
//
// Conventions of the schema, identical in both dialects:
//
//   - Times are BIGINT Unix microseconds in UTC, NULL for the zero time. Both
//     databases then compare, order and round-trip them alike; stored times
//     keep microsecond precision.
//   - Lists, maps, quotas and on-call routes are JSON text, NULL when empty.
//   - Audit detail is TEXT, never a JSON column type: the hash chain covers
//     its exact bytes, which jsonb would rewrite.
package schema

import (
	"cmp"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
)

// Scanner is a database row: *sql.Row, *sql.Rows and pgx.Row all satisfy it.
type Scanner interface {
	Scan(dest ...any) error
}

// Micros returns t as Unix microseconds in UTC, or nil (SQL NULL) for the
// zero time.
func Micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// FromMicros is the inverse of Micros.
func FromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// Truncate returns t as the store keeps it: UTC, to the microsecond.
func Truncate(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// KeyColumns are the columns of the keys table in the order KeyArgs and
// ScanKey use. A select must follow them with two more columns: the JSON
// array of the key's old fingerprints (NULL when none), which is
// dialect-specific, and the key_usage JSON (NULL when none).
var KeyColumns = []string{
	"id", "provider", "name", "owner", "team", "service", "env", "oncall",
	"created", "expires", "rotated", "status", "models", "operations",
	"countries", "cidrs", "quotas", "labels", "provider_key_id",
	"fingerprint", "last4", "redacted", "last_used", "updated_at",
}

// KeyArgs returns the column values of k, in KeyColumns order, with
// updated_at set to now. An empty status is stored as active.
func KeyArgs(k *keywatch.StoredKey, now time.Time) ([]any, error) {
	if strings.TrimSpace(k.ID) == "" {
		return nil, keywatch.Errorf(keywatch.EINVALID, "key: empty id")
	}
	status, err := CheckKeyStatus(k.Status)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	var oncall, quotas any
	if !k.OnCall.IsZero() {
		if oncall, err = jsonText(k.OnCall); err != nil {
			return nil, err
		}
	}
	if !k.Quotas.IsZero() {
		if quotas, err = jsonText(k.Quotas); err != nil {
			return nil, err
		}
	}
	var cidrs []string
	for _, p := range k.CIDRs {
		cidrs = append(cidrs, p.String())
	}
	args := []any{
		k.ID, k.Provider, k.Name, k.Owner, k.Team, k.Service, k.Env, oncall,
		Micros(k.Created), Micros(k.Expires), Micros(k.Rotated), string(status),
		nil, nil, nil, nil, quotas, nil,
		k.ProviderKeyID, k.Fingerprint, k.Last4, k.Redacted,
		Micros(k.LastUsed), Micros(now),
	}
	for i, v := range []any{k.Models, k.Operations, k.Countries, cidrs} {
		if args[12+i], err = jsonList(v.([]string)); err != nil {
			return nil, err
		}
	}
	if len(k.Labels) > 0 {
		if args[17], err = jsonText(k.Labels); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// ScanKey reads a row of KeyColumns followed by the old-fingerprints JSON
// array and the key_usage JSON object.
func ScanKey(s Scanner) (keywatch.StoredKey, error) {
	var (
		k                                        keywatch.StoredKey
		status                                   string
		oncall, models, ops, countries, cidrs    sql.NullString
		quotas, labels, old, usage               sql.NullString
		created, expires, rotated, used, updated sql.NullInt64
	)
	err := s.Scan(&k.ID, &k.Provider, &k.Name, &k.Owner, &k.Team, &k.Service, &k.Env, &oncall,
		&created, &expires, &rotated, &status, &models, &ops, &countries, &cidrs, &quotas, &labels,
		&k.ProviderKeyID, &k.Fingerprint, &k.Last4, &k.Redacted, &used, &updated, &old, &usage)
	if err != nil {
		return k, err
	}
	k.Status = keywatch.KeyStatus(status)
	k.Created, k.Expires, k.Rotated = FromMicros(created), FromMicros(expires), FromMicros(rotated)
	k.LastUsed, k.UpdatedAt = FromMicros(used), FromMicros(updated)
	var prefixes []string
	for _, f := range []struct {
		src sql.NullString
		dst any
	}{
		{oncall, &k.OnCall}, {models, &k.Models}, {ops, &k.Operations},
		{countries, &k.Countries}, {cidrs, &prefixes}, {quotas, &k.Quotas},
		{labels, &k.Labels}, {old, &k.OldFingerprints}, {usage, &k.Usage},
	} {
		if f.src.Valid && f.src.String != "" {
			if err := json.Unmarshal([]byte(f.src.String), f.dst); err != nil {
				return k, fmt.Errorf("key %s: decode column: %w", k.ID, err)
			}
		}
	}
	for _, s := range prefixes {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return k, fmt.Errorf("key %s: decode cidr %q: %w", k.ID, s, err)
		}
		k.CIDRs = append(k.CIDRs, p)
	}
	return k, nil
}

// CheckKeyStatus validates s and returns it with the empty status read as
// active.
func CheckKeyStatus(s keywatch.KeyStatus) (keywatch.KeyStatus, error) {
	switch s {
	case "":
		return keywatch.KeyActive, nil
	case keywatch.KeyActive, keywatch.KeyClamped, keywatch.KeyDisabled, keywatch.KeyRevoked:
		return s, nil
	}
	return "", keywatch.Errorf(keywatch.EINVALID, "status %q is not one of active, clamped, disabled, revoked", s)
}

// StatusAction names the audit action of a key status change.
func StatusAction(s keywatch.KeyStatus) string {
	switch s {
	case keywatch.KeyActive:
		return "key.enable"
	case keywatch.KeyClamped:
		return "key.clamp"
	case keywatch.KeyDisabled:
		return "key.disable"
	case keywatch.KeyRevoked:
		return "key.revoke"
	}
	return "key.status"
}

// CheckAlertStatus validates an alert status.
func CheckAlertStatus(s keywatch.AlertStatus) error {
	switch s {
	case keywatch.AlertOpen, keywatch.AlertAcknowledged, keywatch.AlertConfirmed,
		keywatch.AlertFalsePositive, keywatch.AlertResolved:
		return nil
	}
	return keywatch.Errorf(keywatch.EINVALID,
		"alert status %q is not one of open, acknowledged, confirmed, false_positive, resolved", s)
}

func jsonText(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func jsonList(l []string) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	return jsonText(l)
}

// Dedupe returns keys with later duplicates of an id replacing earlier
// ones, in first-seen order, so that one batch upserts each id once.
func Dedupe(keys []keywatch.StoredKey) []keywatch.StoredKey {
	at := make(map[string]int, len(keys))
	out := make([]keywatch.StoredKey, 0, len(keys))
	for _, k := range keys {
		if i, ok := at[k.ID]; ok {
			out[i] = k
			continue
		}
		at[k.ID] = len(out)
		out = append(out, k)
	}
	return out
}

// Migration is one numbered schema change.
type Migration struct {
	Version int64
	Name    string // file name, e.g. 0001_init.sql
	SQL     string
}

// Dialect is a store's SQL dialect, for the few types that differ.
type Dialect int

// Dialects.
const (
	SQLite Dialect = iota
	Postgres
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the schema's migrations for d: one set of SQL files
// for both stores, with {{blob}} written as the dialect's binary type.
func Migrations(d Dialect) ([]Migration, error) {
	ms, err := LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	blob := "BLOB"
	if d == Postgres {
		blob = "BYTEA"
	}
	for i := range ms {
		ms[i].SQL = strings.ReplaceAll(ms[i].SQL, "{{blob}}", blob)
	}
	return ms, nil
}

// LoadMigrations reads the *.sql files of dir in fsys, each named
// NNNN_description.sql, ordered by number. Numbers must be unique and
// positive.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s: same version", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// KeyUpsert is the ON CONFLICT clause that follows an INSERT of
// KeyColumns into keys, in both dialects: it replaces the record but keeps
// the secret-derived fingerprint and last 4 when the new record leaves them
// empty, and never lowers last_used.
const KeyUpsert = ` ON CONFLICT (id) DO UPDATE SET
	provider = excluded.provider, name = excluded.name, owner = excluded.owner,
	team = excluded.team, service = excluded.service, env = excluded.env,
	oncall = excluded.oncall, created = excluded.created, expires = excluded.expires,
	rotated = excluded.rotated, status = excluded.status, models = excluded.models,
	operations = excluded.operations, countries = excluded.countries,
	cidrs = excluded.cidrs, quotas = excluded.quotas, labels = excluded.labels,
	provider_key_id = excluded.provider_key_id, redacted = excluded.redacted,
	fingerprint = CASE WHEN excluded.fingerprint = '' THEN keys.fingerprint ELSE excluded.fingerprint END,
	last4 = CASE WHEN excluded.last4 = '' THEN keys.last4 ELSE excluded.last4 END,
	last_used = CASE WHEN keys.last_used IS NULL OR keys.last_used < excluded.last_used
		THEN excluded.last_used ELSE keys.last_used END,
	updated_at = excluded.updated_at`

// KeyDetail is the audit detail of a stored key: what identifies it,
// never a secret.
func KeyDetail(k *keywatch.StoredKey) any {
	st := k.Status
	if st == "" {
		st = keywatch.KeyActive
	}
	return keyDetail{Fingerprint: k.Fingerprint, Owner: k.Owner, Service: k.Service, Status: string(st)}
}

type keyDetail struct {
	Fingerprint string `json:"fingerprint,omitempty"`
	Owner       string `json:"owner,omitempty"`
	Service     string `json:"service,omitempty"`
	Status      string `json:"status"`
}

// MergeUsage merges u into the stored usage JSON have (NULL when none) and
// returns the JSON to store and whether it changed.
func MergeUsage(have sql.NullString, u keywatch.KeyUsage) (string, bool, error) {
	var cur keywatch.KeyUsage
	if have.Valid && have.String != "" {
		if err := json.Unmarshal([]byte(have.String), &cur); err != nil {
			return "", false, fmt.Errorf("decode usage: %w", err)
		}
	}
	if !cur.Merge(u) {
		return have.String, false, nil
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return "", false, fmt.Errorf("encode usage: %w", err)
	}
	return string(b), true, nil
}

// SortedIDs returns the keys of m in order, so that transactions touching
// several rows take their locks in one order.
func SortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// TokenColumns are the columns ScanToken reads.
const TokenColumns = "id, name, role, created, revoked"

// CheckToken validates a token about to be stored.
func CheckToken(t *keywatch.Token, hash string) error {
	switch {
	case t.ID == "":
		return keywatch.Errorf(keywatch.EINVALID, "token: empty id")
	case !t.Role.Valid():
		return keywatch.Errorf(keywatch.EINVALID, "token %s: role %q is not one of ingest, viewer, responder, admin", t.ID, t.Role)
	case len(hash) != 64:
		return keywatch.Errorf(keywatch.EINVALID, "token %s: hash must be 64 hex digits", t.ID)
	}
	return nil
}

// ScanToken reads a row of TokenColumns.
func ScanToken(s Scanner) (*keywatch.Token, error) {
	var (
		t       keywatch.Token
		role    string
		created int64
		revoked sql.NullInt64
	)
	if err := s.Scan(&t.ID, &t.Name, &role, &created, &revoked); err != nil {
		return nil, err
	}
	t.Role = keywatch.Role(role)
	t.Created = time.UnixMicro(created).UTC()
	t.Revoked = revoked.Valid
	return &t, nil
}
