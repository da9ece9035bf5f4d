package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keywatch/keywatch"
)

// Defaults for Config.
const (
	DefaultQueueSize      = 256
	DefaultEnqueueTimeout = time.Second
	DefaultMaxAttempts    = 8
	DefaultMaxAge         = time.Hour
	DefaultAttemptTimeout = 10 * time.Second
	DefaultMinBackoff     = time.Second
	DefaultMaxBackoff     = 5 * time.Minute
	DefaultIdleTimeout    = 10 * time.Minute
)

// Errors a Result or Send may carry.
var (
	// ErrNoRoute: neither the key, nor its service, nor the default
	// route names a receiver.
	ErrNoRoute = errors.New("no route for alert")
	// ErrQueueFull: the destination's queue stayed full for
	// EnqueueTimeout; the notification was not queued.
	ErrQueueFull = errors.New("notification queue full")
	// ErrClosed: the router was closed before the notification could be
	// delivered.
	ErrClosed = errors.New("router closed")
)

// Config configures a Router. The zero value of every field but the
// routes works; a Router with no route at all drops every alert with
// ErrNoRoute.
type Config struct {
	// Keys looks a key up in the inventory; nil, or a nil result, means
	// the key is unknown. It is called from Send and must be safe for
	// concurrent use.
	Keys func(keyID string) *keywatch.Key
	// Services routes by service name, for keys without an on-call.
	Services map[string]keywatch.OnCall
	// Default is the route of last resort.
	Default keywatch.OnCall
	// WebhookSecret signs every webhook delivery (see Sign). Webhook
	// routes fail permanently without it.
	WebhookSecret string
	// Alertmanager, when set, is the base URL of an Alertmanager that
	// receives every alert besides its on-call routes.
	Alertmanager string
	// ExternalURL is keywatch's own base URL; notifications link to
	// ExternalURL/alerts/<id>. Empty: no links.
	ExternalURL string
	// PagerDutyURL is the Events API base URL; empty means
	// DefaultPagerDutyURL.
	PagerDutyURL string
	// Client sends the default notifiers' requests; nil means
	// http.DefaultClient. Per-attempt deadlines come from AttemptTimeout.
	Client *http.Client
	// Notifiers replaces the notifier of a kind (tests, or a proxy).
	Notifiers map[Kind]Notifier

	// QueueSize bounds each destination's queue.
	QueueSize int
	// EnqueueTimeout is how long Send waits for room in a full queue
	// before dropping the notification.
	EnqueueTimeout time.Duration
	// MaxAttempts bounds the attempts at one notification.
	MaxAttempts int
	// MaxAge bounds how long after queuing a notification is retried.
	MaxAge time.Duration
	// AttemptTimeout bounds one attempt, so that a receiver that hangs
	// costs a retry rather than the queue.
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential wait between
	// attempts (before jitter). A receiver's Retry-After overrides them.
	MinBackoff, MaxBackoff time.Duration
	// IdleTimeout is how long a destination's worker waits for work
	// before it stops; a later notification starts it again.
	IdleTimeout time.Duration

	// OnDeliver, when set, is called once for every notification with
	// its outcome: delivered, failed or dropped. It is called from the
	// router's goroutines (and from Send for drops), concurrently, and
	// must return quickly.
	OnDeliver func(Result)
	// Logger logs failed deliveries; nil logs nothing.
	Logger *slog.Logger

	// Now, Sleep and Jitter replace the clock, the wait between attempts
	// and the backoff jitter (in [0, 1)) in tests. Sleep must return
	// ctx.Err() when ctx ends first.
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func() float64
}

// Validate reports every problem in c at once. Messages never hold a
// destination's secret.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for name, v := range map[string]int{"queue size": c.QueueSize, "max attempts": c.MaxAttempts} {
		if v < 0 {
			bad("%s %d is negative", name, v)
		}
	}
	for name, v := range map[string]time.Duration{
		"enqueue timeout": c.EnqueueTimeout, "max age": c.MaxAge, "attempt timeout": c.AttemptTimeout,
		"min backoff": c.MinBackoff, "max backoff": c.MaxBackoff, "idle timeout": c.IdleTimeout,
	} {
		if v < 0 {
			bad("%s %s is negative", name, v)
		}
	}
	checkURL := func(what, raw string) {
		if raw == "" {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("%s %s is not an http(s) URL", what, Redact(raw))
		}
	}
	checkOnCall := func(what string, o keywatch.OnCall) {
		checkURL(what+" slack", o.Slack)
		checkURL(what+" webhook", o.Webhook)
		if o.Webhook != "" && c.WebhookSecret == "" {
			bad("%s webhook: no webhook secret to sign with", what)
		}
	}
	checkOnCall("default route", c.Default)
	for s, o := range c.Services {
		checkOnCall(fmt.Sprintf("service %q route", s), o)
	}
	checkURL("alertmanager", c.Alertmanager)
	checkURL("external URL", c.ExternalURL)
	checkURL("pagerduty URL", c.PagerDutyURL)
	if len(errs) == 0 {
		return nil
	}
	return &keywatch.Error{Code: keywatch.EINVALID, Message: "alert routing config", Err: errors.Join(errs...)}
}

