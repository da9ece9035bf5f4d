package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/fasthttp"
)

// The event-loop front: the gateway on gnet's event loops, one per core,
// nginx's shape. A loop reads and parses its clients' requests, runs the
// gateway's checks and writes the request to a pooled upstream
// connection registered on the same loop, then passes the answer back as
// it comes, reading its usage on the way: no goroutine and no channel
// between the client's bytes and the upstream's. Goroutine-per-connection
// servers (net/http, fasthttp) pay the Go scheduler and netpoller on
// every read; scripts/bench-gateway.sh measures the difference.
//
// What may block never runs on a loop. A request goes to a goroutine of
// its own, through the same Gateway.serve and forward as the other fronts
// (writing its answer back with AsyncWrite), when its checks or its
// upstream need it: a State other than MemoryState (Redis), an upstream
// over TLS, the token endpoint (OIDC key fetches), or a secret the
// keyring does not hold yet (a reload from the store).
//
// Parsing is fasthttp's header parser over the loop's bytes; bodies,
// Content-Length or chunked, are read as they come. A loop holds what a
// slow client has not read yet in memory, up to maxPending bytes per
// connection, where a goroutine front would stop reading the upstream.

// Timeouts of the event-loop front, as the fasthttp front's.
const (
	loopReadTimeout     = time.Minute      // a request, body included
	loopIdleTimeout     = 2 * time.Minute  // a kept-alive client between requests
	loopUpstreamTimeout = 10 * time.Minute // an upstream's whole answer
	loopUpstreamIdle    = 30 * time.Second // a pooled upstream connection
	loopMaxHeader       = 16 << 10         // request and response headers
	// maxPending bounds what a connection may have queued for a client
	// that reads slower than its upstream writes; past it the exchange is
	// cut off.
	maxPending = 16 << 20
)

// ServeEvents answers gateway requests on addr (host:port, port 0 for
// any) with event loops, one per GOMAXPROCS, until Shutdown; GET /healthz
// answers "ok". started, when set, is called with the address listened on
// once connections are accepted.
func (g *Gateway) ServeEvents(addr string, started func(net.Addr)) error {
	f := &loopFront{g: g, stopped: make(chan struct{}), started: started}
	f.onLoop = !g.ups.anyTLS()
	if _, ok := g.state.(*MemoryState); !ok {
		f.onLoop = false
	}
	g.srvMu.Lock()
	if g.loop != nil {
		g.srvMu.Unlock()
		return errors.New("gateway: ServeEvents called twice")
	}
	g.loop = f
	g.srvMu.Unlock()
	err := gnet.Run(f, "tcp://"+addr,
		gnet.WithNumEventLoop(runtime.GOMAXPROCS(0)),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithTCPKeepAlive(time.Minute),
		gnet.WithTicker(true),
		gnet.WithLogger(gnetLogger{g}))
	close(f.stopped)
	return err
}

// anyTLS reports whether an upstream is reached over TLS.
func (u upstreams) anyTLS() bool {
	return slices.ContainsFunc(u, func(u upstream) bool { return u.client.IsTLS })
}

// loopFront is the gnet event handler.
type loopFront struct {
	gnet.BuiltinEventEngine
	g       *Gateway
	eng     gnet.Engine
	started func(net.Addr)
	onLoop  bool // checks and forwarding may run on the loops
	loops   sync.Map
	stopped chan struct{}

	draining  atomic.Bool
	inflight  atomic.Int64
	requests  atomic.Int64 // read whole and dispatched
	offloaded atomic.Int64 // of them, served on a goroutine
}

// loopState is one event loop's: touched only on that loop.
type loopState struct {
	el      gnet.EventLoop
	clients map[*loopClient]struct{}
	pools   map[*upstream]*loopPool
	// parsing
	mr moreReader
	br *bufio.Reader
	// the Date header, redone once a second
	date    []byte
	dateSec int64
}

// loopPool is a loop's connections to one upstream.
type loopPool struct {
	up   *upstream
	idle []*loopUp
	busy map[*loopUp]struct{}
}

// loopClient is a client connection.
type loopClient struct {
	c       gnet.Conn
	ls      *loopState
	remote  netip.Addr
	x       *loopExchange // the request being read or answered
	last    time.Time     // the last read, or the end of the last answer
	partial time.Time     // when the first bytes of a header still incomplete came
	closing bool          // close once the current answer is written
	closed  bool
	inRead  bool // within read: end does not re-enter it
}

