package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Serve answers gateway requests on ln until Shutdown, with fasthttp's
// server; GET /healthz answers "ok". It is what keywatch gateway run
// serves with: no goroutine but the connection's own touches a request,
// where net/http's server also starts a background read per request
// (scripts/bench-gateway.sh measures both).
func (g *Gateway) Serve(ln net.Listener) error {
	g.srvMu.Lock()
	if g.srv == nil {
		g.srv = &fasthttp.Server{
			Handler:               g.serveFast,
			ErrorHandler:          g.fastError,
			Name:                  "",
			NoDefaultServerHeader: true,
			NoDefaultContentType:  true,
			MaxRequestBodySize:    int(min(g.cfg.MaxBody, int64(^uint(0)>>1))),
			ReadBufferSize:        16 << 10,    // headers up to 16 KiB, as OIDC tokens need
			ReadTimeout:           time.Minute, // a request, body included
			IdleTimeout:           2 * time.Minute,
			Logger:                fastLogger{g},
		}
	}
	srv := g.srv
	g.srvMu.Unlock()
	return srv.Serve(ln)
}

// Shutdown stops Serve and ServeEvents: it closes the listeners, then waits for requests
// in flight, streams included, until ctx is done.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.srvMu.Lock()
	srv, loop := g.srv, g.loop
	g.srvMu.Unlock()
	var errs []error
	if srv != nil {
		errs = append(errs, srv.ShutdownWithContext(ctx))
	}
	if loop != nil {
		errs = append(errs, loop.shutdown(ctx))
	}
	return errors.Join(errs...)
}

func (g *Gateway) serveFast(ctx *fasthttp.RequestCtx) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("gateway request panicked", "path", string(ctx.Path()), "panic", fmt.Sprint(p))
			ctx.Response.Reset()
			ctx.SetConnectionClose()
			errInternal.send(&fastExchange{ctx: ctx})
		}
	}()
	if ctx.IsGet() && string(ctx.Path()) == "/healthz" {
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("ok\n")
		return
	}
	g.serve(&fastExchange{ctx: ctx})
}

// fastError answers requests fasthttp's server refuses before the
// handler, in the gateway's error shape.
// A body over the limit goes through the gateway's checks as on net/http,
// refused where it is read, so that the refusal is reported with the key
// that sent it.
func (g *Gateway) fastError(ctx *fasthttp.RequestCtx, err error) {
	ctx.SetConnectionClose()
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		g.serve(&fastExchange{ctx: ctx, tooLarge: true})
		return
	}
	errBadRequest.send(&fastExchange{ctx: ctx})
}

// fastLogger sends fasthttp's own messages (connection errors) to the
// gateway's log at debug level.
type fastLogger struct{ g *Gateway }

func (l fastLogger) Printf(format string, args ...any) {
	l.g.log.Debug("gateway http: " + fmt.Sprintf(format, args...))
}

// fastExchange is an exchange on fasthttp.
type fastExchange struct {
	ctx      *fasthttp.RequestCtx
	p, m     string
	tooLarge bool // the server refused the body as over MaxRequestBodySize
}

// context is not the RequestCtx, which is done as soon as the server
// shuts down: requests in flight still get their quota checks.
func (x *fastExchange) context() context.Context { return context.Background() }

func (x *fastExchange) method() string {
	if x.m == "" {
		x.m = string(x.ctx.Method())
	}
	return x.m
}

func (x *fastExchange) path() string {
	if x.p == "" {
		x.p = string(x.ctx.Path())
	}
	return x.p
}

func (x *fastExchange) query() string { return string(x.ctx.URI().QueryString()) }

func (x *fastExchange) header(name string) string { return string(x.ctx.Request.Header.Peek(name)) }

func (x *fastExchange) setHeader(name, val string) { x.ctx.Response.Header.Set(name, val) }

func (x *fastExchange) mayBlock() bool { return true }

func (x *fastExchange) forwardedFor() string { return forwardedFor(&x.ctx.Request.Header) }

// forwardedFor is every X-Forwarded-For value of h, joined by commas.
func forwardedFor(h *fasthttp.RequestHeader) string {
	vals := h.PeekAll("X-Forwarded-For")
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(v)
	}
	return b.String()
}

func (x *fastExchange) remoteAddr() netip.Addr {
	if a, ok := x.ctx.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// body is the body the server has read (up to MaxRequestBodySize); it
// stays valid until the handler returns, which forward waits for.
func (x *fastExchange) body(limit int64) ([]byte, error) {
	b := x.ctx.Request.Body()
	if x.tooLarge || int64(len(b)) > limit {
		return nil, errBodyTooLarge
	}
	return b, nil
}

func (x *fastExchange) forwardHeaders(dst *fasthttp.RequestHeader) {
	forwardHeaders(&x.ctx.Request.Header, dst)
}

// forwardHeaders adds h's headers to dst but the hop-by-hop ones and
// those the gateway never forwards (skipRequest).
func forwardHeaders(h, dst *fasthttp.RequestHeader) {
	var conn []string
	if c := h.Peek("Connection"); len(c) > 0 {
		conn = connectionTokens(string(c))
	}
	for k, v := range h.All() {
		if skipRequest(k) || (conn != nil && slices.Contains(conn, string(k))) {
			continue
		}
		dst.AddBytesKV(k, v)
	}
}

func (x *fastExchange) writeJSON(status int, body []byte) {
	x.ctx.SetStatusCode(status)
	x.ctx.SetContentType("application/json")
	x.ctx.SetBody(body)
}

// stream hands body to the server, which writes it after the handler
// returns: with its length when the upstream gave one, else chunked with
// a flush after every read (an SSE event at a time). The server closes
// the body when it is done with it, written or not, which calls done.
func (x *fastExchange) stream(resp *fasthttp.Response, body io.Reader, flush bool, done func()) {
	r := &x.ctx.Response
	r.SetStatusCode(resp.StatusCode())
	for k, v := range resp.Header.All() {
		if !skipResponse(k) {
			r.Header.AddBytesKV(k, v)
		}
	}
	n := resp.Header.ContentLength()
	if n < 0 || flush {
		n = -1
	}
	r.SetBodyStream(&doneReader{Reader: body, done: done}, n)
}

// doneReader calls done when fasthttp closes it.
type doneReader struct {
	io.Reader
	done func()
}

func (d *doneReader) Close() error {
	d.done()
	return nil
}
