package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/gateway/gatewaytest"
)

const (
	oidcIssuer   = "https://token.actions.example.com"
	oidcAudience = "keywatch-gateway"
	subCI        = "repo:acme/app:ref:refs/heads/main"
)

// oidcIdP is an OIDC issuer: an RSA and a P-256 signing key whose public
// JWKs an httptest server publishes by kid.
type oidcIdP struct {
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	srv     *httptest.Server
	fetches atomic.Int64
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newOIDCIdP(t *testing.T) *oidcIdP {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	idp := &oidcIdP{rsa: rk, ec: ek}
	doc, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "rsa1", "alg": "RS256", "use": "sig",
			"n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())},
		{"kty": "EC", "kid": "ec1", "alg": "ES256", "use": "sig", "crv": "P-256",
			"x": b64(ek.X.FillBytes(make([]byte, 32))), "y": b64(ek.Y.FillBytes(make([]byte, 32)))},
	}})
	idp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idp.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}))
	t.Cleanup(idp.srv.Close)
	return idp
}

// claims are an ID token's claims valid at t0 for subject sub.
func claims(sub string) jwt.MapClaims {
	return jwt.MapClaims{"iss": oidcIssuer, "aud": oidcAudience, "sub": sub,
		"iat": t0.Add(-time.Minute).Unix(), "nbf": t0.Add(-time.Minute).Unix(), "exp": t0.Add(10 * time.Minute).Unix()}
}

