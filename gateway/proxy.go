package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpproxy"
)

// exchange is one client request and its answer, as a front end presents
// them: net/http's (ServeHTTP, for serve's own listener) or fasthttp's
// (Serve, for a gateway's listener). Everything between, from the
// credential to the usage event, is the same code (Gateway.serve).
type exchange interface {
	// context is for the State and store calls made before the answer.
	context() context.Context
	// mayBlock reports whether the checks may wait (on the store); on an
	// event loop they may not.
	mayBlock() bool
	method() string
	path() string
	query() string
	header(name string) string
	// forwardedFor is every X-Forwarded-For value, joined by commas.
	forwardedFor() string
	remoteAddr() netip.Addr
	// body reads the whole body, errBodyTooLarge past limit bytes.
	body(limit int64) ([]byte, error)
	// forwardHeaders adds the client's headers to dst, except the
	// hop-by-hop ones and those the gateway never forwards (skipRequest).
	forwardHeaders(dst *fasthttp.RequestHeader)

	setHeader(name, value string)
	// writeJSON answers with status and a JSON body.
	writeJSON(status int, body []byte)
	// stream answers with the upstream's status and headers and then
	// body, flushed after every read when flush is set, and calls done
	// once, when the body has been written or the client has gone.
	stream(resp *fasthttp.Response, body io.Reader, flush bool, done func())
}

var errBodyTooLarge = errors.New("request body too large")

// tokenPath is the token endpoint's.
const tokenPath = "/v1/gateway/token"

// serve answers one request: the token endpoint, a refusal, or the
// upstream's answer; its usage event goes to the sink once the answer is
// complete.
func (g *Gateway) serve(x exchange) {
	start := g.now()
	ev := &keywatch.Event{Time: start, ClientIP: g.clientIP(x), UserAgent: x.header("User-Agent"), RequestID: newRequestID()}
	x.setHeader("X-Request-Id", ev.RequestID)
	if x.path() == tokenPath {
		g.serveToken(x, ev)
		return
	}
	if ref := g.handle(x, ev, start); ref != nil {
		if ref == &errWouldBlock {
			x.(*loopExchange).offload()
			return
		}
		ref.send(x)
		ev.Status = ref.status
		g.finish(ev, start)
	}
}

// finish stamps the event's latency and hands it to Run.
func (g *Gateway) finish(ev *keywatch.Event, start time.Time) {
	ev.LatencyMS = float64(g.now().Sub(start).Microseconds()) / 1000
	g.later(answered{ev: ev})
}

// handle checks a request and forwards it; it returns the refusal to
// send, or nil when the upstream's answer is under way (forward then
// finishes the event).
func (g *Gateway) handle(x exchange, ev *keywatch.Event, now time.Time) *refusal {
	op, ok := operations[x.path()]
	ev.Operation = op
	k, ref := g.authenticate(x, ev, now)
	if ref != nil {
		return ref
	}
	method := x.method()
	if !ok || (op == "models") != (method == "GET") {
		return &errUnknownURL
	}
	var f reqFields
	body, ref := g.readBody(x, &f)
	if ref != nil {
		return ref
	}
	ev.Model = f.Model
	anthropic := x.path() == "/v1/messages"
	if ref := g.authorize(k, ev); ref != nil {
		return ref
	}
	c := &call{}
	if c.up = g.route(anthropic, f.Model); c.up == nil {
		return &errNoRoute
	}
	ev.Provider = c.up.Provider
	// Ask OpenAI streams for their usage; see Config.StripInjectedUsage.
	if f.Stream && !anthropic && f.StreamOptions == nil && (op == "chat" || op == "completion") {
		body = append([]byte(`{"stream_options":{"include_usage":true},`), bytes.TrimLeft(body, " \t\r\n")[1:]...)
		c.injected = true
	}
	est := f.estimate(len(body), op, g.cfg.DefaultMaxTokens)
	q, cq := k.Quotas, g.clamp(k.Quotas)
	if k.Status == keywatch.KeyClamped {
		q = cq
	}
	v, err := g.state.Admit(x.context(), k.ID, q, cq, est, now)
	switch {
	case err != nil:
		g.log.Error("gateway quota check failed; refusing", "key_id", k.ID, "err", err)
		return &errState
	case v.Status == keywatch.KeyRevoked:
		return &errRevokedKey
	case v.Status == keywatch.KeyDisabled:
		return &errDisabledKey
	case v.Limit != LimitNone:
		ref := rateLimited(v.Limit, v.RetryAfter)
		return &ref
	}
	c.key, c.est = k.ID, est
	if lx, ok := x.(*loopExchange); ok && lx.onLoop {
		return g.forwardLoop(lx, ev, c, method, body, now)
	}
	return g.forward(x, ev, c, method, body, now)
}

