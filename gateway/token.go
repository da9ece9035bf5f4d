package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/keywatch/keywatch"
)

// TokenPrefix starts every short-lived gateway token.
const TokenPrefix = "kwt_"

// tokenIssuer signs and verifies gateway tokens: kwt_ + base64url of
// (8-byte expiry in Unix seconds, key id) + "." + base64url of the
// HMAC-SHA256 of that payload under the signing key. Verifying needs no
// store lookup; the key's record (models, quotas, status) is applied from
// the keyring and State on each request as for the key itself.
type tokenIssuer struct {
	key  []byte
	ttl  time.Duration
	oidc *oidcVerifier
}

func newTokenIssuer(c TokenConfig, getenv func(string) string) (*tokenIssuer, error) {
	t := &tokenIssuer{ttl: c.TTL}
	if c.SigningKeyEnv != "" {
		t.key = []byte(getenv(c.SigningKeyEnv))
		if len(t.key) < 32 {
			return nil, fmt.Errorf("token: %s must hold at least 32 bytes", c.SigningKeyEnv)
		}
	} else {
		t.key = make([]byte, 32)
		rand.Read(t.key)
	}
	if c.OIDC.Issuer != "" {
		t.oidc = &oidcVerifier{cfg: c.OIDC, client: &http.Client{Timeout: 5 * time.Second}}
	}
	return t, nil
}

func (t *tokenIssuer) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write(payload)
	return m.Sum(nil)
}

// sign returns a token for key id valid until exp.
func (t *tokenIssuer) sign(id string, exp time.Time) string {
	payload := binary.BigEndian.AppendUint64(nil, uint64(exp.Unix()))
	payload = append(payload, id...)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(t.mac(payload))
}