// sign signs c with method and key, naming kid in the header.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// with returns a copy of claims(sub) with changes applied; a nil value
// deletes the claim.
func with(sub string, changes map[string]any) jwt.MapClaims {
	c := claims(sub)
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// oidcGateway starts a gateway like harness.gateway with OIDC exchange
// configured against idp, allowing no clock skew so that time claims are
// tested at their exact bounds (TestOIDCLeeway tests the leeway).
func oidcGateway(h *harness, idp *oidcIdP) *front {
	h.t.Helper()
	_, srv := oidcGatewayOn(h, idp, gateway.NewMemoryState(), 0)
	return srv
}

// oidcGatewayOn is oidcGateway on state with the given clock-skew leeway.
func oidcGatewayOn(h *harness, idp *oidcIdP, state gateway.State, leeway time.Duration) (*gateway.Gateway, *front) {
	h.t.Helper()
	cfg := h.config()
	cfg.Token.OIDC = gateway.OIDCConfig{Issuer: oidcIssuer, Audience: oidcAudience, JWKSURL: idp.srv.URL + "/jwks",
		Subjects: map[string]string{subCI: "ci", "sub-ec": "ci", "sub-disabled": "disabled", "sub-revoked": "revoked",
			"sub-expired": "expired", "sub-ghost": "no-such-key"}, Leeway: leeway}
	return h.gatewayWith(cfg, state)
}

func TestOIDCExchange(t *testing.T) {
	h := newHarness(t,
		keywatch.Key{ID: "ci", Service: "ci", Env: "prod", Models: []string{"gpt-4o-mini"}},
		keywatch.Key{ID: "disabled", Status: keywatch.KeyDisabled},
		keywatch.Key{ID: "revoked", Status: keywatch.KeyRevoked},
		keywatch.Key{ID: "expired", Expires: t0.Add(-time.Minute)},
	)
	idp := newOIDCIdP(t)
	srv := oidcGateway(h, idp)

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&idp.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rs, es := jwt.SigningMethodRS256, jwt.SigningMethodES256
	// An RS256 token re-signed with RSA-PSS under the right key: a
	// different algorithm the JWKS key could verify.
	ps := jwt.SigningMethodPS256

	tests := []struct {
		name   string
		jwt    string
		status int
		code   string
	}{
		{"valid RS256", sign(t, rs, idp.rsa, "rsa1", claims(subCI)), 200, ""},
		{"valid ES256", sign(t, es, idp.ec, "ec1", claims("sub-ec")), 200, ""},
		{"audience list", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"aud": []string{"other", oidcAudience}})), 200, ""},
		{"wrong issuer", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"iss": "https://evil.example.com"})), 401, "invalid_api_key"},
		{"no issuer", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"iss": nil})), 401, "invalid_api_key"},
		{"wrong audience", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"aud": "someone-else"})), 401, "invalid_api_key"},
		{"no audience", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"aud": nil})), 401, "invalid_api_key"},
		{"expired", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"exp": t0.Add(-time.Second).Unix()})), 401, "invalid_api_key"},
		{"no exp", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"exp": nil})), 401, "invalid_api_key"},
		{"not yet valid", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"nbf": t0.Add(time.Hour).Unix()})), 401, "invalid_api_key"},
		{"unknown kid", sign(t, rs, other, "rsa-unknown", claims(subCI)), 401, "invalid_api_key"},
		{"no kid", sign(t, rs, idp.rsa, "", claims(subCI)), 401, "invalid_api_key"},
		{"bad signature RSA", sign(t, rs, other, "rsa1", claims(subCI)), 401, "invalid_api_key"},
		{"bad signature EC", sign(t, es, otherEC, "ec1", claims("sub-ec")), 401, "invalid_api_key"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa1", claims(subCI)), 401, "invalid_api_key"},
		{"HS256 with public key PEM", sign(t, jwt.SigningMethodHS256, pubPEM, "rsa1", claims(subCI)), 401, "invalid_api_key"},
		{"HS256 with public key DER", sign(t, jwt.SigningMethodHS256, der, "rsa1", claims(subCI)), 401, "invalid_api_key"},
		{"HS256 with modulus", sign(t, jwt.SigningMethodHS256, idp.rsa.N.Bytes(), "rsa1", claims(subCI)), 401, "invalid_api_key"},
		{"PS256 under the JWKS key", sign(t, ps, idp.rsa, "rsa1", claims(subCI)), 401, "invalid_api_key"},
		{"ES256 naming the RSA kid", sign(t, es, idp.ec, "rsa1", claims("sub-ec")), 401, "invalid_api_key"},
		{"RS256 naming the EC kid", sign(t, rs, idp.rsa, "ec1", claims(subCI)), 401, "invalid_api_key"},
		{"unmapped subject", sign(t, rs, idp.rsa, "rsa1", claims("repo:evil/fork:ref:refs/heads/main")), 401, "invalid_api_key"},
		{"no subject", sign(t, rs, idp.rsa, "rsa1", with(subCI, map[string]any{"sub": nil})), 401, "invalid_api_key"},
		{"subject mapped to unknown key", sign(t, rs, idp.rsa, "rsa1", claims("sub-ghost")), 401, "invalid_api_key"},
		{"disabled key", sign(t, rs, idp.rsa, "rsa1", claims("sub-disabled")), 403, "key_disabled"},
		{"revoked key", sign(t, rs, idp.rsa, "rsa1", claims("sub-revoked")), 401, "revoked_api_key"},
		{"expired key", sign(t, rs, idp.rsa, "rsa1", claims("sub-expired")), 401, "expired_api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := do(t, srv, "POST", "/v1/gateway/token", tt.jwt, "")
			ev := h.nextEvent()
			if ev.Operation != "token" || ev.Status != status {
				t.Errorf("event operation %q status %d, want token %d", ev.Operation, ev.Status, status)
			}
			if tt.status != 200 {
				if status != tt.status || errorCode(t, body) != tt.code {
					t.Fatalf("got %d %s, want %d %s", status, body, tt.status, tt.code)
				}
				assertNoSecrets(t, body, tt.jwt, idp)
				if ev.KeyID == "" || strings.Contains(ev.KeyID, tt.jwt) {
					t.Errorf("event key id %q", ev.KeyID)
				}
				return
			}
			if status != 200 || hdr.Get("Cache-Control") != "no-store" {
				t.Fatalf("exchange: %d %s (Cache-Control %q)", status, body, hdr.Get("Cache-Control"))
			}
			var got struct {
				Token, TokenType, KeyID string
				ExpiresIn               int
				ExpiresAt               time.Time
			}
			var raw map[string]any
			json.Unmarshal([]byte(body), &raw)
			got.Token, _ = raw["token"].(string)
			got.TokenType, _ = raw["token_type"].(string)
			got.KeyID, _ = raw["key_id"].(string)
			if n, ok := raw["expires_in"].(float64); ok {
				got.ExpiresIn = int(n)
			}
			if s, _ := raw["expires_at"].(string); s != "" {
				got.ExpiresAt, _ = time.Parse(time.RFC3339, s)
			}
			if !strings.HasPrefix(got.Token, gateway.TokenPrefix) || got.TokenType != "Bearer" || got.KeyID != "ci" ||
				got.ExpiresIn != int((15*time.Minute).Seconds()) || !got.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
				t.Fatalf("exchange answer: %s", body)
			}
			if ev.KeyID != "ci" || ev.Service != "ci" || ev.Env != "prod" {
				t.Errorf("event key %q service %q env %q", ev.KeyID, ev.Service, ev.Env)
			}

			// The token works through the gateway to the upstream, which
			// sees the provider key and neither the JWT nor the token.
			before := len(h.up.Requests())
			status, _, body = do(t, srv, "POST", "/v1/chat/completions", got.Token, chatBody)
			if status != 200 {
				t.Fatalf("chat with exchanged token: %d %s", status, body)
			}
			if ev := h.nextEvent(); ev.KeyID != "ci" || ev.Status != 200 || ev.Operation != "chat" {
				t.Errorf("chat event key %q status %d op %q", ev.KeyID, ev.Status, ev.Operation)
			}
			seen := h.up.Requests()
			if len(seen) != before+1 {
				t.Fatalf("upstream saw %d requests, want %d", len(seen), before+1)
			}
			if a := seen[before].Header.Get("Authorization"); a != "Bearer "+gatewaytest.OpenAIKey {
				t.Errorf("upstream Authorization = %q", a)
			}
			for name, vs := range seen[before].Header {
				for _, v := range vs {
					if strings.Contains(v, got.Token) || strings.Contains(v, tt.jwt) {
						t.Errorf("upstream header %s carries the client credential", name)
					}
				}
			}
			// The key's allow-lists carry over to the token.
			status, _, body = do(t, srv, "POST", "/v1/chat/completions", got.Token, `{"model":"gpt-4o"}`)
			if status != 403 || errorCode(t, body) != "model_not_allowed" {
				t.Errorf("token for a gpt-4o-mini key asked for gpt-4o: %d %s", status, body)
			}
			h.nextEvent()
			// A JWT is not a gateway credential outside the exchange.
			status, _, body = do(t, srv, "POST", "/v1/chat/completions", tt.jwt, chatBody)
			if status != 401 || errorCode(t, body) != "invalid_api_key" {
				t.Errorf("JWT used directly for chat: %d %s", status, body)
			}
			assertNoSecrets(t, body, tt.jwt, idp)
			h.nextEvent()
		})
	}

	// Nothing logged the presented JWTs or their signatures.
	logMu.Lock()
	logs := h.logs.String()
	logMu.Unlock()
	for _, tt := range tests {
		if sig := tt.jwt[strings.LastIndex(tt.jwt, ".")+1:]; strings.Contains(logs, tt.jwt) || (sig != "" && strings.Contains(logs, sig)) {
			t.Errorf("%s: the JWT appears in the gateway's logs", tt.name)
		}
	}
	// The JWKS was fetched once, plus at most once for the unknown kid.
	if n := idp.fetches.Load(); n < 1 || n > 2 {
		t.Errorf("JWKS fetched %d times, want 1 or 2", n)
	}
}