// call is one forwarded request's state.
type call struct {
	up       *upstream
	key      string
	est      int64 // the tokens Admit counted
	injected bool  // stream_options.include_usage was added
	u        usage
}

// forward sends the request to c.up with the upstream's credential and
// streams the answer back, reading its usage on the way.
func (g *Gateway) forward(x exchange, ev *keywatch.Event, c *call, method string, body []byte, start time.Time) *refusal {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	g.upstreamRequest(req, x, c.up, method, body)
	u := c.up
	resp := fasthttp.AcquireResponse()
	if err := u.client.Do(req, resp); err != nil {
		fasthttp.ReleaseResponse(resp)
		g.log.Warn("gateway upstream failed", "upstream", u.Name, "err", err)
		return &errUpstream
	}
	ev.Status = resp.StatusCode()
	var (
		src  = resp.BodyStream()
		out  io.Reader
		tail *tailBody
		sse  = bytes.HasPrefix(resp.Header.ContentType(), []byte("text/event-stream"))
	)
	if sse {
		strip := c.injected && (g.cfg.StripInjectedUsage == nil || *g.cfg.StripInjectedUsage)
		out = newSSEBody(src, strip, &c.u)
	} else {
		tail = &tailBody{src: src}
		out = tail
	}
	var once sync.Once
	x.stream(resp, out, sse, func() {
		once.Do(func() {
			resp.CloseBodyStream()
			fasthttp.ReleaseResponse(resp)
			ev.LatencyMS = float64(g.now().Sub(start).Microseconds()) / 1000
			g.later(answered{ev: ev, c: c, tail: tail, at: start})
		})
	})
	return nil
}

// upstreamRequest fills req with the request for upstream u: the client's
// method, path, query and forwardable headers, the upstream's credential
// and body.
func (g *Gateway) upstreamRequest(req *fasthttp.Request, x exchange, u *upstream, method string, body []byte) {
	req.Header.SetMethod(method)
	x.forwardHeaders(&req.Header)
	uri := u.path + strings.TrimPrefix(x.path(), "/v1")
	if q := x.query(); q != "" {
		uri += "?" + q
	}
	req.SetRequestURI(uri)
	req.Header.SetHost(u.host)
	if u.Provider == ProviderAnthropic {
		req.Header.Set("X-Api-Key", u.secret)
		if len(req.Header.Peek("Anthropic-Version")) == 0 {
			req.Header.Set("Anthropic-Version", "2023-06-01")
		}
	} else {
		req.Header.Set("Authorization", "Bearer "+u.secret)
	}
	if body != nil {
		req.SetBodyRaw(body)
		req.Header.SetContentLength(len(body))
	}
}

// answered is a request whose answer is complete, with what remains to
// do: read the usage in the tail of a JSON answer, correct the key's
// token counters by the difference from Admit's estimate, and hand the
// event to the sink. Run does it in batches, off the request's path: the
// client has its answer before (fasthttp flushes it after the body is
// closed), and a batch corrects each key's counters in one State call.
type answered struct {
	ev   *keywatch.Event
	c    *call     // nil for answers the gateway gave itself
	tail *tailBody // nil for streams, whose usage is already read
	at   time.Time // when the request came, for the counters' windows
}

// later hands a to Run. When Run is behind (the buffer is full), the
// tokens are still corrected here, so that quotas stay right, and the
// event is dropped and counted.
func (g *Gateway) later(a answered) {
	select {
	case g.events <- a:
	default:
		g.dropped.Add(1)
		a.ev = nil
		g.settle([]answered{a})
	}
}

// correction is a key's token counter change within one minute.
type correction struct {
	key    string
	minute int64
}

