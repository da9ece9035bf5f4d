package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

// ServeHTTP implements http.Handler: the gateway on net/http's server, as
// serve runs it beside its API. A gateway on a listener of its own is
// faster with Serve.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.serve(&netExchange{w: w, r: r})
}

// netExchange is an exchange on net/http.
type netExchange struct {
	w http.ResponseWriter
	r *http.Request
}

func (x *netExchange) context() context.Context   { return x.r.Context() }
func (x *netExchange) mayBlock() bool             { return true }
func (x *netExchange) method() string             { return x.r.Method }
func (x *netExchange) path() string               { return x.r.URL.Path }
func (x *netExchange) query() string              { return x.r.URL.RawQuery }
func (x *netExchange) header(name string) string  { return x.r.Header.Get(name) }
func (x *netExchange) setHeader(name, val string) { x.w.Header().Set(name, val) }

func (x *netExchange) forwardedFor() string {
	return strings.Join(x.r.Header.Values("X-Forwarded-For"), ",")
}

func (x *netExchange) remoteAddr() netip.Addr {
	ap, err := netip.ParseAddrPort(x.r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func (x *netExchange) body(limit int64) ([]byte, error) {
	b, err := readAll(http.MaxBytesReader(x.w, x.r.Body, limit), x.r.ContentLength, limit)
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, errBodyTooLarge
	}
	return b, err
}

// readAll reads r whole; a declared length within limit sizes the buffer
// at once instead of growing it from 512 bytes (net/http's body of a
// request with a Content-Length ends at that length).
func readAll(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared <= 0 || declared > limit {
		return io.ReadAll(r)
	}
	b := make([]byte, declared)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (x *netExchange) forwardHeaders(dst *fasthttp.RequestHeader) {
	conn := connectionTokens(x.r.Header.Get("Connection"))
	for name, vals := range x.r.Header {
		if skipRequest(name) || slices.Contains(conn, name) {
			continue
		}
		for _, v := range vals {
			dst.Add(name, v)
		}
	}
}

func (x *netExchange) writeJSON(status int, body []byte) {
	x.w.Header().Set("Content-Type", "application/json")
	x.w.WriteHeader(status)
	x.w.Write(body)
}

func (x *netExchange) stream(resp *fasthttp.Response, body io.Reader, flush bool, done func()) {
	defer done()
	h := x.w.Header()
	for k, v := range resp.Header.All() {
		if name := string(k); !skipResponse(name) {
			h.Add(name, string(v))
		}
	}
	if n := resp.Header.ContentLength(); n >= 0 && !flush {
		h.Set("Content-Length", strconv.Itoa(n))
	}
	x.w.WriteHeader(resp.StatusCode())
	var f func() error
	if flush {
		f = http.NewResponseController(x.w).Flush
	}
	if err := copyBody(x.w, body, f); err != nil {
		// The upstream broke off: end the client's response without its
		// last chunk, so that it is seen truncated, as
		// httputil.ReverseProxy does (done still runs).
		panic(http.ErrAbortHandler)
	}
}

// copyBody copies body to w through a pooled buffer, calling flush after
// every write when it is set. It returns body's read error (not EOF), and
// stops without one when a write fails: the client has gone.
func copyBody(w io.Writer, body io.Reader, flush func() error) error {
	bp := copyBufferPool.Get().(*[]byte)
	defer copyBufferPool.Put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil
			}
			if flush != nil && flush() != nil {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
