package gateway

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/fasthttp"
)

// Forwarding on the event loop: the request goes to a connection of the
// loop's pool for its upstream (dialled off the loop and registered on it
// when none is idle), and the answer comes back through readUpstream.

// forwardLoop sends the checked request upstream from the loop; the answer
// ends x when it is through.
func (g *Gateway) forwardLoop(x *loopExchange, ev *keywatch.Event, c *call, method string, body []byte, start time.Time) *refusal {
	req := fasthttp.AcquireRequest()
	g.upstreamRequest(req, x, c.up, method, body)
	x.upReq = req.Header.AppendBytes(x.upReq[:0])
	x.upReq = append(x.upReq, body...)
	fasthttp.ReleaseRequest(req)
	x.forwarding, x.ev, x.call, x.start = true, ev, c, start
	x.split = sseSplitter{u: &c.u, strip: c.injected && (g.cfg.StripInjectedUsage == nil || *g.cfg.StripInjectedUsage)}
	x.send()
	return nil
}

// pool returns the loop's pool for up.
func (ls *loopState) pool(up *upstream) *loopPool {
	p := ls.pools[up]
	if p == nil {
		p = &loopPool{up: up, busy: map[*loopUp]struct{}{}}
		ls.pools[up] = p
	}
	return p
}

// send writes the request on an idle connection, or dials one.
func (x *loopExchange) send() {
	ls := x.cl.ls
	p := ls.pool(x.call.up)
	if n := len(p.idle); n > 0 {
		u := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.busy[u] = struct{}{}
		u.x, u.since = x, time.Now()
		x.up, x.reused = u, true
		u.c.Write(x.upReq)
		return
	}
	u := &loopUp{pool: p, x: x}
	x.up, x.reused = u, false
	// The goroutine touches nothing of x's: the loop may end and recycle
	// x (its client gone) while the dial is under way.
	dial, addr, name, log := p.up.client.Dial, p.up.client.Addr, p.up.Name, x.f.g.log
	go func() {
		conn, err := dial(addr)
		if err == nil {
			var res <-chan gnet.RegisteredResult
			if res, err = ls.el.Enroll(gnet.NewContext(context.Background(), u), conn); err == nil {
				r := <-res
				err = r.Err
			}
			conn.Close() // gnet holds a duplicate
		}
		if err != nil {
			log.Warn("gateway upstream failed", "upstream", name, "err", err)
			ls.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				if u.x == x {
					u.x, u.dead = nil, true
					x.upstreamClosed(u)
				}
				return nil
			}))
		}
	}()
}

// readUpstream passes on what the upstream has sent: the answer's header,
// then its body, reading usage on the way.
func (x *loopExchange) readUpstream(u *loopUp) {
	c := u.c
	for !x.gotHeader {
		buf, _ := c.Peek(-1)
		n, err := x.cl.ls.parse(buf, x.resp.Read)
		if err == errMore {
			return
		}
		if err != nil {
			x.f.g.log.Warn("gateway upstream failed", "upstream", x.call.up.Name, "err", "malformed answer header")
			u.x, u.dead = nil, true
			c.Close()
			x.upstreamClosed(u)
			return
		}
		c.Discard(n)
		status := x.resp.StatusCode()
		if status >= 100 && status < 200 {
			x.resp.Reset() // an interim answer (100 Continue)
			continue
		}
		x.gotHeader = true
		x.ev.Status = status
		x.noBody = x.method() == "HEAD" || status == 204 || status == 304
		x.respLeft = int64(x.resp.ContentLength())
		x.sse = bytes.HasPrefix(x.resp.ContentType(), []byte("text/event-stream"))
		x.out = x.head(x.out[:0], status)
		x.out = appendUpstreamHeaders(x.out, &x.resp)
		switch {
		case x.noBody:
			if x.respLeft >= 0 {
				x.out = append(x.out, "Content-Length: "...)
				x.out = strconv.AppendInt(x.out, x.respLeft, 10)
				x.out = append(x.out, "\r\n"...)
			}
		case (x.sse || x.respLeft < 0) && !x.req.Header.IsHTTP11():
			// HTTP/1.0 has no chunked encoding: the body ends with the
			// connection.
			x.toClient = 2
			if !x.cl.closing {
				x.cl.closing = true
				x.out = append(x.out, "Connection: close\r\n"...)
			}
		case x.sse || x.respLeft < 0:
			x.toClient = 1
			x.out = append(x.out, "Transfer-Encoding: chunked\r\n"...)
		default:
			x.out = append(x.out, "Content-Length: "...)
			x.out = strconv.AppendInt(x.out, x.respLeft, 10)
			x.out = append(x.out, "\r\n"...)
		}
		x.out = append(x.out, "\r\n"...)
		if x.noBody {
			x.answered(u, true)
			return
		}
	}
	buf, _ := c.Peek(-1)
	switch {
	case x.respLeft >= 0:
		k := int(min(x.respLeft, int64(len(buf))))
		x.pass(buf[:k])
		c.Discard(k)
		x.respLeft -= int64(k)
		if x.respLeft == 0 {
			x.answered(u, c.InboundBuffered() == 0)
			return
		}
	case x.respLeft == -1:
		n, done, err := x.respChunk.decode(buf, x.pass)
		c.Discard(n)
		if err != nil {
			x.f.g.log.Warn("gateway upstream failed", "upstream", x.call.up.Name, "err", err)
			u.x, u.dead = nil, true
			c.Close()
			x.brokeOff()
			return
		}
		if done {
			x.answered(u, c.InboundBuffered() == 0)
			return
		}
	default: // until the upstream closes
		x.pass(buf)
		c.Discard(len(buf))
	}
	x.flush()
}

