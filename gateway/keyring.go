package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/secret"
)

// ProviderKeywatch is the provider of keys the gateway issues. Only keys
// with this provider authenticate at the gateway, and only secrets with
// KeyPrefix are looked up: a provider key in the inventory never opens it.
const ProviderKeywatch = "keywatch"

// KeyPrefix starts every gateway key.
const KeyPrefix = "kwk_"

// NewKey returns a new gateway key: KeyPrefix and 32 random bytes,
// base64url without padding.
func NewKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Issue makes a new secret for key id and stores only its fingerprint: the
// key is created (provider keywatch) when absent, else rotated, so that the
// previous secret keeps working for the rotation grace period. tmpl gives
// the fields of a new key. The secret is returned once and never stored.
func Issue(ctx context.Context, s keywatch.KeyStore, pepper []byte, tmpl keywatch.Key, now time.Time, c keywatch.Change) (string, error) {
	if tmpl.ID == "" {
		return "", keywatch.Errorf(keywatch.EINVALID, "issue gateway key: no key id")
	}
	sec := NewKey()
	fp, last4 := secret.Fingerprint(pepper, []byte(sec)), secret.Last4([]byte(sec))
	cur, err := s.Key(ctx, tmpl.ID)
	switch {
	case keywatch.ErrorCode(err) == keywatch.ENOTFOUND:
		tmpl.Provider = ProviderKeywatch
		if tmpl.Created.IsZero() {
			tmpl.Created = now
		}
		tmpl.Rotated = now
		sk := keywatch.StoredKey{Key: tmpl, Fingerprint: fp, Last4: last4, UpdatedAt: now}
		if err := s.PutKeys(ctx, []keywatch.StoredKey{sk}, c); err != nil {
			return "", fmt.Errorf("issue gateway key %s: %w", tmpl.ID, err)
		}
		return sec, nil
	case err != nil:
		return "", fmt.Errorf("issue gateway key %s: %w", tmpl.ID, err)
	case cur.Provider != ProviderKeywatch:
		return "", keywatch.Errorf(keywatch.ECONFLICT,
			"issue gateway key %s: the inventory holds it as a %q key; issue gateway keys under their own id", tmpl.ID, cur.Provider)
	}
	if err := s.RotateKey(ctx, tmpl.ID, fp, last4, now, c); err != nil {
		return "", fmt.Errorf("issue gateway key %s: %w", tmpl.ID, err)
	}
	return sec, nil
}

// entry is one fingerprint the keyring accepts.
type entry struct {
	fp    string
	key   *keywatch.StoredKey
	until time.Time // zero: current secret; else the end of a rotated secret's grace
}

// keyring maps fingerprints of gateway keys to their inventory records. It
// is rebuilt whole from the store and swapped in under a lock; readers
// never see a half-built map.
type keyring struct {
	store  keywatch.KeyStore
	pepper []byte
	grace  time.Duration

	fpOnce sync.Once
	fper   *secret.Fingerprinter

	mu      sync.RWMutex
	byFP    map[string]entry
	byID    map[string]*keywatch.StoredKey
	loaded  time.Time // wall clock of the last load
	loadMu  sync.Mutex
	lastTry time.Time
}

// load rebuilds the keyring from the store.
func (r *keyring) load(ctx context.Context, now time.Time) error {
	keys, err := r.store.Keys(ctx, keywatch.KeyFilter{Provider: ProviderKeywatch})
	if err != nil {
		return fmt.Errorf("gateway: load keys: %w", err)
	}
	byFP := make(map[string]entry, len(keys))
	byID := make(map[string]*keywatch.StoredKey, len(keys))
	for i := range keys {
		k := &keys[i]
		byID[k.ID] = k
		if k.Fingerprint != "" {
			byFP[k.Fingerprint] = entry{fp: k.Fingerprint, key: k}
		}
		// The secret rotated away last keeps working for the grace period.
		if n := len(k.OldFingerprints); n > 0 && r.grace > 0 && !k.Rotated.IsZero() {
			old := k.OldFingerprints[n-1]
			if _, taken := byFP[old]; !taken {
				byFP[old] = entry{fp: old, key: k, until: k.Rotated.Add(r.grace)}
			}
		}
	}
	r.mu.Lock()
	r.byFP, r.byID, r.loaded = byFP, byID, now
	r.mu.Unlock()
	return nil
}

// reloadTimeout bounds the store read an unknown secret triggers.
const reloadTimeout = 5 * time.Second

// lookup authenticates a presented secret: it returns the key and whether
// the secret is accepted at now. Unknown secrets trigger a reload from the
// store at most once per second; when the caller may not block, lookup
// reports blocked instead, for the caller to ask again where it may.
func (r *keyring) lookup(ctx context.Context, sec string, now time.Time, mayBlock bool) (k *keywatch.StoredKey, fp string, ok, blocked bool) {
	fp = r.fingerprint(sec)
	if !strings.HasPrefix(sec, KeyPrefix) {
		return nil, fp, false, false
	}
	e, ok := r.get(fp)
	if !ok && !mayBlock && r.wouldReload(now) {
		return nil, fp, false, true
	}
	if !ok && r.reloadAllowed(now) {
		// Bounded: a store that hangs must not hold requests (fasthttp's
		// front has no request context to cancel them).
		lctx, cancel := context.WithTimeout(ctx, reloadTimeout)
		err := r.load(lctx, now)
		cancel()
		if err == nil {
			e, ok = r.get(fp)
		}
	}
	if !ok || !secret.Equal(e.fp, fp) || (!e.until.IsZero() && !now.Before(e.until)) {
		return nil, fp, false, false
	}
	return e.key, fp, true, false
}

// fingerprint returns the fingerprint of sec under the ring's pepper.
func (r *keyring) fingerprint(sec string) string {
	r.fpOnce.Do(func() { r.fper = secret.NewFingerprinter(r.pepper) })
	return r.fper.Fingerprint([]byte(sec))
}

func (r *keyring) get(fp string) (entry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.byFP[fp]
	return e, ok
}

// byKeyID returns the key with id, for token holders.
func (r *keyring) byKeyID(id string) (*keywatch.StoredKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.byID[id]
	return k, ok
}

// wouldReload reports whether reloadAllowed would allow a reload at now.
func (r *keyring) wouldReload(now time.Time) bool {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	return r.lastTry.IsZero() || now.Sub(r.lastTry) >= time.Second
}

func (r *keyring) reloadAllowed(now time.Time) bool {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if now.Sub(r.lastTry) < time.Second && !r.lastTry.IsZero() {
		return false
	}
	r.lastTry = now
	return true
}