// loopUp is an upstream connection.
type loopUp struct {
	c     gnet.Conn
	pool  *loopPool
	x     *loopExchange // the request it answers; nil when idle
	since time.Time     // sent the request, or became idle
	dead  bool
}

func (f *loopFront) OnBoot(eng gnet.Engine) gnet.Action {
	f.eng = eng
	if f.started != nil {
		a, err := listenAddr(eng)
		if err != nil {
			f.g.log.Error("gateway: event loops cannot tell their address", "err", err)
			return gnet.Shutdown
		}
		f.started(a)
	}
	return gnet.None
}

// listenAddr is the address the engine listens on (port 0 resolved).
func listenAddr(eng gnet.Engine) (net.Addr, error) {
	fd, err := eng.Dup()
	if err != nil {
		return nil, err
	}
	file := os.NewFile(uintptr(fd), "gateway listener")
	defer file.Close()
	ln, err := net.FileListener(file)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	return ln.Addr(), nil
}

func (f *loopFront) state(el gnet.EventLoop) *loopState {
	if s, ok := f.loops.Load(el); ok {
		return s.(*loopState)
	}
	s := &loopState{el: el, clients: map[*loopClient]struct{}{}, pools: map[*upstream]*loopPool{},
		br: bufio.NewReaderSize(nil, loopMaxHeader)}
	f.loops.Store(el, s)
	return s
}

func (f *loopFront) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if up, ok := c.Context().(*loopUp); ok {
		up.c = c
		up.pool.busy[up] = struct{}{}
		if up.x == nil || up.dead {
			up.dead = true
			return nil, gnet.Close
		}
		up.since = time.Now()
		c.Write(up.x.upReq)
		return nil, gnet.None
	}
	if f.draining.Load() {
		return nil, gnet.Close
	}
	ls := f.state(c.EventLoop())
	cl := &loopClient{c: c, ls: ls, last: time.Now()}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		cl.remote = a.AddrPort().Addr().Unmap()
	}
	ls.clients[cl] = struct{}{}
	c.SetContext(cl)
	return nil, gnet.None
}

func (f *loopFront) OnClose(c gnet.Conn, _ error) gnet.Action {
	switch s := c.Context().(type) {
	case *loopClient:
		s.closed = true
		delete(s.ls.clients, s)
		switch x := s.x; {
		case x == nil:
		case x.forwarding:
			x.clientGone()
		case x.reading:
			x.end() // gone in the middle of its request
		}
	case *loopUp:
		s.dead = true
		p := s.pool
		delete(p.busy, s)
		p.idle = slices.DeleteFunc(p.idle, func(u *loopUp) bool { return u == s })
		if x := s.x; x != nil {
			s.x = nil
			x.upstreamClosed(s)
		}
	}
	return gnet.None
}

func (f *loopFront) OnTraffic(c gnet.Conn) gnet.Action {
	defer func() {
		// A bug must not take the other connections down with the loop:
		// the connection closes, which ends its exchange.
		if p := recover(); p != nil {
			f.g.log.Error("gateway loop panicked; closing the connection", "panic", fmt.Sprint(p))
			c.Close()
		}
	}()
	switch s := c.Context().(type) {
	case *loopClient:
		f.read(s)
	case *loopUp:
		if s.x == nil {
			// An idle connection has nothing to say.
			s.dead = true
			c.Discard(-1)
			c.Close()
			return gnet.None
		}
		s.x.readUpstream(s)
	}
	return gnet.None
}

// OnTick sweeps every loop once a second for timeouts.
func (f *loopFront) OnTick() (time.Duration, gnet.Action) {
	f.sweepAll()
	return time.Second, gnet.None
}

// sweepAll has every loop sweep itself.
func (f *loopFront) sweepAll() {
	f.loops.Range(func(_, v any) bool {
		ls := v.(*loopState)
		ls.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			f.sweep(ls, time.Now())
			return nil
		}))
		return true
	})
}

