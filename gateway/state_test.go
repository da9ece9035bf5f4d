package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/redis/go-redis/v9"
)

// stateBackends returns a fresh MemoryState and RedisState (on the
// machine's Redis; the test fails if it is down), by name. Each call gives
// two handles on one shared state, as two instances would have.
func stateBackends(t *testing.T) map[string]func() (gateway.State, gateway.State) {
	return map[string]func() (gateway.State, gateway.State){
		"memory": func() (gateway.State, gateway.State) {
			s := gateway.NewMemoryState()
			return s, s
		},
		"redis": func() (gateway.State, gateway.State) {
			rdb, prefix := redisState(t)
			other := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
			t.Cleanup(func() { other.Close() })
			return gateway.NewRedisState(rdb, prefix), gateway.NewRedisState(other, prefix)
		},
	}
}

// TestStateStatus checks that Status reads what SetStatus set through
// another handle, and that reading counts nothing against quotas.
func TestStateStatus(t *testing.T) {
	ctx := context.Background()
	for name, open := range stateBackends(t) {
		t.Run(name, func(t *testing.T) {
			setter, reader := open()
			steps := []struct {
				name string
				set  keywatch.KeyStatus // "-": set nothing
				want keywatch.KeyStatus
			}{
				{"never set", "-", ""},
				{"disabled", keywatch.KeyDisabled, keywatch.KeyDisabled},
				{"clamped", keywatch.KeyClamped, keywatch.KeyClamped},
				{"revoked", keywatch.KeyRevoked, keywatch.KeyRevoked},
				{"active clears", keywatch.KeyActive, ""},
				{"disabled again", keywatch.KeyDisabled, keywatch.KeyDisabled},
				{"empty clears", "", ""},
			}
			for _, st := range steps {
				if st.set != "-" {
					if err := setter.SetStatus(ctx, "k", st.set); err != nil {
						t.Fatalf("%s: %v", st.name, err)
					}
				}
				got, err := reader.Status(ctx, "k")
				if err != nil || got != st.want {
					t.Errorf("%s: Status = %q, %v; want %q", st.name, got, err, st.want)
				}
				if got, err := reader.Status(ctx, "other"); err != nil || got != "" {
					t.Errorf("%s: Status of an untouched key = %q, %v", st.name, got, err)
				}
			}
			// Reading the status is free: a key allowed one request a
			// minute is still admitted once after many reads.
			q := keywatch.Quotas{RPM: 1}
			for range 5 {
				if _, err := reader.Status(ctx, "quota"); err != nil {
					t.Fatal(err)
				}
			}
			for i, want := range []gateway.Limit{gateway.LimitNone, gateway.LimitRPM} {
				v, err := reader.Admit(ctx, "quota", q, q, 10, t0)
				if err != nil || v.Limit != want {
					t.Fatalf("admit %d after status reads: %+v, %v; want limit %v", i+1, v, err, want)
				}
			}
		})
	}
}