// TestOIDCTokenExpires checks that an exchanged token stops working after
// the TTL, on the gateway's clock.
func TestOIDCTokenExpires(t *testing.T) {
	h := newHarness(t, keywatch.Key{ID: "ci"})
	idp := newOIDCIdP(t)
	srv := oidcGateway(h, idp)
	status, _, body := do(t, srv, "POST", "/v1/gateway/token", sign(t, jwt.SigningMethodRS256, idp.rsa, "rsa1", claims(subCI)), "")
	h.nextEvent()
	var got struct{ Token string }
	if status != 200 || json.Unmarshal([]byte(body), &got) != nil || got.Token == "" {
		t.Fatalf("exchange: %d %s", status, body)
	}
	h.clock.Add(15 * time.Minute)
	status, _, body = do(t, srv, "POST", "/v1/chat/completions", got.Token, chatBody)
	if status != 401 || errorCode(t, body) != "expired_token" {
		t.Fatalf("token after its TTL: %d %s", status, body)
	}
	assertNoSecrets(t, body, got.Token, idp)
	h.nextEvent()
	// The ID token itself is now past its exp (t0+10m) on the gateway's clock.
	status, _, body = do(t, srv, "POST", "/v1/gateway/token", sign(t, jwt.SigningMethodRS256, idp.rsa, "rsa1", claims(subCI)), "")
	if status != 401 || errorCode(t, body) != "invalid_api_key" {
		t.Fatalf("ID token past exp on the gateway clock: %d %s", status, body)
	}
	h.nextEvent()
}