// sweep closes what has outlived its timeout on one loop.
func (f *loopFront) sweep(ls *loopState, now time.Time) {
	for cl := range ls.clients {
		x := cl.x
		switch {
		case x == nil && !cl.partial.IsZero() && now.Sub(cl.partial) > loopReadTimeout,
			x == nil && (now.Sub(cl.last) > loopIdleTimeout || f.draining.Load()),
			x != nil && x.reading && now.Sub(x.began) > loopReadTimeout:
			cl.closed = true
			cl.c.Close()
		}
	}
	for _, p := range ls.pools {
		p.idle = slices.DeleteFunc(p.idle, func(u *loopUp) bool {
			if now.Sub(u.since) > loopUpstreamIdle {
				u.dead = true
				u.c.Close()
				return true
			}
			return false
		})
		for u := range p.busy {
			if u.x != nil && now.Sub(u.since) > loopUpstreamTimeout {
				u.c.Close() // OnClose ends the exchange
			}
		}
	}
}

// shutdown stops accepting, lets requests in flight finish until ctx is
// done, and stops the loops.
func (f *loopFront) shutdown(ctx context.Context) error {
	f.draining.Store(true)
	f.sweepAll() // closes idle connections
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	var err error
wait:
	for f.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break wait
		case <-f.stopped:
			return nil
		case <-t.C:
		}
	}
	if serr := f.eng.Stop(context.Background()); serr != nil && err == nil {
		err = serr
	}
	<-f.stopped
	return err
}

// read takes the client's bytes: a request's header, then its body; a
// whole request is dispatched. Bytes of a next (pipelined) request wait in
// gnet's buffer until the answer is written.
func (f *loopFront) read(cl *loopClient) {
	cl.inRead = true
	defer func() { cl.inRead = false }()
	cl.last = time.Now()
	for !cl.closed {
		if cl.closing {
			cl.c.Discard(-1)
			return
		}
		x := cl.x
		if x != nil && !x.reading {
			return // answering: a next request waits in gnet's buffer
		}
		if x == nil {
			buf, _ := cl.c.Peek(-1)
			if len(buf) == 0 {
				return
			}
			x = f.newExchange(cl)
			n, err := cl.ls.parse(buf, x.req.Header.Read)
			switch {
			case errors.Is(err, errMore):
				x.release()
				if cl.partial.IsZero() {
					cl.partial = cl.last
				}
				return
			case err != nil:
				x.release()
				f.refuseHTTP(cl, err)
				return
			}
			cl.c.Discard(n)
			if !cl.partial.IsZero() {
				x.began = cl.partial // the request's time counts from its first byte
			}
			cl.partial = time.Time{}
			cl.x = x
			f.inflight.Add(1)
			x.reading = true
			x.bodyLeft = int64(x.req.Header.ContentLength())
			switch {
			case x.bodyLeft == -1:
				x.chunkedBody = true
			case x.bodyLeft < 0:
				x.bodyLeft = 0
			case x.bodyLeft > f.g.cfg.MaxBody:
				x.tooLarge = true
			}
			if x.tooLarge {
				cl.closing = true
			} else if x.bodyLeft > 0 || x.chunkedBody {
				if bytes.EqualFold(x.req.Header.Peek("Expect"), []byte("100-continue")) {
					if cl.c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); cl.closed {
						return // the write failed and OnClose ended x
					}
				}
			}
		}
		if x.reading && !x.tooLarge {
			buf, _ := cl.c.Peek(-1)
			if x.chunkedBody {
				n, done, err := x.chunk.decode(buf, func(p []byte) { x.req.AppendBody(p) })
				cl.c.Discard(n)
				if err != nil {
					f.refuseHTTP(cl, err)
					return
				}
				if int64(len(x.req.Body())) > f.g.cfg.MaxBody {
					x.tooLarge, cl.closing = true, true
				} else if !done {
					return
				}
			} else {
				k := int(min(x.bodyLeft, int64(len(buf))))
				x.req.AppendBody(buf[:k])
				cl.c.Discard(k)
				if x.bodyLeft -= int64(k); x.bodyLeft > 0 {
					return
				}
			}
		}
		x.reading = false
		if x.req.Header.ConnectionClose() {
			cl.closing = true
		}
		f.dispatch(x)
		if cl.x != nil {
			return // answered later
		}
	}
}

// refuseHTTP answers bytes that are not a valid request and closes.
func (f *loopFront) refuseHTTP(cl *loopClient, err error) {
	status, msg := 400, "Bad Request"
	if _, small := errors.AsType[*fasthttp.ErrSmallBuffer](err); small || errors.Is(err, fasthttp.ErrSmallReadBuffer) {
		status, msg = 431, "Request Header Fields Too Large"
	}
	// fasthttp's error holds the start of the request, which may hold a
	// credential: never logged.
	f.g.log.Debug("gateway: refused a malformed request", "status", status, "remote", cl.remote.String())
	body := fmt.Sprintf(`{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":"invalid_request"}}`+"\n",
		"The request is not valid HTTP: "+msg+".")
	out := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, msg, len(body), body)
	cl.c.Write(out)
	if cl.x != nil {
		cl.x.end()
	}
	cl.closing, cl.closed = true, true
	cl.c.Close()
}