// settle finishes a batch of answered requests: usage, one AddTokens per
// key and minute, then the events to the sink in order.
func (g *Gateway) settle(batch []answered) {
	var fix map[correction]int64
	for i := range batch {
		a := &batch[i]
		if a.c == nil {
			continue
		}
		if a.tail != nil {
			a.tail.usage(&a.c.u)
			a.tail.release()
		}
		u := &a.c.u
		if !u.known {
			continue
		}
		if a.ev != nil {
			a.ev.InputTokens, a.ev.OutputTokens = u.input, u.output
		}
		if d := u.input + u.output - a.c.est; d != 0 {
			if fix == nil {
				fix = map[correction]int64{}
			}
			fix[correction{a.c.key, a.at.Unix() / 60}] += d
		}
	}
	for k, d := range fix {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := g.state.AddTokens(ctx, k.key, d, time.Unix(k.minute*60, 0)); err != nil {
			g.log.Warn("gateway token correction failed", "key_id", k.key, "err", err)
		}
		cancel()
	}
	for _, a := range batch {
		if a.ev != nil && g.sink != nil {
			g.sink(a.ev)
		}
	}
}

// skipRequest reports whether a client request header stays at the
// gateway: hop-by-hop headers (RFC 9110, 7.6.1), the client's credentials,
// what would reveal the client to the provider, and Accept-Encoding, so
// that responses arrive uncompressed and their usage can be read. Names
// are canonical (net/http canonicalises them, fasthttp normalises them).
func skipRequest[T ~string | ~[]byte](name T) bool {
	switch string(name) { // no copy: Go compares a converted []byte in place
	case "Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Host", "Content-Length",
		"Authorization", "X-Api-Key", "Api-Key", "Proxy-Authorization", "Cookie",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-Ip", "Accept-Encoding":
		return true
	}
	return false
}

// skipResponse reports whether an upstream response header stays at the
// gateway: hop-by-hop headers, and those the front end writes itself.
func skipResponse[T ~string | ~[]byte](name T) bool {
	switch string(name) {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Content-Length", "Date":
		return true
	}
	return false
}

// connectionTokens returns the header names a Connection header lists
// (besides close and keep-alive), which are hop-by-hop too; nil for the
// usual values.
func connectionTokens(v string) []string {
	var names []string
	for t := range strings.SplitSeq(v, ",") {
		t = strings.TrimSpace(t)
		if t == "" || strings.EqualFold(t, "close") || strings.EqualFold(t, "keep-alive") {
			continue
		}
		names = append(names, textproto.CanonicalMIMEHeaderKey(t))
	}
	return names
}

// upstreamClient is the connection pool to one upstream. It is fasthttp's
// client rather than net/http's Transport: the request is written and
// the response read on the caller's goroutine, where the Transport hands
// each request to two goroutines of its own (measured with
// scripts/bench-gateway.sh: 55 µs added at p50 by a bare
// httputil.ReverseProxy at 5,000 requests/s, 37 µs with this client).
//
// HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply as they do to net/http, unless
// dial is set. A request is retried only when a kept-alive connection
// turns out closed before any byte of the answer, as net/http does.
func upstreamClient(base *url.URL, dial fasthttp.DialFunc) *fasthttp.HostClient {
	tls := base.Scheme == "https"
	if dial == nil {
		d := &fasthttpproxy.Dialer{TCPDialer: fasthttp.TCPDialer{Concurrency: 0}, Timeout: 10 * time.Second, DialDualStack: true}
		var err error
		if dial, err = d.GetDialFuncForTLS(true, tls); err != nil {
			dial = func(addr string) (net.Conn, error) { return nil, err }
		}
	}
	return &fasthttp.HostClient{
		Addr:                fasthttp.AddMissingPort(base.Host, tls),
		IsTLS:               tls,
		Dial:                dial,
		MaxConns:            4096,
		MaxConnWaitTimeout:  10 * time.Second,
		MaxIdleConnDuration: 30 * time.Second,
		// A whole answer, stream included, within OpenAI's and Anthropic's
		// SDK default timeout: a hung upstream frees its connection.
		ReadTimeout:              10 * time.Minute,
		WriteTimeout:             time.Minute,
		ReadBufferSize:           16 << 10, // providers send many headers
		StreamResponseBody:       true,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
		RetryIfErr: func(_ *fasthttp.Request, attempts int, err error) (bool, bool) {
			return false, attempts < 2 && (errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed))
		},
	}
}
