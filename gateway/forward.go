package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/ingest"
)

// Forwarder sends a gateway's usage events to a running keywatch serve
// (POST /v1/events, native JSON Lines) in batches, for gateway instances
// that run apart from serve.
//
// Add is the gateway's Sink and never waits on the network: events queue
// in memory, up to MaxPending, and beyond it are dropped and counted. A
// batch serve cannot take (unreachable, overloaded, refusing the token)
// stays at the head of the queue and is retried with backoff; serve drops
// events it has already seen by request id, so a retry after an ambiguous
// failure is not counted twice. A batch serve rejects as invalid is
// dropped and counted, since sending it again cannot help.
//
// Add is safe for concurrent use; Run and Flush must not run at the same
// time (Flush after Run has returned).
type Forwarder struct {
	opt      ForwarderOptions
	endpoint string
	log      *slog.Logger
	wake     chan struct{}

	mu       sync.Mutex
	queue    []*fwdBatch // oldest first; the last may still be filling
	pending  int
	lastDrop time.Time // when a full queue was last logged

	forwarded, rejected, dropped, lost, failures atomic.Int64
	lastSuccess                                  atomic.Int64 // Unix nanoseconds
}

type fwdBatch struct {
	buf    []byte
	n      int
	frozen bool // being sent, or failed to send: its bytes are final
}

// ForwarderOptions configure a Forwarder; zero values take the defaults
// shown.
type ForwarderOptions struct {
	URL    string       // required: serve's base URL, http(s)://host[:port][/prefix]
	Token  string       // required: an ingest token of that serve
	Client *http.Client // nil: a client with a 30s timeout
	Logger *slog.Logger // nil: discard
	// BatchEvents is the most events sent in one request: 512.
	BatchEvents int
	// BatchDelay is the longest an event waits for its batch to fill:
	// 200ms, so that detection sees gateway traffic within a second.
	BatchDelay time.Duration
	// MaxPending is how many events may wait while serve cannot take
	// them: 100,000 (tens of megabytes), several minutes of a busy
	// gateway.
	MaxPending int
	// MinBackoff and MaxBackoff bound the wait before retrying a failed
	// batch, doubling from one to the other: 500ms and 30s. A Retry-After
	// from serve is honoured up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
}

// ForwarderStats are a Forwarder's counters, in events unless named
// otherwise.
type ForwarderStats struct {
	Forwarded   int64     // accepted by serve
	Rejected    int64     // refused by serve as invalid; not retried
	Dropped     int64     // not queued: MaxPending was reached
	Lost        int64     // still queued when Flush gave up
	Failures    int64     // failed requests (their batches are retried)
	Pending     int64     // queued now
	LastSuccess time.Time // last request serve accepted; zero if none
}

// ErrIngestToken is wrapped by errors when serve refuses the ingest token
// (401 or 403).
var ErrIngestToken = errors.New("serve refused the ingest token")