// dispatch answers a whole request: on the loop when nothing on its way
// may block, else on a goroutine.
func (f *loopFront) dispatch(x *loopExchange) {
	f.requests.Add(1)
	if x.path() == "/healthz" && x.method() == "GET" {
		x.onLoop = true
		x.writeBody(200, "text/plain; charset=utf-8", []byte("ok\n"))
		return
	}
	if !f.onLoop || x.path() == tokenPath {
		x.offload()
		return
	}
	x.onLoop = true
	f.g.serveLoop(x)
}

// serveLoop is serve on the loop, handing the request to a goroutine when
// a check would block.
func (g *Gateway) serveLoop(x *loopExchange) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("gateway request panicked", "path", x.path(), "panic", fmt.Sprint(p))
			if cl := x.cl; cl != nil && cl.x == x && !x.forwarding {
				cl.closing = true
				errInternal.send(x)
			}
		}
	}()
	g.serve(x)
}

// newExchange returns an exchange for cl's next request.
func (f *loopFront) newExchange(cl *loopClient) *loopExchange {
	x := exchangePool.Get().(*loopExchange)
	x.f, x.cl, x.began = f, cl, time.Now()
	return x
}

var exchangePool = sync.Pool{New: func() any { return &loopExchange{} }}

// loopExchange is an exchange on the event-loop front. It is pooled:
// the request, the answer's header and the buffers keep their memory from
// one request to the next; exchangeState is zeroed.
type loopExchange struct {
	req   fasthttp.Request
	resp  fasthttp.ResponseHeader
	hdr   []string   // answer headers set, name and value pairs
	out   []byte     // bytes for the client, written at once
	upReq []byte     // the request as sent upstream, kept for a retry
	wch   chan error // off the loop: AsyncWrite's completion
	exchangeState
}

type exchangeState struct {
	f     *loopFront
	cl    *loopClient
	began time.Time

	// reading the request
	reading     bool
	bodyLeft    int64
	chunkedBody bool
	chunk       chunked
	tooLarge    bool

	onLoop bool   // runs on the loop: nothing may block
	m, p   string // method and path, read once

	// forwarding on the loop
	forwarding bool
	ev         *keywatch.Event
	call       *call
	start      time.Time
	up         *loopUp
	reused     bool // up came from the idle pool
	retried    bool
	gotHeader  bool
	noBody     bool
	respLeft   int64 // Content-Length bytes left, -1 chunked, -2 until close
	respChunk  chunked
	toClient   int // 0: as received (Content-Length), 1: chunked, 2: until close (HTTP/1.0)
	sse        bool
	split      sseSplitter
	tail       []byte
}

// release returns x to the pool.
func (x *loopExchange) release() {
	x.req.Reset()
	x.resp.Reset()
	x.hdr = x.hdr[:0]
	if cap(x.out) > 64<<10 {
		x.out = nil
	}
	x.out = x.out[:0]
	if cap(x.upReq) > 64<<10 {
		x.upReq = nil
	}
	x.upReq = x.upReq[:0]
	x.exchangeState = exchangeState{}
	exchangePool.Put(x)
}

// end finishes x's answer on the loop: the connection reads its next
// request, or closes.
func (x *loopExchange) end() {
	cl, f := x.cl, x.f
	if cl.x != x {
		return
	}
	cl.x = nil
	cl.last = time.Now()
	f.inflight.Add(-1)
	x.release()
	switch {
	case cl.closed:
	case cl.closing || f.draining.Load():
		cl.closed = true
		cl.c.Close()
	case !cl.inRead && cl.c.InboundBuffered() > 0:
		f.read(cl)
	}
}

// offload answers x on a goroutine of its own.
func (x *loopExchange) offload() {
	x.f.offloaded.Add(1)
	x.onLoop = false
	if x.wch == nil {
		x.wch = make(chan error, 1)
	}
	go func() {
		func() {
			defer func() {
				if p := recover(); p != nil {
					x.f.g.log.Error("gateway request panicked", "path", x.path(), "panic", fmt.Sprint(p))
				}
			}()
			x.f.g.serve(x)
		}()
		x.cl.ls.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			x.end()
			return nil
		}))
	}()
}

