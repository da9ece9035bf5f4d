package alert_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/alert"
)

// results collects what OnDeliver reports.
type results struct {
	mu  sync.Mutex
	all []alert.Result
	ch  chan alert.Result
}

func newResults() *results { return &results{ch: make(chan alert.Result, 100)} }

func (r *results) add(res alert.Result) {
	r.mu.Lock()
	r.all = append(r.all, res)
	r.mu.Unlock()
	r.ch <- res
}

// next waits for the next result; a generous timeout only keeps a broken
// test from hanging, no assertion depends on it.
func (r *results) next(t *testing.T) alert.Result {
	t.Helper()
	select {
	case res := <-r.ch:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery result")
		return alert.Result{}
	}
}

// newRouter returns a router with test clocks and results collected.
func newRouter(t *testing.T, c alert.Config) (*alert.Router, *results, *fakeSleep) {
	t.Helper()
	res, fs := newResults(), &fakeSleep{}
	c.OnDeliver = res.add
	if c.Sleep == nil {
		c.Sleep = fs.sleep
	}
	c.Jitter = func() float64 { return 0 }
	if c.Now == nil {
		c.Now = clockAt
	}
	r, err := alert.NewRouter(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Close(ctx)
	})
	return r, res, fs
}

func TestRoute(t *testing.T) {
	keys := map[string]*keywatch.Key{
		"own":        {ID: "own", Service: "search-api", OnCall: keywatch.OnCall{Slack: "https://hooks.slack.com/own", PagerDuty: "PDKEY"}},
		"email-only": {ID: "email-only", Service: "search-api", OnCall: keywatch.OnCall{Email: "dana@example.com"}},
		"no-oncall":  {ID: "no-oncall", Service: "billing"},
	}
	r, _, _ := newRouter(t, alert.Config{
		Keys: func(id string) *keywatch.Key { return keys[id] },
		Services: map[string]keywatch.OnCall{
			"search-api": {Webhook: "https://hooks.example.com/search"},
		},
		Default:       keywatch.OnCall{Slack: "https://hooks.slack.com/default"},
		WebhookSecret: webhookSecret,
		Alertmanager:  "http://am:9093",
	})
	for _, tc := range []struct {
		name, key, service string
		via                string
		want               []string
	}{
		{"key's own on-call", "own", "", "key", []string{"slack https://hooks.slack.com/…", "pagerduty …", "alertmanager http://am:9093/…"}},
		{"e-mail only falls back to the service", "email-only", "", "service", []string{"webhook https://hooks.example.com/…", "alertmanager http://am:9093/…"}},
		{"unknown key, alert's service", "stranger", "search-api", "service", []string{"webhook https://hooks.example.com/…", "alertmanager http://am:9093/…"}},
		{"no route for the service", "no-oncall", "", "default", []string{"slack https://hooks.slack.com/…", "alertmanager http://am:9093/…"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &keywatch.Alert{ID: "a", KeyID: tc.key, Service: tc.service}
			if _, via := r.OnCall(a); via != tc.via {
				t.Errorf("via %q, want %q", via, tc.via)
			}
			var got []string
			for _, d := range r.Route(a) {
				got = append(got, d.String())
				if d.Kind == alert.KindWebhook && d.Secret != webhookSecret {
					t.Errorf("webhook destination without the signing secret")
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("route (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoRoute(t *testing.T) {
	r, res, _ := newRouter(t, alert.Config{})
	err := r.Send(context.Background(), testAlert(), alert.Trigger)
	if !errors.Is(err, alert.ErrNoRoute) {
		t.Fatalf("Send = %v, want ErrNoRoute", err)
	}
	if got := res.next(t); !got.Dropped || !errors.Is(got.Err, alert.ErrNoRoute) {
		t.Errorf("result %+v", got)
	}
}

// TestDownReceiverDelaysNothingElse sends one alert to a Slack webhook that
// hangs and a PagerDuty that answers: PagerDuty's delivery is reported
// while Slack's request is still held, and Slack's is reported after.
func TestDownReceiverDelaysNothingElse(t *testing.T) {
	slack := newReceiver(t, hang)
	pd := newReceiver(t, pdAccepted)
	r, res, _ := newRouter(t, alert.Config{
		Default:      keywatch.OnCall{Slack: slack.URL + slackPath, PagerDuty: routingKey},
		PagerDutyURL: pd.URL,
	})
	for _, ev := range []alert.Event{alert.Trigger, alert.Resolve} {
		if err := r.Send(context.Background(), testAlert(), ev); err != nil {
			t.Fatal(err)
		}
	}
	<-slack.arrived // Slack is now holding the first request
	for _, want := range []alert.Event{alert.Trigger, alert.Resolve} {
		got := res.next(t)
		if got.Kind != alert.KindPagerDuty || got.Event != want || got.Err != nil {
			t.Fatalf("while Slack hangs, got %+v, want PagerDuty %s delivered", got, want)
		}
	}
	slack.releaseAll()
	for _, want := range []alert.Event{alert.Trigger, alert.Resolve} {
		got := res.next(t)
		if got.Kind != alert.KindSlack || got.Event != want {
			t.Fatalf("got %+v, want Slack %s, in order", got, want)
		}
	}
}

// TestHangingReceiverTimesOut checks that an attempt is cut at
// AttemptTimeout and counts as retryable.
func TestHangingReceiverTimesOut(t *testing.T) {
	rcv := newReceiver(t, hang, slackOK)
	r, res, fs := newRouter(t, alert.Config{
		Default:        keywatch.OnCall{Slack: rcv.URL + slackPath},
		AttemptTimeout: 50 * time.Millisecond,
	})
	if err := r.Send(context.Background(), testAlert(), alert.Trigger); err != nil {
		t.Fatal(err)
	}
	got := res.next(t)
	if got.Err != nil || got.Attempts != 2 {
		t.Errorf("result %+v (err %v), want delivered on attempt 2", got, got.Err)
	}
	if len(fs.get()) != 1 {
		t.Errorf("waits %v, want one", fs.get())
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		replies   []reply
		attempts  int
		delivered bool
		permanent bool
		waits     []time.Duration
	}{
		{"500s until max attempts", []reply{serverError}, 4, false, false,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{"429 honours Retry-After", []reply{slackRateLimit, slackOK}, 2, true, false,
			[]time.Duration{7 * time.Second}},
		{"500 then ok", []reply{serverError, serverError, slackOK}, 3, true, false,
			[]time.Duration{500 * time.Millisecond, time.Second}},
		{"invalid_payload is not retried", []reply{slackInvalid}, 1, false, true, nil},
		{"channel_not_found is not retried", []reply{slackNoChannel}, 1, false, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.replies...)
			r, res, fs := newRouter(t, alert.Config{
				Default:     keywatch.OnCall{Slack: rcv.URL + slackPath},
				MaxAttempts: 4,
			})
			if err := r.Send(context.Background(), testAlert(), alert.Trigger); err != nil {
				t.Fatal(err)
			}
			got := res.next(t)
			if got.Attempts != tc.attempts || (got.Err == nil) != tc.delivered || alert.IsPermanent(got.Err) != tc.permanent {
				t.Errorf("result: %d attempts, err %v; want %d attempts, delivered %v, permanent %v",
					got.Attempts, got.Err, tc.attempts, tc.delivered, tc.permanent)
			}
			if n := len(rcv.requests()); n != tc.attempts {
				t.Errorf("receiver got %d requests, want %d", n, tc.attempts)
			}
			if diff := cmp.Diff(tc.waits, fs.get()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if got.Latency != 0 {
				t.Errorf("latency %v with a stopped clock", got.Latency)
			}
			st := r.Stats()
			if st.Queued != 1 || st.Delivered+st.Failed != 1 || st.Retries != int64(len(tc.waits)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestMaxAge gives up when the receiver asks for a wait past MaxAge.
func TestMaxAge(t *testing.T) {
	rcv := newReceiver(t, reply{status: 429, header: map[string]string{"Retry-After": "7200"}})
	r, res, fs := newRouter(t, alert.Config{
		Default: keywatch.OnCall{Slack: rcv.URL + slackPath},
		MaxAge:  time.Hour,
	})
	if err := r.Send(context.Background(), testAlert(), alert.Trigger); err != nil {
		t.Fatal(err)
	}
	got := res.next(t)
	if got.Err == nil || got.Attempts != 1 || len(fs.get()) != 0 {
		t.Errorf("result %+v, waits %v: want one attempt and no wait", got, fs.get())
	}
}

// TestQueueFull fills a one-slot queue behind a hanging receiver: the next
// notification waits EnqueueTimeout and is dropped, reported and counted.
func TestQueueFull(t *testing.T) {
	rcv := newReceiver(t, hang)
	r, res, _ := newRouter(t, alert.Config{
		Default:        keywatch.OnCall{Slack: rcv.URL + slackPath},
		QueueSize:      1,
		EnqueueTimeout: 10 * time.Millisecond,
	})
	defer rcv.releaseAll() // before the router's Close in cleanup
	ctx := context.Background()
	if err := r.Send(ctx, testAlert(), alert.Trigger); err != nil {
		t.Fatal(err)
	}
	<-rcv.arrived // the worker holds the first; the queue is empty
	if err := r.Send(ctx, testAlert(), alert.Acknowledge); err != nil {
		t.Fatal(err)
	}
	err := r.Send(ctx, testAlert(), alert.Resolve)
	if !errors.Is(err, alert.ErrQueueFull) {
		t.Fatalf("Send on a full queue = %v, want ErrQueueFull", err)
	}
	assertNoSecret(t, err.Error())
	got := res.next(t)
	if !got.Dropped || got.Event != alert.Resolve || got.Notification == nil || !errors.Is(got.Err, alert.ErrQueueFull) {
		t.Errorf("result %+v", got)
	}
	if st := r.Stats(); st.Dropped != 1 || st.Queued != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestCloseDrains delivers everything queued before Close returns.
func TestCloseDrains(t *testing.T) {
	rcv := newReceiver(t, serverError, slackOK)
	r, res, _ := newRouter(t, alert.Config{Default: keywatch.OnCall{Slack: rcv.URL + slackPath}})
	for range 5 {
		if err := r.Send(context.Background(), testAlert(), alert.Trigger); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Delivered != 5 {
		t.Errorf("after Close: %+v, want 5 delivered", st)
	}
	if err := r.Send(context.Background(), testAlert(), alert.Trigger); !errors.Is(err, alert.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if n := len(res.ch); n != 6 {
		t.Errorf("%d results, want 6 (5 delivered, 1 dropped)", n)
	}
}

// TestCloseDeadline: when Close's context ends, what was not delivered is
// reported with ErrClosed so the caller can persist it.
func TestCloseDeadline(t *testing.T) {
	rcv := newReceiver(t, hang)
	r, res, _ := newRouter(t, alert.Config{
		Default: keywatch.OnCall{Slack: rcv.URL + slackPath},
		Sleep: func(ctx context.Context, d time.Duration) error {
			<-ctx.Done()
			return ctx.Err()
		},
	})
	for range 3 {
		if err := r.Send(context.Background(), testAlert(), alert.Trigger); err != nil {
			t.Fatal(err)
		}
	}
	<-rcv.arrived
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	for range 3 {
		got := res.next(t)
		if !errors.Is(got.Err, alert.ErrClosed) || got.Notification == nil {
			t.Errorf("result %+v, want ErrClosed with the notification", got)
		}
	}
	if st := r.Stats(); st.Failed != 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestSecretsNeverShown fails every kind of destination in every way and
// looks for the secrets in results, errors and logs.
func TestSecretsNeverShown(t *testing.T) {
	var logs bytes.Buffer
	down := newReceiver(t)
	down.Close()
	for _, rcv := range []*receiver{newReceiver(t, slackInvalid), newReceiver(t, serverError), down} {
		r, res, _ := newRouter(t, alert.Config{
			Default:       keywatch.OnCall{Slack: rcv.URL + slackPath, PagerDuty: routingKey, Webhook: rcv.URL + webhookPath},
			WebhookSecret: webhookSecret,
			PagerDutyURL:  rcv.URL,
			Alertmanager:  rcv.URL,
			MaxAttempts:   2,
			Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
		})
		if err := r.Send(context.Background(), testAlert(), alert.Trigger); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			got := res.next(t)
			if got.Err == nil {
				t.Errorf("%s delivered to a failing receiver", got.Destination)
				continue
			}
			assertNoSecret(t, got.Err.Error())
			assertNoSecret(t, got.Destination)
		}
	}
	assertNoSecret(t, logs.String())
	if logs.Len() == 0 {
		t.Error("failures were not logged")
	}

	_, err := alert.NewRouter(alert.Config{
		Default: keywatch.OnCall{Slack: "hooks.slack.com" + slackPath, Webhook: "https://example.com" + webhookPath},
	})
	if err == nil || keywatch.ErrorCode(err) != keywatch.EINVALID {
		t.Fatalf("NewRouter with bad routes = %v, want EINVALID", err)
	}
	assertNoSecret(t, err.Error())
}

func TestSendInvalidEvent(t *testing.T) {
	r, _, _ := newRouter(t, alert.Config{Default: keywatch.OnCall{Slack: "https://hooks.slack.com/x"}})
	if err := r.Send(context.Background(), testAlert(), "escalate"); keywatch.ErrorCode(err) != keywatch.EINVALID {
		t.Errorf("Send = %v, want EINVALID", err)
	}
}

// TestIdleWorkerRestarts lets a destination's worker stop when idle and
// checks that the next notification starts it again.
func TestIdleWorkerRestarts(t *testing.T) {
	rcv := newReceiver(t, slackOK)
	r, res, _ := newRouter(t, alert.Config{
		Default:     keywatch.OnCall{Slack: rcv.URL + slackPath},
		IdleTimeout: time.Millisecond,
	})
	for i := range 3 {
		if err := r.Send(context.Background(), testAlert(), alert.Trigger); err != nil {
			t.Fatal(err)
		}
		if got := res.next(t); got.Err != nil {
			t.Fatalf("send %d: %v", i, got.Err)
		}
		time.Sleep(10 * time.Millisecond) // long enough for the worker to stop; either way must work
	}
	if st := r.Stats(); st.Delivered != 3 {
		t.Errorf("stats %+v", st)
	}
}