// TestRedisStatusTouchesNoCounters checks that RedisState.Status leaves no
// counter keys behind.
func TestRedisStatusTouchesNoCounters(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redisState(t)
	s := gateway.NewRedisState(rdb, prefix)
	if err := s.SetStatus(ctx, "k", keywatch.KeyDisabled); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"k", "unset"} {
		if _, err := s.Status(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := rdb.Keys(ctx, prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != prefix+":{k}:status" {
		t.Errorf("keys after Status: %v; want only the status key", keys)
	}
}

// TestTokenMintingFollowsLiveStatus sets a key's live status through one
// gateway instance and exchanges the key (and an OIDC ID token mapped to
// it) through another sharing the state: minting is refused as a request
// would be, except for a clamped key.
func TestTokenMintingFollowsLiveStatus(t *testing.T) {
	for name, open := range stateBackends(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, keywatch.Key{ID: "ci", Quotas: keywatch.Quotas{RPM: 1}})
			idp := newOIDCIdP(t)
			s1, s2 := open()
			gw1, _ := oidcGatewayOn(h, idp, s1, 0)
			_, srv2 := oidcGatewayOn(h, idp, s2, 0)
			creds := map[string]func() string{
				"key":  func() string { return h.keys["ci"] },
				"oidc": func() string { return sign(t, jwt.SigningMethodRS256, idp.rsa, "rsa1", claims(subCI)) },
			}
			tests := []struct {
				live   keywatch.KeyStatus
				status int
				code   string
			}{
				{"", 200, ""},
				{keywatch.KeyClamped, 200, ""},
				{keywatch.KeyDisabled, 403, "key_disabled"},
				{keywatch.KeyRevoked, 401, "revoked_api_key"},
				{keywatch.KeyActive, 200, ""},
			}
			for _, tt := range tests {
				if err := gw1.SetStatus(context.Background(), "ci", tt.live); err != nil {
					t.Fatal(err)
				}
				for kind, cred := range creds {
					status, _, body := mint(t, srv2, cred())
					if status != tt.status || (tt.code != "" && errorCode(t, body) != tt.code) {
						t.Errorf("live %q, %s: got %d %s; want %d %s", tt.live, kind, status, body, tt.status, tt.code)
					}
					if tt.code != "" && strings.Contains(body, gateway.TokenPrefix) {
						t.Errorf("live %q, %s: a refusal carries a token: %s", tt.live, kind, body)
					}
					if ev := h.nextEvent(); ev.Operation != "token" || ev.Status != tt.status || ev.KeyID != "ci" {
						t.Errorf("live %q, %s: event %s %d key %q", tt.live, kind, ev.Operation, ev.Status, ev.KeyID)
					}
				}
			}
			// Minting counted no request: the key's one request a minute
			// is still there, for a minted token.
			_, _, body := mint(t, srv2, h.keys["ci"])
			h.nextEvent()
			var tok struct{ Token string }
			json.Unmarshal([]byte(body), &tok)
			if status, _, body := do(t, srv2, "POST", "/v1/chat/completions", tok.Token, chatBody); status != 200 {
				t.Fatalf("first request after %d mints: %d %s", 2*len(tests)+1, status, body)
			}
			h.nextEvent()
			if status, _, _ := do(t, srv2, "POST", "/v1/chat/completions", tok.Token, chatBody); status != 429 {
				t.Errorf("second request in the minute: %d, want 429", status)
			}
			h.nextEvent()
		})
	}
}

// TestTokenMintingStateUnavailable checks that minting is refused with 503
// when the live status cannot be read, as requests are.
func TestTokenMintingStateUnavailable(t *testing.T) {
	h := newHarness(t, keywatch.Key{ID: "ci"})
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	_, srv := h.gateway(gateway.NewRedisState(rdb, "kwgwtest"))
	status, hdr, body := mint(t, srv, h.keys["ci"])
	if status != 503 || errorCode(t, body) != "gateway_unavailable" || hdr.Get("Retry-After") == "" {
		t.Errorf("mint with Redis down: %d Retry-After %q %s", status, hdr.Get("Retry-After"), body)
	}
	if ev := h.nextEvent(); ev.Status != 503 {
		t.Errorf("event status %d", ev.Status)
	}
}

// mint exchanges cred for a gateway token.
func mint(t *testing.T, srv *front, cred string) (int, http.Header, string) {
	t.Helper()
	return do(t, srv, "POST", "/v1/gateway/token", cred, "")
}

func TestOpenState(t *testing.T) {
	redisState(t) // fails the test when the machine's Redis is down
	tests := []struct {
		name    string
		url     string
		want    string // type of the State
		errCode string // keywatch error code; "-": any error
	}{
		{"no url", "", "*gateway.MemoryState", ""},
		{"redis", "redis://127.0.0.1:6379/0", "*gateway.RedisState", ""},
		{"not a redis url", "http://127.0.0.1:6379", "", keywatch.EINVALID},
		{"unreachable", "redis://127.0.0.1:1/0", "", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			st, closeState, err := gateway.OpenState(ctx, gateway.RedisConfig{URL: tt.url, Prefix: "kwgwtest"})
			if tt.errCode != "" {
				if err == nil || (tt.errCode != "-" && keywatch.ErrorCode(err) != tt.errCode) {
					t.Fatalf("err = %v, want code %s", err, tt.errCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeState()
			if got := fmt.Sprintf("%T", st); got != tt.want {
				t.Errorf("state %s, want %s", got, tt.want)
			}
			if _, err := st.Status(ctx, "k"); err != nil {
				t.Errorf("Status: %v", err)
			}
		})
	}
}
