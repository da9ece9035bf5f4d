package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/panjf2000/gnet/v2"
)

// runGnetProxy runs a bare reverse proxy on one gnet event loop (epoll,
// no goroutine per connection), with a pool of upstream connections on
// the same loop: the shape of nginx's worker. It understands only what
// the benchmark sends (keep-alive requests and answers with a
// Content-Length) and checks nothing. It measures the floor of an
// event-loop proxy in Go, against fastproxy's goroutine-per-connection
// floor, for the question of what the gateway's data plane could reach.
func runGnetProxy(ctx context.Context, args []string) error {
	listen, target, err := proxyFlags("gnetproxy", args)
	if err != nil {
		return err
	}
	upAddr, err := net.ResolveTCPAddr("tcp", target.Host)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen) // only to pick the port
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &gnetProxy{up: upAddr, ready: make(chan error, 1)}
	done := make(chan error, 1)
	go func() {
		done <- gnet.Run(p, "tcp://"+addr, gnet.WithMulticore(false), gnet.WithNumEventLoop(1),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay), gnet.WithLoadBalancing(gnet.LeastConnections))
	}()
	select {
	case err := <-done:
		return err
	case err := <-p.ready:
		if err != nil {
			return err
		}
	}
	fmt.Println("listening", addr)
	select {
	case <-ctx.Done():
		gnet.Stop(context.Background(), "tcp://"+addr)
		return <-done
	case err := <-done:
		return err
	}
}

const gnetUpstreams = 16

type gnetProxy struct {
	gnet.BuiltinEventEngine
	up    *net.TCPAddr
	ready chan error
	eng   gnet.Engine

	mu      sync.Mutex // guards free while the pool is being built off the loop
	free    []gnet.Conn
	waiting []*gnetClient // clients with a whole request and no free upstream
}

// client is an accepted connection's state; upstream one's is *gnetUp.
type gnetClient struct {
	in   []byte    // bytes read, not yet forwarded
	busy *gnetUp   // the upstream answering its current request
	out  gnet.Conn // the client connection itself
}

type gnetUp struct {
	in     []byte
	client *gnetClient
	c      gnet.Conn
}

func (p *gnetProxy) OnBoot(eng gnet.Engine) gnet.Action {
	p.eng = eng
	go func() {
		for range gnetUpstreams {
			if err := p.dial(); err != nil {
				p.ready <- err
				return
			}
		}
		p.ready <- nil
	}()
	return gnet.None
}

// dial registers one more upstream connection on the loop and adds it to
// the free pool; it runs off the loop, which does the registering.
func (p *gnetProxy) dial() error {
	u := &gnetUp{}
	ch, err := p.eng.Register(gnet.NewContext(gnet.NewNetAddrContext(context.Background(), p.up), u))
	if err != nil {
		return err
	}
	r := <-ch
	if r.Err != nil {
		return r.Err
	}
	u.c = r.Conn
	p.mu.Lock()
	p.free = append(p.free, r.Conn)
	p.mu.Unlock()
	return nil
}

// OnClose replaces an upstream connection the upstream closed (its idle
// timeout), and drops a client's state.
func (p *gnetProxy) OnClose(c gnet.Conn, _ error) gnet.Action {
	if u, ok := c.Context().(*gnetUp); ok {
		p.mu.Lock()
		p.free = slices.DeleteFunc(p.free, func(f gnet.Conn) bool { return f == c })
		p.mu.Unlock()
		if u.client != nil {
			u.client.busy = nil
			u.client.out.Close()
		}
		go p.dial()
	}
	return gnet.None
}

func (p *gnetProxy) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if c.Context() == nil {
		c.SetContext(&gnetClient{out: c})
	}
	return nil, gnet.None
}

func (p *gnetProxy) OnTraffic(c gnet.Conn) gnet.Action {
	b, _ := c.Next(-1)
	switch s := c.Context().(type) {
	case *gnetClient:
		s.in = append(s.in, b...)
		p.pump(s)
	case *gnetUp:
		s.in = append(s.in, b...)
		n := messageLen(s.in)
		if n < 0 {
			return gnet.None
		}
		cl := s.client
		cl.out.Write(s.in[:n])
		s.in = append(s.in[:0], s.in[n:]...)
		s.client, cl.busy = nil, nil
		p.mu.Lock()
		p.free = append(p.free, s.c)
		p.mu.Unlock()
		p.pump(cl)
		for len(p.waiting) > 0 && len(p.free) > 0 {
			w := p.waiting[0]
			p.waiting = p.waiting[1:]
			p.pump(w)
		}
	}
	return gnet.None
}

// pump forwards the client's next whole request when it has none in flight.
func (p *gnetProxy) pump(s *gnetClient) {
	if s.busy != nil {
		return
	}
	n := messageLen(s.in)
	if n < 0 {
		return
	}
	p.mu.Lock()
	if len(p.free) == 0 {
		p.mu.Unlock()
		p.waiting = append(p.waiting, s)
		return
	}
	uc := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	p.mu.Unlock()
	u := uc.Context().(*gnetUp)
	u.client, s.busy = s, u
	uc.Write(s.in[:n])
	s.in = append(s.in[:0], s.in[n:]...)
}

// messageLen is the length of the whole HTTP/1.1 message at the start of
// b (headers and a Content-Length body), or -1 when b does not hold one.
func messageLen(b []byte) int {
	h := bytes.Index(b, []byte("\r\n\r\n"))
	if h < 0 {
		return -1
	}
	n := 0
	for line := range bytes.SplitSeq(b[:h], []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(k, []byte("Content-Length")) {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if len(b) < h+4+n {
		return -1
	}
	return h + 4 + n
}