// assertNoSecrets fails if an error body holds the presented credential
// (or its signature), a gateway token, a keywatch key, provider keys or
// the issuer's key material.
func assertNoSecrets(t *testing.T, body, cred string, idp *oidcIdP) {
	t.Helper()
	needles := map[string]string{"credential": cred, "gateway token": gateway.TokenPrefix, "keywatch key": gateway.KeyPrefix,
		"openai key": gatewaytest.OpenAIKey, "anthropic key": gatewaytest.AnthropicKey,
		"RSA modulus": b64(idp.rsa.N.Bytes())[:32], "EC x": b64(idp.ec.X.FillBytes(make([]byte, 32)))[:32],
		"JWKS URL": idp.srv.URL}
	if i := strings.LastIndex(cred, "."); i >= 0 && i+1 < len(cred) {
		needles["signature"] = cred[i+1:]
		if j := strings.Index(cred, "."); j > 0 && j < i {
			needles["JWT payload"] = cred[j+1 : i]
		}
	}
	for what, s := range needles {
		if s != "" && strings.Contains(body, s) {
			t.Errorf("error body holds the %s: %s", what, body)
		}
	}
}

// TestOIDCLeeway checks an ID token's exp and nbf on the gateway's clock
// with the configured clock-skew leeway, just inside and just outside it.
func TestOIDCLeeway(t *testing.T) {
	h := newHarness(t, keywatch.Key{ID: "ci"})
	idp := newOIDCIdP(t)
	srvs := map[time.Duration]*front{}
	for _, l := range []time.Duration{0, time.Minute, 5 * time.Minute} {
		_, srvs[l] = oidcGatewayOn(h, idp, gateway.NewMemoryState(), l)
	}
	// expired is a token that expired at t0+d, issued ten minutes before.
	expired := func(d time.Duration) map[string]any {
		return map[string]any{"exp": t0.Add(d).Unix(), "nbf": t0.Add(d - 10*time.Minute).Unix(), "iat": t0.Add(d - 10*time.Minute).Unix()}
	}
	// early is a token valid from t0+d, issued then.
	early := func(d time.Duration) map[string]any {
		return map[string]any{"nbf": t0.Add(d).Unix(), "iat": t0.Add(d).Unix(), "exp": t0.Add(d + 10*time.Minute).Unix()}
	}
	tests := []struct {
		name   string
		leeway time.Duration
		claims map[string]any
		ok     bool
	}{
		{"none: exp in 1s", 0, expired(time.Second), true},
		{"none: exp now", 0, expired(0), false},
		{"none: nbf now", 0, early(0), true},
		{"none: nbf in 1s", 0, early(time.Second), false},
		{"60s: exp 59s ago", time.Minute, expired(-59 * time.Second), true},
		{"60s: exp 60s ago", time.Minute, expired(-60 * time.Second), false},
		{"60s: exp an hour ago", time.Minute, expired(-time.Hour), false},
		{"60s: nbf in 60s", time.Minute, early(60 * time.Second), true},
		{"60s: nbf in 61s", time.Minute, early(61 * time.Second), false},
		{"60s: iat in 60s", time.Minute, map[string]any{"iat": t0.Add(time.Minute).Unix()}, true},
		{"5m: exp 4m59s ago", 5 * time.Minute, expired(-299 * time.Second), true},
		{"5m: exp 5m ago", 5 * time.Minute, expired(-300 * time.Second), false},
		{"5m: nbf in 5m", 5 * time.Minute, early(300 * time.Second), true},
		{"5m: nbf in 5m1s", 5 * time.Minute, early(301 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jwtStr := sign(t, jwt.SigningMethodRS256, idp.rsa, "rsa1", with(subCI, tt.claims))
			status, _, body := do(t, srvs[tt.leeway], "POST", "/v1/gateway/token", jwtStr, "")
			h.nextEvent()
			switch {
			case tt.ok && status != 200:
				t.Errorf("refused inside the leeway: %d %s", status, body)
			case !tt.ok && (status != 401 || errorCode(t, body) != "invalid_api_key"):
				t.Errorf("outside the leeway: %d %s, want 401 invalid_api_key", status, body)
			}
			if tt.ok {
				// The gateway token still lasts the TTL from now, not
				// from the ID token's times.
				var got struct {
					ExpiresAt time.Time `json:"expires_at"`
				}
				if json.Unmarshal([]byte(body), &got) != nil || !got.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
					t.Errorf("gateway token expiry: %s", body)
				}
			}
		})
	}
}

