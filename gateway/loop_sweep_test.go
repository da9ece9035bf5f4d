package gateway

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywatch/keywatch/sqlite"
	"github.com/panjf2000/gnet/v2"
)

// TestLoopSweep checks the event-loop front's timeouts by sweeping at
// later times: a request still incomplete after loopReadTimeout (a header
// or a body trickling in) is cut, an idle kept-alive connection lasts
// loopIdleTimeout.
func TestLoopSweep(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := DefaultConfig()
	cfg.Upstreams = []Upstream{{Name: "openai", Provider: ProviderOpenAI, BaseURL: "http://127.0.0.1:9/v1", APIKeyEnv: "K", Default: true}}
	g, err := New(context.Background(), cfg, Options{Store: st, Pepper: make([]byte, 32), Getenv: func(string) string { return "sk-x" }})
	if err != nil {
		t.Fatal(err)
	}
	addr := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- g.ServeEvents("127.0.0.1:0", func(a net.Addr) { addr <- a }) }()
	a := <-addr
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.Shutdown(ctx)
		<-served
	}()
	dial := func(send string) net.Conn {
		c, err := net.Dial("tcp", a.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, send)
		return c
	}
	header := dial("POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n")
	body := dial("POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\n{\"model\":")
	idle := dial("")
	time.Sleep(200 * time.Millisecond) // the loops have read what was sent

	sweep := func(after time.Duration) {
		now := time.Now().Add(after)
		done := make(chan struct{})
		n := 0
		g.loop.loops.Range(func(_, v any) bool {
			ls := v.(*loopState)
			n++
			ls.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				g.loop.sweep(ls, now)
				done <- struct{}{}
				return nil
			}))
			return true
		})
		for range n {
			<-done
		}
	}
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		return err == io.EOF
	}
	sweep(loopReadTimeout / 2)
	for name, c := range map[string]net.Conn{"header": header, "body": body, "idle": idle} {
		if closed(c) {
			t.Fatalf("%s connection closed before any timeout", name)
		}
	}
	sweep(loopReadTimeout + time.Second)
	if !closed(header) || !closed(body) {
		t.Fatal("a request incomplete after the read timeout was not cut")
	}
	if closed(idle) {
		t.Fatal("an idle connection closed at the read timeout")
	}
	sweep(loopIdleTimeout + time.Second)
	if !closed(idle) {
		t.Fatal("an idle connection outlived the idle timeout")
	}
	if n := g.loop.inflight.Load(); n != 0 {
		t.Errorf("%d requests still counted in flight after their connections closed", n)
	}
}