// write sends b to the client: on the loop at once (gnet buffers what
// the socket does not take), off it through the loop, waiting until done.
func (x *loopExchange) write(b []byte) error {
	if x.onLoop {
		if x.cl.closed {
			return net.ErrClosed
		}
		_, err := x.cl.c.Write(b)
		if err == nil && x.cl.c.OutboundBuffered() > maxPending {
			err = errPending
		}
		return err
	}
	err := x.cl.c.AsyncWrite(b, func(c gnet.Conn, err error) error {
		if err == nil && c.OutboundBuffered() > maxPending {
			err = errPending
		}
		x.wch <- err
		return nil
	})
	if err != nil {
		return err
	}
	select {
	case err = <-x.wch:
		return err
	case <-x.f.stopped:
		return net.ErrClosed
	}
}

var errPending = errors.New("the client reads slower than the upstream writes")

// exchange's methods

func (x *loopExchange) context() context.Context { return context.Background() }
func (x *loopExchange) mayBlock() bool           { return !x.onLoop }

func (x *loopExchange) method() string {
	if x.m == "" {
		x.m = string(x.req.Header.Method())
	}
	return x.m
}

func (x *loopExchange) path() string {
	if x.p == "" {
		x.p = string(x.req.URI().Path())
	}
	return x.p
}

func (x *loopExchange) query() string             { return string(x.req.URI().QueryString()) }
func (x *loopExchange) header(name string) string { return string(x.req.Header.Peek(name)) }
func (x *loopExchange) forwardedFor() string      { return forwardedFor(&x.req.Header) }
func (x *loopExchange) remoteAddr() netip.Addr    { return x.cl.remote }

func (x *loopExchange) setHeader(name, val string) {
	for i := 0; i < len(x.hdr); i += 2 {
		if x.hdr[i] == name {
			x.hdr[i+1] = val
			return
		}
	}
	x.hdr = append(x.hdr, name, val)
}

func (x *loopExchange) body(limit int64) ([]byte, error) {
	b := x.req.Body()
	if x.tooLarge || int64(len(b)) > limit {
		return nil, errBodyTooLarge
	}
	return b, nil
}

func (x *loopExchange) forwardHeaders(dst *fasthttp.RequestHeader) {
	forwardHeaders(&x.req.Header, dst)
}

func (x *loopExchange) writeJSON(status int, body []byte) {
	x.writeBody(status, "application/json", body)
}

// writeBody answers with status and body, and ends x when on the loop.
func (x *loopExchange) writeBody(status int, contentType string, body []byte) {
	x.out = x.head(x.out[:0], status)
	x.out = append(x.out, "Content-Type: "...)
	x.out = append(x.out, contentType...)
	x.out = append(x.out, "\r\nContent-Length: "...)
	x.out = strconv.AppendInt(x.out, int64(len(body)), 10)
	x.out = append(x.out, "\r\n\r\n"...)
	x.out = append(x.out, body...)
	x.write(x.out)
	if x.onLoop {
		x.end()
	}
}

// head appends an answer's status line and the headers the gateway sets.
func (x *loopExchange) head(dst []byte, status int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, fasthttp.StatusMessage(status)...)
	dst = append(dst, "\r\nDate: "...)
	dst = append(dst, x.date()...)
	dst = append(dst, "\r\n"...)
	for i := 0; i+1 < len(x.hdr); i += 2 {
		dst = append(dst, x.hdr[i]...)
		dst = append(dst, ": "...)
		dst = append(dst, x.hdr[i+1]...)
		dst = append(dst, "\r\n"...)
	}
	if x.cl.closing || x.f.draining.Load() {
		dst = append(dst, "Connection: close\r\n"...)
	}
	return dst
}

var (
	dateMu   sync.Mutex
	dateSec  int64
	dateText []byte
)

// date is the Date header's value, made once a second.
func (x *loopExchange) date() []byte {
	now := time.Now()
	if ls := x.cl.ls; x.onLoop {
		if s := now.Unix(); s != ls.dateSec {
			ls.date, ls.dateSec = fasthttp.AppendHTTPDate(ls.date[:0], now), s
		}
		return ls.date
	}
	dateMu.Lock()
	defer dateMu.Unlock()
	if s := now.Unix(); s != dateSec {
		dateText, dateSec = fasthttp.AppendHTTPDate(nil, now), s
	}
	return dateText
}

