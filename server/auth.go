package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keywatch/keywatch"
)

// tokenPrefix marks keywatch's own API tokens, so that scanners (ours
// included) can recognise a leaked one.
const tokenPrefix = "kwt_"

// NewToken makes a token of role: its record, the secret to show once,
// and the hash to store.
func NewToken(name string, role keywatch.Role, now time.Time) (keywatch.Token, string, string, error) {
	if !role.Valid() {
		return keywatch.Token{}, "", "", keywatch.Errorf(keywatch.EINVALID, "role %q: want ingest, viewer, responder or admin", role)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return keywatch.Token{}, "", "", err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return keywatch.Token{}, "", "", err
	}
	t := keywatch.Token{ID: "tok_" + hex.EncodeToString(id[:]), Name: name, Role: role, Created: now.UTC().Truncate(time.Microsecond)}
	return t, secret, HashToken(secret), nil
}

// HashToken returns the hex SHA-256 of a token secret, as the store keeps
// it. Tokens are 256-bit random, so an unsalted fast hash is enough: there
// is nothing to brute-force.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// authenticator checks bearer tokens against the store, caching answers
// briefly so that ingest does not hit the database on every request; a
// revoked token stops working within cacheTTL.
type authenticator struct {
	store keywatch.TokenStore
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedToken // by hash
}

type cachedToken struct {
	tok     *keywatch.Token // nil: unknown token
	expires time.Time
}

const cacheTTL = 5 * time.Second

// authenticate returns the token presented in r, or an error coded
// EUNAUTHORIZED.
func (a *authenticator) authenticate(ctx context.Context, r *http.Request) (*keywatch.Token, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, keywatch.Errorf(keywatch.EUNAUTHORIZED, "missing bearer token")
	}
	hash := HashToken(strings.TrimSpace(secret))
	now := a.now()
	a.mu.Lock()
	c, hit := a.cache[hash]
	a.mu.Unlock()
	if !hit || now.After(c.expires) {
		tok, err := a.store.TokenByHash(ctx, hash)
		if err != nil && keywatch.ErrorCode(err) != keywatch.ENOTFOUND {
			return nil, err
		}
		c = cachedToken{tok: tok, expires: now.Add(cacheTTL)}
		a.mu.Lock()
		if len(a.cache) > 10000 {
			clear(a.cache) // bound: unknown tokens from a scanner must not grow it
		}
		a.cache[hash] = c
		a.mu.Unlock()
	}
	// The lookup was by hash; compare once more in constant time so that
	// no code path depends on secret bytes.
	if c.tok == nil || c.tok.Revoked || subtle.ConstantTimeCompare([]byte(hash), []byte(HashToken(strings.TrimSpace(secret)))) != 1 {
		return nil, keywatch.Errorf(keywatch.EUNAUTHORIZED, "invalid or revoked token")
	}
	return c.tok, nil
}

type tokenKey struct{}

// tokenFrom returns the authenticated token of a request's context.
func tokenFrom(ctx context.Context) *keywatch.Token {
	t, _ := ctx.Value(tokenKey{}).(*keywatch.Token)
	return t
}