// pass hands a piece of the answer's body to the client, reading usage.
func (x *loopExchange) pass(p []byte) {
	if x.sse {
		x.split.feed(p, x.chunk1)
		return
	}
	x.keepTail(p)
	if x.toClient == 1 {
		x.out = appendChunk(x.out, p)
	} else {
		x.out = append(x.out, p...)
	}
}

// chunk1 adds one event of a stream to the client's answer.
func (x *loopExchange) chunk1(p []byte) {
	if x.toClient == 2 {
		x.out = append(x.out, p...)
		return
	}
	x.out = appendChunk(x.out, p)
}

// keepTail keeps the last tailSize bytes of a JSON answer, for its usage.
func (x *loopExchange) keepTail(p []byte) {
	if x.tail == nil {
		x.tail = (*tailBufs.Get().(*[]byte))[:0]
	}
	x.tail = append(x.tail, p...)
	if len(x.tail) > 2*tailSize {
		x.tail = append(x.tail[:0], x.tail[len(x.tail)-tailSize:]...)
	}
}

// flush writes what x.out holds. A client gone or too slow ends the
// exchange, and flush reports false: x is no longer to be touched.
func (x *loopExchange) flush() bool {
	if len(x.out) == 0 {
		return true
	}
	cl := x.cl
	err := x.write(x.out)
	if cl.x != x {
		// gnet closes a connection whose write fails at once, and
		// OnClose has ended the exchange.
		return false
	}
	x.out = x.out[:0]
	if err == nil {
		return true
	}
	if !x.cl.closed {
		x.f.g.log.Warn("gateway: closing a client connection", "key_id", x.ev.KeyID, "err", err)
		x.cl.closed = true
		x.cl.c.Close()
	}
	x.clientGone()
	return false
}

// answered ends a complete answer: the client's last bytes, the upstream
// connection back to the pool when it can serve again, the event to Run.
func (x *loopExchange) answered(u *loopUp, reusable bool) {
	if x.sse {
		x.split.finish(x.chunk1)
	}
	if x.toClient == 1 {
		x.out = append(x.out, lastChunk...)
	}
	if !x.flush() {
		return // the upstream connection is closed with the exchange
	}
	u.x = nil
	if reusable && !x.resp.ConnectionClose() && !u.dead && !x.f.draining.Load() {
		delete(u.pool.busy, u)
		u.since = time.Now()
		u.pool.idle = append(u.pool.idle, u)
	} else if !u.dead {
		u.dead = true
		u.c.Close()
	}
	x.done()
}

// done hands the event to Run and ends the exchange.
func (x *loopExchange) done() {
	if !x.forwarding {
		return
	}
	x.forwarding = false
	g := x.f.g
	ev := x.ev
	ev.LatencyMS = float64(g.now().Sub(x.start).Microseconds()) / 1000
	a := answered{ev: ev, c: x.call, at: x.start}
	if !x.sse {
		a.tail = &tailBody{tail: x.tail}
		x.tail = nil
	}
	g.later(a)
	x.end()
}

// upstreamClosed handles an upstream connection that closed or failed
// while x waited on it: a retry when a kept-alive connection closed
// before answering, a 502 when nothing was answered, else the end of a
// body read until close, or a cut answer.
func (x *loopExchange) upstreamClosed(u *loopUp) {
	switch {
	case !x.forwarding:
	case !x.gotHeader && x.reused && !x.retried:
		x.retried = true
		x.send()
	case !x.gotHeader:
		x.forwarding = false
		g, ev, start := x.f.g, x.ev, x.start
		ev.Status = errUpstream.status
		errUpstream.send(x) // ends x
		g.finish(ev, start)
	case x.respLeft == -2:
		x.answered(u, false)
	default:
		x.brokeOff()
	}
}

// brokeOff ends an answer the upstream cut: the client gets what came
// and a closed connection, so that it sees the answer incomplete.
func (x *loopExchange) brokeOff() {
	if !x.flush() {
		return
	}
	if !x.cl.closed {
		x.cl.closed = true
		x.cl.c.Close()
	}
	x.done()
}

// clientGone ends a forwarded request whose client left: the upstream
// connection is closed, which stops the generation the client no longer
// waits for, and the event reports what was answered so far (status 499
// when nothing was, as nginx logs it).
func (x *loopExchange) clientGone() {
	if !x.forwarding {
		return
	}
	if u := x.up; u != nil && u.x == x {
		u.x, u.dead = nil, true
		if u.c != nil {
			u.c.Close()
		}
	}
	if !x.gotHeader {
		x.ev.Status = 499
	}
	x.done()
}