// stream answers off the loop (the goroutine of offload): the upstream's
// status and headers, then its body, each read written before the next.
func (x *loopExchange) stream(resp *fasthttp.Response, body io.Reader, flush bool, done func()) {
	defer done()
	n := resp.Header.ContentLength()
	chunkedOut := n < 0 || flush
	untilClose := chunkedOut && !x.req.Header.IsHTTP11() // HTTP/1.0 has no chunked encoding
	if untilClose {
		chunkedOut = false
		defer x.cl.c.Close()
	}
	x.out = x.head(x.out[:0], resp.StatusCode())
	x.out = appendUpstreamHeaders(x.out, &resp.Header)
	switch {
	case untilClose:
		if !x.cl.closing {
			x.out = append(x.out, "Connection: close\r\n"...)
		}
		x.out = append(x.out, "\r\n"...)
	case chunkedOut:
		x.out = append(x.out, "Transfer-Encoding: chunked\r\n\r\n"...)
	default:
		x.out = append(x.out, "Content-Length: "...)
		x.out = strconv.AppendInt(x.out, int64(n), 10)
		x.out = append(x.out, "\r\n\r\n"...)
	}
	if x.write(x.out) != nil {
		return
	}
	if err := copyBody(loopBody{x, chunkedOut}, body, nil); err != nil {
		x.cl.c.Close() // the upstream broke off: the client sees the answer cut
		return
	}
	if chunkedOut {
		x.write([]byte(lastChunk))
	}
}

// loopBody writes an answer's body to the client from a goroutine, as
// chunks when chunked is set; a write that fails closes the connection.
type loopBody struct {
	x       *loopExchange
	chunked bool
}

func (w loopBody) Write(p []byte) (int, error) {
	x := w.x
	x.out = x.out[:0]
	if w.chunked {
		x.out = appendChunk(x.out, p)
	} else {
		x.out = append(x.out, p...)
	}
	if err := x.write(x.out); err != nil {
		x.cl.c.Close()
		return 0, err
	}
	return len(p), nil
}

// appendUpstreamHeaders appends an upstream answer's headers but those
// the gateway does not pass (skipResponse).
func appendUpstreamHeaders(dst []byte, h *fasthttp.ResponseHeader) []byte {
	for k, v := range h.All() {
		if skipResponse(k) {
			continue
		}
		dst = append(dst, k...)
		dst = append(dst, ": "...)
		dst = append(dst, v...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// moreReader reads a byte slice and then asks for more.
type moreReader struct{ b []byte }

var errMore = errors.New("need more bytes")

func (r *moreReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errMore
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// parse runs a fasthttp header parser (read) over the start of b and
// returns the header's length, or errMore when b does not hold it whole.
func (ls *loopState) parse(b []byte, read func(*bufio.Reader) error) (int, error) {
	if len(b) == 0 {
		return 0, errMore
	}
	ls.mr.b = b
	ls.br.Reset(&ls.mr)
	err := read(ls.br)
	n := len(b) - len(ls.mr.b) - ls.br.Buffered()
	ls.mr.b = nil
	ls.br.Reset(nil)
	if err != nil {
		if errors.Is(err, errMore) && len(b) < loopMaxHeader {
			return 0, errMore
		}
		if errors.Is(err, errMore) {
			return 0, fasthttp.ErrSmallReadBuffer
		}
		return 0, err
	}
	return n, nil
}

// gnetLogger sends gnet's own messages to the gateway's log.
type gnetLogger struct{ g *Gateway }

func (l gnetLogger) Debugf(format string, args ...any) {
	l.g.log.Debug("gateway loop: " + fmt.Sprintf(format, args...))
}
func (l gnetLogger) Infof(format string, args ...any) {
	l.g.log.Debug("gateway loop: " + fmt.Sprintf(format, args...))
}
func (l gnetLogger) Warnf(format string, args ...any) {
	l.g.log.Warn("gateway loop: " + fmt.Sprintf(format, args...))
}
func (l gnetLogger) Errorf(format string, args ...any) {
	l.g.log.Error("gateway loop: " + fmt.Sprintf(format, args...))
}
func (l gnetLogger) Fatalf(format string, args ...any) {
	l.g.log.Error("gateway loop: " + fmt.Sprintf(format, args...))
}