// Result is the outcome of one notification, for audit and metrics.
type Result struct {
	AlertID     string
	KeyID       string
	Event       Event
	Kind        Kind
	Destination string // redacted: safe to log and store
	Attempts    int    // 0 when dropped
	Err         error  // nil when delivered; never holds a secret
	// Dropped reports that the notification was never queued (no route,
	// full queue, closed router); Err says why.
	Dropped bool
	// Latency is from Send to the outcome, queueing and retries included.
	Latency time.Duration
	// Notification is what was (to be) sent, for callers that persist
	// undelivered notifications and send them again later. Its Dest holds
	// secrets: never log it. Nil for ErrNoRoute.
	Notification *Notification
}

// Stats are a Router's counters since it started.
type Stats struct {
	Queued    int64 // notifications accepted into a queue
	Delivered int64
	Failed    int64 // queued but not delivered: permanent error, attempts or age exhausted, closed
	Dropped   int64 // never queued
	Retries   int64 // attempts after the first
}

// Router sends alerts to their owners' on-call. Send resolves the routes
// and queues one notification per destination; each destination has its
// own bounded queue and worker, so a receiver that is down or slow delays
// only its own notifications, which it delivers in order. A Router is safe
// for concurrent use.
type Router struct {
	cfg       Config
	notifiers map[Kind]Notifier
	log       *slog.Logger

	ctx    context.Context // delivery; canceled when Close gives up waiting
	cancel context.CancelFunc

	mu      sync.Mutex
	queues  map[string]*queue
	closed  bool
	closing chan struct{} // closed by Close
	wg      sync.WaitGroup

	queued, delivered, failed, dropped, retries atomic.Int64
}

// queue is one destination's queue.
type queue struct {
	id      string
	ch      chan *Notification
	wake    chan struct{} // a Send gave up while the worker waited for it
	pending int           // Sends between lookup and enqueue; guarded by Router.mu
}