// verify checks a token's signature and returns its key id and expiry.
func (t *tokenIssuer) verify(tok string) (id string, exp time.Time, ok bool) {
	p, s, found := strings.Cut(strings.TrimPrefix(tok, TokenPrefix), ".")
	if !found {
		return "", time.Time{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(s)
	if err1 != nil || err2 != nil || len(payload) < 9 || !hmac.Equal(sig, t.mac(payload)) {
		return "", time.Time{}, false
	}
	return string(payload[8:]), time.Unix(int64(binary.BigEndian.Uint64(payload)), 0), true
}

// serveToken answers POST /v1/gateway/token: the caller presents a
// keywatch key, or an OIDC ID token when configured, and gets a token for
// the same key valid for Config.Token.TTL. The key must pass what a
// request would, live status included, so that containment on any
// instance also stops minting; minting consumes no quota.
func (g *Gateway) serveToken(x exchange, ev *keywatch.Event) {
	now := g.now()
	ev.Operation = "token"
	ref := func() *refusal {
		if x.method() != http.MethodPost {
			return &errUnknownURL
		}
		cred := credential(x)
		var k *keywatch.StoredKey
		switch {
		case cred == "":
			ev.KeyID = "unauthenticated"
			return &errMissingKey
		case strings.HasPrefix(cred, KeyPrefix):
			var ref *refusal
			if k, ref = g.authenticate(x, ev, now); ref != nil {
				return ref
			}
		case g.tokens.oidc != nil && strings.Count(cred, ".") == 2:
			id, err := g.tokens.oidc.verify(x.context(), cred, now)
			if err != nil {
				ev.KeyID = "unauthenticated"
				g.log.Info("gateway OIDC token refused", "err", err)
				return &errInvalidKey
			}
			var ok bool
			if k, ok = g.ring.byKeyID(id); !ok {
				ev.KeyID = id
				return &errInvalidKey
			}
			ev.KeyID = id
			switch { // as authenticate does for the key itself
			case k.Status == keywatch.KeyRevoked:
				return &errRevokedKey
			case k.Status == keywatch.KeyDisabled:
				return &errDisabledKey
			case !k.Expires.IsZero() && !now.Before(k.Expires):
				return &errExpiredKey
			}
		default: // a token may not mint tokens: expiry must mean something
			ev.KeyID = "unauthenticated"
			return &errInvalidKey
		}
		ev.KeyID, ev.Service, ev.Env = k.ID, k.Service, k.Env
		if _, err := x.body(g.cfg.MaxBody); errors.Is(err, errBodyTooLarge) { // the body is not used
			return &errTooLarge
		}
		if ref := g.authorize(k, ev); ref != nil {
			return ref
		}
		if ref := g.liveStatus(x.context(), k.ID); ref != nil {
			return ref
		}
		exp := now.Add(g.tokens.ttl)
		if !k.Expires.IsZero() && k.Expires.Before(exp) {
			exp = k.Expires
		}
		b, _ := json.Marshal(map[string]any{"token": g.tokens.sign(k.ID, exp), "token_type": "Bearer",
			"expires_at": exp.UTC().Format(time.RFC3339), "expires_in": int(exp.Sub(now).Seconds()), "key_id": k.ID})
		x.setHeader("Cache-Control", "no-store")
		x.writeJSON(http.StatusOK, append(b, '\n'))
		return nil
	}()
	ev.Status = http.StatusOK
	if ref != nil {
		ref.send(x)
		ev.Status = ref.status
	}
	g.finish(ev, now)
}

// liveStatus refuses a key whose live status in State (set by
// containment, possibly on another instance) is disabled or revoked, with
// the refusals handle gives once Admit has read it. A clamped key passes:
// clamping limits quota, and reading the status counts nothing.
func (g *Gateway) liveStatus(ctx context.Context, id string) *refusal {
	st, err := g.state.Status(ctx, id)
	switch {
	case err != nil:
		g.log.Error("gateway live status check failed; refusing", "key_id", id, "err", err)
		return &errState
	case st == keywatch.KeyRevoked:
		return &errRevokedKey
	case st == keywatch.KeyDisabled:
		return &errDisabledKey
	}
	return nil
}

// oidcVerifier checks ID tokens against an issuer's JWKS (RS256 or ES256)
// and maps their subject to a key id. The JWKS is cached for 5 minutes
// and refetched when a token names an unknown key id.
type oidcVerifier struct {
	cfg    OIDCConfig
	client *http.Client

	mu      sync.Mutex
	keys    map[string]any
	fetched time.Time
}

// verify checks raw's time claims (exp, nbf) against now, the gateway's
// clock, as gateway tokens are, allowing OIDCConfig.Leeway of skew with
// the issuer's clock.
func (o *oidcVerifier) verify(ctx context.Context, raw string, now time.Time) (string, error) {
	tok, err := jwt.Parse(raw, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return o.key(ctx, kid)
	}, jwt.WithValidMethods([]string{"RS256", "ES256"}), jwt.WithIssuer(o.cfg.Issuer),
		jwt.WithAudience(o.cfg.Audience), jwt.WithExpirationRequired(), jwt.WithLeeway(o.cfg.Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return "", fmt.Errorf("verify OIDC token from %s: %w", o.cfg.Issuer, err)
	}
	sub, err := tok.Claims.GetSubject()
	if err != nil {
		return "", fmt.Errorf("verify OIDC token: %w", err)
	}
	id, ok := o.cfg.Subjects[sub]
	if !ok {
		return "", fmt.Errorf("verify OIDC token: subject %q is not mapped to a key", sub)
	}
	return id, nil
}

func (o *oidcVerifier) key(ctx context.Context, kid string) (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if k, ok := o.keys[kid]; ok && time.Since(o.fetched) < 5*time.Minute {
		return k, nil
	}
	if time.Since(o.fetched) < 10*time.Second && o.keys != nil {
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	keys, err := fetchJWKS(ctx, o.client, o.cfg.JWKSURL)
	if err != nil {
		return nil, err
	}
	o.keys, o.fetched = keys, time.Now()
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown signing key %q", kid)
}

// fetchJWKS reads the RSA and P-256 keys of a JWKS document by kid.
func fetchJWKS(ctx context.Context, c *http.Client, url string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: status %d", url, resp.StatusCode)
	}
	var doc struct {
		Keys []struct{ Kid, Kty, Crv, N, E, X, Y string } `json:"keys"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	b := func(s string) *big.Int {
		v, _ := base64.RawURLEncoding.DecodeString(s)
		return new(big.Int).SetBytes(v)
	}
	keys := map[string]any{}
	for _, k := range doc.Keys {
		switch {
		case k.Kty == "RSA" && k.N != "" && k.E != "":
			keys[k.Kid] = &rsa.PublicKey{N: b(k.N), E: int(b(k.E).Int64())}
		case k.Kty == "EC" && k.Crv == "P-256":
			pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: b(k.X), Y: b(k.Y)}
			if pub.Curve.IsOnCurve(pub.X, pub.Y) { //nolint:staticcheck // validation of untrusted input
				keys[k.Kid] = pub
			}
		}
	}
	return keys, nil
}
