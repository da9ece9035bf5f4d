package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/redis/go-redis/v9"
)

// TestContainmentMTTR measures how long an automatic disable takes to
// stop a key in use: a client sends a request every millisecond through
// one instance while containment sets the key's live status to disabled
// through another (serve's gateway actuator ends with Gateway.SetStatus);
// the figure is the time from that call returning to the first refused
// response. It runs on one instance with MemoryState and on two instances
// sharing RedisState (the machine's Redis; the test fails if it is down).
//
// It logs the figures and asserts only correctness: every request sent
// after the call returned is refused, and stays refused until the key is
// enabled again. Timings depend on the machine and are never asserted.
func TestContainmentMTTR(t *testing.T) {
	const trials = 40
	t.Run("one instance, memory", func(t *testing.T) {
		h := newHarness(t, testKeys...)
		drain(h)
		gw, srv := h.gateway(gateway.NewMemoryState())
		measureMTTR(t, h, gw, srv, trials)
	})
	t.Run("two instances, redis", func(t *testing.T) {
		h := newHarness(t, testKeys...)
		drain(h)
		rdbA, prefix := redisState(t)
		rdbB := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
		t.Cleanup(func() { rdbB.Close() })
		gwA, _ := h.gateway(gateway.NewRedisState(rdbA, prefix))
		_, srvB := h.gateway(gateway.NewRedisState(rdbB, prefix))
		measureMTTR(t, h, gwA, srvB, trials)
	})
}

// drain consumes the harness's usage events so that its sink never
// blocks the gateways' Run loops.
func drain(h *harness) {
	done := make(chan struct{})
	h.t.Cleanup(func() { close(done) })
	go func() {
		for {
			select {
			case <-h.events:
			case <-done:
				return
			}
		}
	}()
}

// reply is one client request: when it was sent and answered, and its status.
type reply struct {
	sent, done time.Time
	status     int
	code       string
}

// measureMTTR disables key "open" through control while a client uses it
// through srv, trials times, and logs the time to the first refusal.
func measureMTTR(t *testing.T, h *harness, control *gateway.Gateway, srv *front, trials int) {
	ctx, cancel := context.WithCancel(context.Background())
	replies := make(chan reply, 1<<16)
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		client := srv.Client()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer "+h.keys["open"])
			r := reply{sent: time.Now()}
			resp, err := client.Do(req)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				r.status = -1
			} else {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.status = resp.StatusCode
				if r.status != http.StatusOK {
					r.code = errorCodeOf(b)
				}
			}
			r.done = time.Now()
			replies <- r
		}
	}()
	t.Cleanup(func() { cancel(); <-clientDone })

	next := func() reply {
		t.Helper()
		select {
		case r := <-replies:
			return r
		case <-time.After(5 * time.Second):
			t.Fatal("no reply from the client within 5s")
			return reply{}
		}
	}
	var mttr, call []time.Duration
	for trial := range trials {
		if err := control.SetStatus(ctx, "open", keywatch.KeyActive); err != nil {
			t.Fatal(err)
		}
		enabled := time.Now()
		for r := next(); r.status != http.StatusOK || r.sent.Before(enabled); r = next() {
		}
		// Disable at a random phase of the client's millisecond.
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
		before := time.Now()
		if err := control.SetStatus(ctx, "open", keywatch.KeyDisabled); err != nil {
			t.Fatal(err)
		}
		returned := time.Now()
		call = append(call, returned.Sub(before))
		var refused time.Time
		for refused.IsZero() {
			r := next()
			switch {
			case r.status == http.StatusOK && !r.sent.Before(returned):
				t.Errorf("trial %d: a request sent %v after SetStatus(disabled) returned was admitted", trial, r.sent.Sub(returned))
			case r.status == http.StatusForbidden && r.code == "key_disabled":
				refused = r.done
			case r.status != http.StatusOK:
				t.Fatalf("trial %d: unexpected reply %d %q", trial, r.status, r.code)
			}
		}
		mttr = append(mttr, max(0, refused.Sub(returned)))
		// The key stays refused until it is enabled again.
		for until := time.Now().Add(20 * time.Millisecond); time.Now().Before(until); {
			if r := next(); r.status != http.StatusForbidden || r.code != "key_disabled" {
				t.Errorf("trial %d: after the first refusal got %d %q", trial, r.status, r.code)
			}
		}
	}
	slices.Sort(mttr)
	slices.Sort(call)
	q := func(l []time.Duration, p float64) time.Duration { return l[min(len(l)-1, int(float64(len(l))*p))] }
	t.Logf("%d trials, client every 1ms: SetStatus(disabled) to first refused response p50 %v, p90 %v, max %v; SetStatus call p50 %v, max %v",
		trials, q(mttr, .5).Round(time.Microsecond), q(mttr, .9).Round(time.Microsecond), mttr[len(mttr)-1].Round(time.Microsecond),
		q(call, .5).Round(time.Microsecond), call[len(call)-1].Round(time.Microsecond))
}

// errorCodeOf returns the code of an OpenAI-style error body, "" if none.
func errorCodeOf(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(body, &e)
	return e.Error.Code
}