// NewRouter returns a Router for c, with defaults for the zero fields.
func NewRouter(c Config) (*Router, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	def(&c.EnqueueTimeout, DefaultEnqueueTimeout)
	def(&c.MaxAge, DefaultMaxAge)
	def(&c.AttemptTimeout, DefaultAttemptTimeout)
	def(&c.MinBackoff, DefaultMinBackoff)
	def(&c.MaxBackoff, DefaultMaxBackoff)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Jitter == nil {
		c.Jitter = rand.Float64
	}
	r := &Router{
		cfg: c,
		notifiers: map[Kind]Notifier{
			KindSlack:        &Slack{Client: c.Client},
			KindPagerDuty:    &PagerDuty{BaseURL: c.PagerDutyURL, Client: c.Client},
			KindWebhook:      &Webhook{Client: c.Client, Now: c.Now},
			KindAlertmanager: &Alertmanager{Client: c.Client, Now: c.Now},
		},
		log:     c.Logger,
		queues:  map[string]*queue{},
		closing: make(chan struct{}),
	}
	for k, n := range c.Notifiers {
		r.notifiers[k] = n
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// OnCall returns the on-call an alert goes to: the key's from the
// inventory, else its service's (the alert's service, else the key's),
// else the default; via says which ("key", "service", "default"). An
// on-call counts when it names Slack, PagerDuty or a webhook (e-mail is
// not delivered by this package).
func (r *Router) OnCall(a *keywatch.Alert) (o keywatch.OnCall, via string) {
	var k *keywatch.Key
	if r.cfg.Keys != nil {
		k = r.cfg.Keys(a.KeyID)
	}
	if k != nil && routable(k.OnCall) {
		return k.OnCall, "key"
	}
	service := a.Service
	if service == "" && k != nil {
		service = k.Service
	}
	if o, ok := r.cfg.Services[service]; ok && service != "" && routable(o) {
		return o, "service"
	}
	return r.cfg.Default, "default"
}

func routable(o keywatch.OnCall) bool { return o.Slack != "" || o.PagerDuty != "" || o.Webhook != "" }

// Route returns the destinations an alert goes to: every receiver of its
// on-call (see OnCall), and the Alertmanager when one is configured.
func (r *Router) Route(a *keywatch.Alert) []Destination {
	o, _ := r.OnCall(a)
	var ds []Destination
	if o.Slack != "" {
		ds = append(ds, Destination{Kind: KindSlack, URL: o.Slack})
	}
	if o.PagerDuty != "" {
		ds = append(ds, Destination{Kind: KindPagerDuty, Key: o.PagerDuty})
	}
	if o.Webhook != "" {
		ds = append(ds, Destination{Kind: KindWebhook, URL: o.Webhook, Secret: r.cfg.WebhookSecret})
	}
	if r.cfg.Alertmanager != "" {
		ds = append(ds, Destination{Kind: KindAlertmanager, URL: r.cfg.Alertmanager})
	}
	return ds
}

// Send queues a notification of ev about a for every destination of a's
// route and returns once they are queued; delivery is asynchronous and its
// outcome goes to Config.OnDeliver. When a destination's queue is full,
// Send waits up to EnqueueTimeout (or until ctx ends) and then drops that
// notification: OnDeliver sees it with Dropped set, and Send returns an
// error wrapping ErrQueueFull (or ErrNoRoute, ErrClosed, ctx.Err()) for
// each destination it could not queue. Send keeps a copy of *a; the caller
// must not modify a's Evidence, Tags or Actions afterwards.
func (r *Router) Send(ctx context.Context, a *keywatch.Alert, ev Event) error {
	if !ev.valid() {
		return keywatch.Errorf(keywatch.EINVALID, "notify alert %s: unknown event %q", a.ID, ev)
	}
	now := r.cfg.Now()
	ds := r.Route(a)
	if len(ds) == 0 {
		r.report(Result{AlertID: a.ID, KeyID: a.KeyID, Event: ev, Err: ErrNoRoute, Dropped: true})
		return fmt.Errorf("notify alert %s: %w", a.ID, ErrNoRoute)
	}
	ac := *a
	link := ""
	if r.cfg.ExternalURL != "" {
		link = strings.TrimRight(r.cfg.ExternalURL, "/") + "/alerts/" + url.PathEscape(a.ID)
	}
	var errs []error
	for _, d := range ds {
		n := &Notification{Alert: &ac, Event: ev, Dest: d, Link: link, Created: now}
		if err := r.enqueue(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("notify alert %s via %s: %w", a.ID, d, err))
		}
	}
	return errors.Join(errs...)
}

// destID identifies a destination's queue; it holds secrets and stays
// inside the Router.
func destID(d Destination) string {
	return string(d.Kind) + "\x00" + d.URL + "\x00" + d.Key
}

// enqueue puts n on its destination's queue, starting the worker when
// there is none, and reports n as dropped when it cannot.
func (r *Router) enqueue(ctx context.Context, n *Notification) error {
	id := destID(n.Dest)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.drop(n, ErrClosed)
		return ErrClosed
	}
	q := r.queues[id]
	if q == nil {
		q = &queue{id: id, ch: make(chan *Notification, r.cfg.QueueSize), wake: make(chan struct{}, 1)}
		r.queues[id] = q
		r.wg.Add(1)
		go r.run(q)
	}
	q.pending++
	r.mu.Unlock()

	var err error
	select {
	case q.ch <- n:
	default:
		t := time.NewTimer(r.cfg.EnqueueTimeout)
		select {
		case q.ch <- n:
		case <-t.C:
			err = ErrQueueFull
		case <-ctx.Done():
			err = ctx.Err()
		}
		t.Stop()
	}
	r.mu.Lock()
	q.pending--
	r.mu.Unlock()
	if err != nil {
		select {
		case q.wake <- struct{}{}:
		default:
		}
		r.drop(n, err)
		return err
	}
	r.queued.Add(1)
	return nil
}

func (r *Router) drop(n *Notification, err error) {
	r.dropped.Add(1)
	r.log.Warn("alert notification dropped", "alert", n.Alert.ID, "event", n.Event,
		"destination", n.Dest.String(), "err", err)
	r.report(Result{
		AlertID: n.Alert.ID, KeyID: n.Alert.KeyID, Event: n.Event, Kind: n.Dest.Kind,
		Destination: n.Dest.String(), Err: err, Dropped: true, Notification: n,
	})
}

func (r *Router) report(res Result) {
	if r.cfg.OnDeliver != nil {
		r.cfg.OnDeliver(res)
	}
}

