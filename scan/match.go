package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keywatch/keywatch"
)

// MatchKind says how a finding maps to an inventory key.
type MatchKind string

// Match kinds. An exact match compares fingerprints and is certain; a
// probable match compares the provider's redacted form (or the last 4
// characters) of a key imported without its secret, and may name several
// candidates.
const (
	MatchCurrent  MatchKind = "current"  // the key's current secret
	MatchRotated  MatchKind = "rotated"  // a secret rotated away from the key
	MatchProbable MatchKind = "probable" // same provider and redacted form
)

// Match is one inventory key a finding maps to.
type Match struct {
	KeyID         string             `json:"key_id"`
	Kind          MatchKind          `json:"match"`
	Provider      string             `json:"provider,omitempty"`
	ProviderKeyID string             `json:"provider_key_id,omitempty"`
	Owner         string             `json:"owner,omitempty"`
	Team          string             `json:"team,omitempty"`
	Service       string             `json:"service,omitempty"`
	Env           string             `json:"env,omitempty"`
	Status        keywatch.KeyStatus `json:"status,omitempty"`
}

// Exact reports whether the match compared fingerprints.
func (m Match) Exact() bool { return m.Kind == MatchCurrent || m.Kind == MatchRotated }

// Inventory is what a Matcher reads of a key store.
type Inventory interface {
	KeyByFingerprint(ctx context.Context, fp string) (k *keywatch.StoredKey, current bool, err error)
	Keys(ctx context.Context, f keywatch.KeyFilter) ([]keywatch.StoredKey, error)
}

// Matcher maps findings to inventory keys. NewMatcher reads the inventory
// once and keeps a compact index of the keys known only by a redacted form
// (id, provider, prefix and suffix: a few dozen bytes a key); exact matches
// ask the store by fingerprint, once per distinct fingerprint. A Matcher is
// not safe for concurrent use.
type Matcher struct {
	inv     Inventory
	byLast4 map[string][]redactedKey // by the last 4 characters of the suffix
	exact   map[string][]Match       // cache by fingerprint
}

// redactedKey is a key known by its redacted form: the secret starts with
// prefix and ends with suffix.
type redactedKey struct {
	m              Match
	prefix, suffix string
}

// NewMatcher returns a Matcher over inv, loading the index of keys that
// have no fingerprint but a redacted form or last 4 characters. Keys that
// show fewer than 4 trailing characters are left out: too many secrets
// would fit them.
func NewMatcher(ctx context.Context, inv Inventory) (*Matcher, error) {
	keys, err := inv.Keys(ctx, keywatch.KeyFilter{})
	if err != nil {
		return nil, fmt.Errorf("load inventory for matching: %w", err)
	}
	m := &Matcher{inv: inv, byLast4: map[string][]redactedKey{}, exact: map[string][]Match{}}
	for i := range keys {
		k := &keys[i]
		if k.Fingerprint != "" {
			continue // matched exactly, by fingerprint
		}
		prefix, suffix, ok := ParseRedacted(k.Redacted)
		if !ok {
			prefix, suffix = "", k.Last4
		}
		if len(suffix) < 4 {
			continue // too little to tell keys apart
		}
		l4 := suffix[len(suffix)-4:]
		m.byLast4[l4] = append(m.byLast4[l4], redactedKey{m: matchOf(k, MatchProbable), prefix: prefix, suffix: suffix})
	}
	return m, nil
}

func matchOf(k *keywatch.StoredKey, kind MatchKind) Match {
	return Match{
		KeyID: k.ID, Kind: kind, Provider: k.Provider, ProviderKeyID: k.ProviderKeyID,
		Owner: k.Owner, Team: k.Team, Service: k.Service, Env: k.Env, Status: k.Status,
	}
}

// ParseRedacted splits a provider's redacted form of a secret, such as
// "sk-...abcd", "sk-proj-abc…wxyz" or "sk-ant-api03-****wxyz", into the
// characters shown before and after the elision. It reports false when s
// has no elision.
func ParseRedacted(s string) (prefix, suffix string, ok bool) {
	for _, sep := range []string{"...", "…", "***"} {
		i := strings.Index(s, sep)
		if i < 0 {
			continue
		}
		j := i + len(sep)
		for j < len(s) && (s[j] == '.' || s[j] == '*') {
			j++
		}
		return s[:i], s[j:], true
	}
	return "", "", false
}

// Match returns the inventory keys f maps to, fp being f's fingerprint:
// the key whose current or rotated-away secret has that fingerprint, or
// else every key of the same provider whose redacted form fits the secret
// (probable matches, sorted by key id; more than one is ambiguous). It
// returns nil when nothing matches.
func (m *Matcher) Match(ctx context.Context, f *Finding, fp string) ([]Match, error) {
	if ms, ok := m.exact[fp]; ok {
		if ms != nil {
			return ms, nil
		}
	} else {
		k, current, err := m.inv.KeyByFingerprint(ctx, fp)
		switch {
		case err == nil:
			kind := MatchRotated
			if current {
				kind = MatchCurrent
			}
			ms = []Match{matchOf(k, kind)}
			m.exact[fp] = ms
			return ms, nil
		case keywatch.ErrorCode(err) == keywatch.ENOTFOUND:
			m.exact[fp] = nil
		case errors.Is(err, context.Canceled):
			return nil, err
		default:
			return nil, fmt.Errorf("match finding %s: %w", f.Redacted, err)
		}
	}
	return m.probable(f), nil
}

// probable returns the redacted-form candidates for f.
func (m *Matcher) probable(f *Finding) []Match {
	sec := f.secret
	var out []Match
	try := func(rk redactedKey) {
		if rk.m.Provider != "" && f.Provider != "" && rk.m.Provider != f.Provider {
			return
		}
		if len(rk.prefix)+len(rk.suffix) > len(sec) ||
			!bytes.HasPrefix(sec, []byte(rk.prefix)) || !bytes.HasSuffix(sec, []byte(rk.suffix)) {
			return
		}
		out = append(out, rk.m)
	}
	if len(sec) >= 4 {
		for _, rk := range m.byLast4[string(sec[len(sec)-4:])] {
			try(rk)
		}
	}
	slices.SortFunc(out, func(a, b Match) int { return strings.Compare(a.KeyID, b.KeyID) })
	return out
}