// NewForwarder returns a Forwarder to the serve at opt.URL.
func NewForwarder(opt ForwarderOptions) (*Forwarder, error) {
	u, err := url.Parse(opt.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, keywatch.Errorf(keywatch.EINVALID, "serve URL %q: want http(s)://host[:port]", opt.URL)
	}
	if opt.Token == "" {
		return nil, keywatch.Errorf(keywatch.EINVALID, "forward usage to %s: an ingest token is required", opt.URL)
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.BatchEvents <= 0 {
		opt.BatchEvents = 512
	}
	if opt.BatchDelay <= 0 {
		opt.BatchDelay = 200 * time.Millisecond
	}
	if opt.MaxPending <= 0 {
		opt.MaxPending = 100_000
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 500 * time.Millisecond
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(30*time.Second, opt.MinBackoff)
	}
	return &Forwarder{opt: opt, endpoint: strings.TrimRight(opt.URL, "/") + "/v1/events", log: opt.Logger,
		wake: make(chan struct{}, 1)}, nil
}

// Add queues ev; it is the gateway's Sink.
func (f *Forwarder) Add(ev *keywatch.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending >= f.opt.MaxPending {
		n := f.dropped.Add(1)
		if now := time.Now(); now.Sub(f.lastDrop) >= 10*time.Second {
			f.lastDrop = now
			f.log.Error("gateway usage queue full: events are being dropped until serve takes them",
				"serve", f.opt.URL, "pending", f.pending, "dropped_total", n)
		}
		return
	}
	var b *fwdBatch
	if l := len(f.queue); l > 0 && !f.queue[l-1].frozen && f.queue[l-1].n < f.opt.BatchEvents {
		b = f.queue[l-1]
	} else {
		b = &fwdBatch{}
		f.queue = append(f.queue, b)
	}
	b.buf = ingest.AppendNative(b.buf, ev)
	b.n++
	f.pending++
	if b.n == f.opt.BatchEvents {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// Run sends batches as they fill or every BatchDelay until ctx is done;
// queued events then wait for Flush.
func (f *Forwarder) Run(ctx context.Context) error {
	t := time.NewTicker(f.opt.BatchDelay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.wake:
		case <-t.C:
		}
		if err := f.drain(ctx); err != nil {
			return nil // ctx is done; Flush sends the rest
		}
	}
}

// Flush sends everything queued, retrying failures until ctx is done;
// events still queued then are counted as Lost, logged, and reported in
// the error.
func (f *Forwarder) Flush(ctx context.Context) error {
	if f.drain(ctx) == nil {
		return nil
	}
	f.mu.Lock()
	n := f.pending
	f.queue, f.pending = nil, 0
	f.mu.Unlock()
	f.lost.Add(int64(n))
	f.log.Error("gateway usage events lost: serve did not take them before shutdown", "serve", f.opt.URL, "events", n)
	return fmt.Errorf("forward usage to %s: %d events not delivered", f.opt.URL, n)
}

// Check sends an empty batch, which serve answers without recording
// anything: it tells whether serve is reachable and takes the token
// (errors wrapping ErrIngestToken) before any event is at stake.
func (f *Forwarder) Check(ctx context.Context) error {
	_, _, err := f.post(ctx, nil)
	return err
}

// Stats returns the forwarder's counters.
func (f *Forwarder) Stats() ForwarderStats {
	f.mu.Lock()
	pending := f.pending
	f.mu.Unlock()
	var last time.Time
	if ns := f.lastSuccess.Load(); ns != 0 {
		last = time.Unix(0, ns)
	}
	return ForwarderStats{Forwarded: f.forwarded.Load(), Rejected: f.rejected.Load(), Dropped: f.dropped.Load(),
		Lost: f.lost.Load(), Failures: f.failures.Load(), Pending: int64(pending), LastSuccess: last}
}

// drain sends queued batches, oldest first, until the queue is empty,
// retrying a failed batch with backoff; it returns ctx's error if ctx
// ends first, leaving the unsent batches queued.
func (f *Forwarder) drain(ctx context.Context) error {
	failed := 0
	for {
		f.mu.Lock()
		if len(f.queue) == 0 {
			f.mu.Unlock()
			return nil
		}
		b := f.queue[0]
		b.frozen = true
		f.mu.Unlock()

		accepted, rejected, err := f.post(ctx, b.buf)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		var retryAfter time.Duration
		var bad *badBatch
		switch {
		case errors.As(err, &bad):
			// Serve refused the batch's content: drop it, loudly.
			f.log.Error("serve rejected gateway usage events; dropped", "serve", f.opt.URL, "events", b.n,
				"status", bad.status, "reason", bad.reason)
			f.rejected.Add(int64(b.n))
		case err != nil:
			var busy *retryLater
			if errors.As(err, &busy) {
				retryAfter = busy.after
			}
			n := f.failures.Add(1)
			failed++
			f.log.Warn("gateway usage events not forwarded to serve; will retry", "serve", f.opt.URL,
				"err", err, "pending", f.Stats().Pending, "attempt", failed, "failures_total", n)
			wait := min(f.opt.MaxBackoff, max(retryAfter, f.opt.MinBackoff<<min(failed-1, 20)))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		default:
			f.forwarded.Add(int64(accepted))
			if rejected > 0 {
				f.rejected.Add(int64(rejected))
				f.log.Error("serve rejected some gateway usage events", "serve", f.opt.URL, "events", rejected)
			}
			f.lastSuccess.Store(time.Now().UnixNano())
			if failed > 0 {
				f.log.Info("forwarding gateway usage events to serve again", "serve", f.opt.URL, "after_failures", failed)
				failed = 0
			}
		}
		f.mu.Lock()
		f.queue = f.queue[1:]
		f.pending -= b.n
		f.mu.Unlock()
	}
}

// badBatch is serve refusing a batch as invalid: not worth retrying.
type badBatch struct {
	status int
	reason string
}

func (e *badBatch) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.reason) }

// retryLater is serve asking to be retried later.
type retryLater struct {
	status int
	after  time.Duration
}

func (e *retryLater) Error() string { return fmt.Sprintf("status %d", e.status) }

// post sends one batch and returns serve's counts.
func (f *Forwarder) post(ctx context.Context, batch []byte) (accepted, rejected int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.endpoint, bytes.NewReader(batch))
	if err != nil {
		return 0, 0, fmt.Errorf("forward usage to %s: %w", f.opt.URL, err)
	}
	req.Header.Set("Authorization", "Bearer "+f.opt.Token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := f.opt.Client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("forward usage to %s: %w", f.opt.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusOK:
		var res struct{ Accepted, Rejected int }
		if err := json.Unmarshal(body, &res); err != nil {
			// Serve took the batch; only its counts are unreadable.
			f.log.Warn("unreadable answer from serve's ingest", "serve", f.opt.URL, "err", err)
			return bytes.Count(batch, []byte{'\n'}), 0, nil
		}
		return res.Accepted, res.Rejected, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return 0, 0, fmt.Errorf("forward usage to %s: %w (status %d)", f.opt.URL, ErrIngestToken, resp.StatusCode)
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
		return 0, 0, &badBatch{status: resp.StatusCode, reason: strings.TrimSpace(string(body[:min(len(body), 300)]))}
	default: // 429, 503 (detection behind), other 5xx
		after := time.Duration(0)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return 0, 0, fmt.Errorf("forward usage to %s: %w", f.opt.URL, &retryLater{status: resp.StatusCode, after: after})
	}
}