// run is a destination's worker: it delivers the queue's notifications in
// order, and stops when the queue has been idle for IdleTimeout, or is
// empty after Close.
func (r *Router) run(q *queue) {
	defer r.wg.Done()
	closing := r.closing
	idle := false
	for {
		select {
		case n := <-q.ch:
			r.deliver(n)
			continue
		default:
		}
		r.mu.Lock()
		if q.pending == 0 && len(q.ch) == 0 && (r.closed || idle) {
			delete(r.queues, q.id)
			r.mu.Unlock()
			return
		}
		if r.closed {
			closing = nil // seen; wait for the pending Sends only
		}
		r.mu.Unlock()
		idle = false
		t := time.NewTimer(r.cfg.IdleTimeout)
		select {
		case n := <-q.ch:
			r.deliver(n)
		case <-q.wake:
		case <-closing:
		case <-t.C:
			idle = true
		}
		t.Stop()
	}
}

// deliver makes the attempts at n and reports the outcome.
func (r *Router) deliver(n *Notification) {
	notifier := r.notifiers[n.Dest.Kind]
	var err error
	attempts := 0
	for {
		if r.ctx.Err() != nil {
			if err != nil {
				err = fmt.Errorf("%w before delivery (last attempt: %w)", ErrClosed, err)
			} else {
				err = fmt.Errorf("%w before delivery", ErrClosed)
			}
			break
		}
		if notifier == nil {
			err = permanent(n.Dest, "no notifier for %q", n.Dest.Kind)
			break
		}
		attempts++
		actx, cancel := context.WithTimeout(r.ctx, r.cfg.AttemptTimeout)
		err = notifier.Notify(actx, n)
		cancel()
		if err == nil || IsPermanent(err) {
			break
		}
		if attempts >= r.cfg.MaxAttempts {
			err = fmt.Errorf("gave up after %d attempts: %w", attempts, err)
			break
		}
		wait := r.backoff(attempts, err)
		if age := r.cfg.Now().Add(wait).Sub(n.Created); age > r.cfg.MaxAge {
			err = fmt.Errorf("gave up after %d attempts: retry would exceed max age %s: %w", attempts, r.cfg.MaxAge, err)
			break
		}
		r.retries.Add(1)
		if r.cfg.Sleep(r.ctx, wait) != nil {
			continue // closed: reported at the top of the loop
		}
	}
	res := Result{
		AlertID: n.Alert.ID, KeyID: n.Alert.KeyID, Event: n.Event, Kind: n.Dest.Kind,
		Destination: n.Dest.String(), Attempts: attempts, Err: err,
		Latency: r.cfg.Now().Sub(n.Created), Notification: n,
	}
	if err == nil {
		r.delivered.Add(1)
	} else {
		r.failed.Add(1)
		r.log.Warn("alert notification failed", "alert", n.Alert.ID, "event", n.Event,
			"destination", res.Destination, "attempts", attempts, "err", err)
	}
	r.report(res)
}

// backoff returns the wait before attempt+1: what the receiver asked
// for in Retry-After, else MinBackoff x 2^(attempt-1) capped at
// MaxBackoff, with jitter in its upper half.
func (r *Router) backoff(attempt int, err error) time.Duration {
	var de *DeliveryError
	if errors.As(err, &de) {
		if de.RetryAfter > 0 {
			return de.RetryAfter
		}
		if !de.RetryAt.IsZero() {
			if d := de.RetryAt.Sub(r.cfg.Now()); d > 0 {
				return d
			}
		}
	}
	d := r.cfg.MinBackoff << min(attempt-1, 30)
	if d <= 0 || d > r.cfg.MaxBackoff {
		d = r.cfg.MaxBackoff
	}
	return d/2 + time.Duration(r.cfg.Jitter()*float64(d/2))
}

// Stats returns the router's counters.
func (r *Router) Stats() Stats {
	return Stats{
		Queued: r.queued.Load(), Delivered: r.delivered.Load(), Failed: r.failed.Load(),
		Dropped: r.dropped.Load(), Retries: r.retries.Load(),
	}
}

// Close stops accepting notifications (Send then fails with ErrClosed) and
// waits until every queued notification is delivered or has failed. When
// ctx ends first, attempts in flight are canceled and what remains is
// reported to OnDeliver as failed with ErrClosed, so that the caller can
// persist it; Close then returns ctx.Err(). Notifiers must honour their
// context for Close to return promptly.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.closing)
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		<-done
		return ctx.Err()
	}
}