// TestOIDCLeewayConfig checks the leeway's default, decoding and
// validation.
func TestOIDCLeewayConfig(t *testing.T) {
	const base = "version: 1\nupstreams: [{name: openai, api_key_env: OPENAI_API_KEY}]\n"
	const oidc = "{issuer: https://issuer.example.com, audience: kw, jwks_url: https://issuer.example.com/jwks, subjects: {s: k}"
	tests := []struct {
		name    string
		yaml    string
		want    time.Duration
		wantErr string
	}{
		{"no token section", base, time.Minute, ""},
		{"token without oidc", base + "token: {ttl: 20m}\n", time.Minute, ""},
		{"oidc without leeway", base + "token: {oidc: " + oidc + "}}\n", time.Minute, ""},
		{"leeway 90s", base + "token: {oidc: " + oidc + ", leeway: 90s}}\n", 90 * time.Second, ""},
		{"leeway zero", base + "token: {oidc: " + oidc + ", leeway: 0s}}\n", 0, ""},
		{"negative leeway", base + "token: {oidc: " + oidc + ", leeway: -1s}}\n", 0, "token.oidc.leeway"},
		{"leeway at the cap", base + "token: {oidc: " + oidc + ", leeway: 5m}}\n", 5 * time.Minute, ""},
		{"leeway over the cap", base + "token: {oidc: " + oidc + ", leeway: 5m1s}}\n", 0, "token.oidc.leeway"},
		{"leeway not a duration", base + "token: {oidc: " + oidc + ", leeway: soon}}\n", 0, "time.Duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := gateway.ParseConfig([]byte(tt.yaml))
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case c.Token.OIDC.Leeway != tt.want:
				t.Errorf("leeway = %v, want %v", c.Token.OIDC.Leeway, tt.want)
			}
		})
	}
	// Validate reports a negative leeway with every other problem.
	c := gateway.DefaultConfig()
	c.Token.OIDC.Leeway = -time.Second
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "token.oidc.leeway") || !strings.Contains(err.Error(), "upstreams") {
		t.Errorf("Validate = %v, want token.oidc.leeway and upstreams", err)
	}
}
