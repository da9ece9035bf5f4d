package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
)

// Tests of what only the event-loop front does itself: HTTP/1.1 framing
// on both sides, pipelining, its connection pool. Everything else runs on
// every front (allFronts).

// rawConn dials the front and returns the connection and a reader of its
// answers.
func rawConn(t *testing.T, srv *front) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// readAnswer reads one answer and its whole body.
func readAnswer(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading an answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading an answer's body: %v", err)
	}
	return resp, string(b)
}

func chatRequest(key, body string, extra ...string) string {
	return "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + key +
		"\r\nContent-Type: application/json\r\n" + strings.Join(extra, "") +
		"Content-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body
}

func TestLoopPipelining(t *testing.T) {
	h := newHarnessOn(t, frontLoop, testKeys...)
	_, srv := h.gateway(nil)
	c, br := rawConn(t, srv)
	key := h.keys["open"]
	// Three requests in one write: an answered one, a refused one, and a
	// GET; the answers come in order.
	io.WriteString(c, chatRequest(key, chatBody)+chatRequest("kwk_wrong", chatBody)+
		"GET /v1/models HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer "+key+"\r\n\r\n")
	for i, want := range []int{200, 401, 200} {
		method := "POST"
		if i == 2 {
			method = "GET"
		}
		resp, body := readAnswer(t, br, method)
		if resp.StatusCode != want {
			t.Fatalf("answer %d: %d %s, want %d", i, resp.StatusCode, body, want)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("answer %d has no X-Request-Id", i)
		}
	}
	for range 3 {
		h.nextEvent()
	}
}

func TestLoopRefusesBadHTTP(t *testing.T) {
	h := newHarnessOn(t, frontLoop, testKeys...)
	_, srv := h.gateway(nil)
	key := h.keys["open"]
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"not HTTP", "hello there\r\n\r\n", 400},
		{"header over 16 KiB", "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nX-Big: " + strings.Repeat("a", 17<<10) + "\r\n\r\n", 431},
		{"malformed chunked body", "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + key +
			"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := rawConn(t, srv)
			io.WriteString(c, tc.req)
			resp, body := readAnswer(t, br, "POST")
			if resp.StatusCode != tc.status || !resp.Close {
				t.Fatalf("got %d (close %v) %s, want %d and the connection closed", resp.StatusCode, resp.Close, body, tc.status)
			}
			errorCode(t, body)
			if strings.Contains(body, key) || strings.Contains(h.logText(), key) {
				t.Error("the credential reached the answer or the log")
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("connection still open after a refusal (%v)", err)
			}
		})
	}
}

func TestLoopExpectContinue(t *testing.T) {
	h := newHarnessOn(t, frontLoop, testKeys...)
	_, srv := h.gateway(nil)
	c, br := rawConn(t, srv)
	req := chatRequest(h.keys["open"], chatBody, "Expect: 100-continue\r\n")
	head, body, _ := strings.Cut(req, "\r\n\r\n")
	io.WriteString(c, head+"\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q (%v), want a 100 Continue", line, err)
	}
	br.ReadString('\n') // its blank line
	io.WriteString(c, body)
	if resp, b := readAnswer(t, br, "POST"); resp.StatusCode != 200 {
		t.Fatalf("got %d %s; log: %s", resp.StatusCode, b, h.logText())
	}
	h.nextEvent()
}

// TestLoopClientLeaves checks that a client leaving before the answer
// stops the upstream request (the generation it would pay for) and is
// reported with status 499.
func TestLoopClientLeaves(t *testing.T) {
	h := newHarnessOn(t, frontLoop, testKeys...)
	cancelled := make(chan struct{})
	up := rawUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // net/http notices a closed connection only after the body
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
	})
	_, srv := h.gatewayWith(withUpstream(h, up), nil)
	c, _ := rawConn(t, srv)
	io.WriteString(c, chatRequest(h.keys["open"], chatBody))
	time.Sleep(100 * time.Millisecond) // the request reaches the upstream
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request went on after the client left")
	}
	if ev := h.nextEvent(); ev.Status != 499 || ev.KeyID != "open" {
		t.Errorf("event status %d key %q, want 499 open", ev.Status, ev.KeyID)
	}
}

// tcpUpstream serves each connection with answer, which reads requests
// from br and writes to c by hand.
func tcpUpstream(t *testing.T, answer func(n int, c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(conns.Add(1))
			go func() {
				defer c.Close()
				answer(n, c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// readRequest reads one request with its body, false when the
// connection ended.
func readRequest(br *bufio.Reader) bool {
	r, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, r.Body)
	return true
}

const usageJSON = `{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":11,"completion_tokens":7}}`

func TestLoopUpstreamFraming(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string // after the status line
		close  bool   // the upstream closes after answering
	}{
		{"content-length", "Content-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(usageJSON)) + "\r\n\r\n" + usageJSON, false},
		{"chunked with trailers", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"10\r\n" + usageJSON[:16] + "\r\n" + fmt.Sprintf("%x", len(usageJSON)-16) + ";ext=1\r\n" + usageJSON[16:] + "\r\n0\r\nX-T: 1\r\n\r\n", false},
		{"until close", "Content-Type: application/json\r\n\r\n" + usageJSON, true},
		{"after a 100 Continue", "Content-Length: 0\r\n\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessOn(t, frontLoop, testKeys...)
			up := tcpUpstream(t, func(_ int, c net.Conn, br *bufio.Reader) {
				for readRequest(br) {
					if tc.name == "after a 100 Continue" {
						io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\n"+tc.answer)
					if tc.close {
						return
					}
				}
			})
			_, srv := h.gatewayWith(withUpstream(h, up), nil)
			for i := range 2 { // the second on a pooled connection, or a new one
				status, _, body := do(t, srv, "POST", "/v1/chat/completions", h.keys["open"], chatBody)
				_, want, _ := strings.Cut(tc.answer, "\r\n\r\n")
				if strings.Contains(tc.answer, "chunked") {
					want = usageJSON
				}
				if status != 200 || body != want {
					t.Fatalf("request %d: got %d %q, want 200 %q", i, status, body, want)
				}
				ev := h.nextEvent()
				if want == usageJSON && (ev.InputTokens != 11 || ev.OutputTokens != 7) {
					t.Errorf("request %d: event tokens %d/%d, want 11/7", i, ev.InputTokens, ev.OutputTokens)
				}
			}
		})
	}
}

// TestLoopRetriesClosedConnection: a pooled connection the upstream
// closes on receiving the next request, without answering, is retried
// once on a new connection, as net/http's client does.
func TestLoopRetriesClosedConnection(t *testing.T) {
	h := newHarnessOn(t, frontLoop, testKeys...)
	up := tcpUpstream(t, func(_ int, c net.Conn, br *bufio.Reader) {
		if !readRequest(br) {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(len(usageJSON))+"\r\n\r\n"+usageJSON)
		readRequest(br) // and close without answering
	})
	_, srv := h.gatewayWith(withUpstream(h, up), nil)
	for i := range 3 {
		if status, _, body := do(t, srv, "POST", "/v1/chat/completions", h.keys["open"], chatBody); status != 200 {
			t.Fatalf("request %d: got %d %s", i, status, body)
		}
		h.nextEvent()
	}
}

// TestLoopKeyIssuedAfterStart: a secret the keyring does not hold yet
// needs a store read, which never runs on a loop; the request is served
// off the loop and succeeds.
func TestLoopKeyIssuedAfterStart(t *testing.T) {
	h := newHarnessOn(t, frontLoop, testKeys...)
	_, srv := h.gateway(nil)
	h.clock.Add(2 * time.Second) // past the keyring's reload interval
	sec, err := gateway.Issue(context.Background(), h.store, pepper, keywatch.Key{ID: "late", Service: "svc", Env: "prod"},
		t0, keywatch.Change{Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := do(t, srv, "POST", "/v1/chat/completions", sec, chatBody); status != 200 {
		t.Fatalf("got %d %s", status, body)
	}
	if ev := h.nextEvent(); ev.KeyID != "late" {
		t.Errorf("event key %q", ev.KeyID)
	}
}

// TestLoopHealthz: the load balancer's probe.
func TestLoopHealthz(t *testing.T) {
	h := newHarnessOn(t, frontLoop, testKeys...)
	_, srv := h.gateway(nil)
	status, _, body := do(t, srv, "GET", "/healthz", "", "")
	if status != 200 || body != "ok\n" {
		t.Fatalf("got %d %q", status, body)
	}
}

// logText is what the gateway has logged so far.
func (h *harness) logText() string {
	logMu.Lock()
	defer logMu.Unlock()
	return h.logs.String()
}

// TestLoopHTTP10Stream: an HTTP/1.0 client has no chunked encoding, so a
// stream comes to it unframed and ends with the connection, on the loop
// (MemoryState) as off it (RedisState, whose checks run on a goroutine).
func TestLoopHTTP10Stream(t *testing.T) {
	onAndOffLoop(t, func(t *testing.T, h *harness, state gateway.State) {
		_, srv := h.gateway(state)
		c, br := rawConn(t, srv)
		body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		io.WriteString(c, strings.Replace(chatRequest(h.keys["open"], body), "HTTP/1.1", "HTTP/1.0", 1))
		resp, got := readAnswer(t, br, "POST")
		if resp.StatusCode != 200 || len(resp.TransferEncoding) > 0 || !strings.Contains(got, "data: [DONE]") {
			t.Fatalf("got %d %v %q, want 200, no transfer coding, the whole stream", resp.StatusCode, resp.TransferEncoding, got)
		}
		if ev := h.nextEvent(); ev.OutputTokens == 0 {
			t.Errorf("stream usage not read: %+v", ev)
		}
	})
}

// TestLoopConcurrent runs many clients at once through the loops, on them
// (MemoryState) and off them (RedisState): answers, streams, streams the
// client abandons halfway and refusals, each request reported once, and
// nothing left in flight at shutdown (the harness's Shutdown fails
// otherwise).
func TestLoopConcurrent(t *testing.T) {
	onAndOffLoop(t, func(t *testing.T, h *harness, state gateway.State) {
		_, srv := h.gateway(state)
		const clients, each = 12, 25
		stream := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		errs := make(chan error, clients)
		for i := range clients {
			go func() {
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				cl := &http.Client{Transport: tr}
				for j := range each {
					key, body := h.keys["open"], chatBody
					switch (i + j) % 4 {
					case 1, 2:
						body = stream
					case 3:
						key = "kwk_not-a-key"
					}
					req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+key)
					resp, err := cl.Do(req)
					if err != nil {
						errs <- err
						return
					}
					if (i+j)%4 == 2 {
						resp.Body.Read(make([]byte, 16)) // abandon the stream
					} else {
						io.Copy(io.Discard, resp.Body)
					}
					resp.Body.Close()
					if want := map[bool]int{true: 401, false: 200}[(i+j)%4 == 3]; resp.StatusCode != want {
						errs <- fmt.Errorf("status %d, want %d", resp.StatusCode, want)
						return
					}
				}
				errs <- nil
			}()
		}
		for range clients {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for range clients * each {
			h.nextEvent()
		}
		select {
		case ev := <-h.events:
			t.Fatalf("an event more than requests: %+v", ev)
		case <-time.After(100 * time.Millisecond):
		}
	})
}

// onAndOffLoop runs test with a state that lets the loops answer
// (MemoryState) and with one whose checks go to goroutines (RedisState).
func onAndOffLoop(t *testing.T, test func(t *testing.T, h *harness, state gateway.State)) {
	for _, name := range []string{"memory", "redis"} {
		t.Run(name, func(t *testing.T) {
			h := newHarnessOn(t, frontLoop, testKeys...)
			var state gateway.State
			if name == "redis" {
				rdb, prefix := redisState(t)
				state = gateway.NewRedisState(rdb, prefix)
			}
			test(t, h, state)
		})
	}
}

// TestLoopSlowClient: a client that stops reading a long answer is cut
// off once maxPending (16 MiB) waits for it, so a slow reader cannot make
// the gateway hold an unbounded answer; the request is still reported.
func TestLoopSlowClient(t *testing.T) {
	onAndOffLoop(t, func(t *testing.T, h *harness, state gateway.State) {
		big := strings.Repeat("x", 1<<20)
		up := rawUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(64*len(big)))
			for range 64 {
				if _, err := io.WriteString(w, big); err != nil {
					return // the gateway gave up
				}
			}
		})
		_, srv := h.gatewayWith(withUpstream(h, up), state)
		c, br := rawConn(t, srv)
		io.WriteString(c, chatRequest(h.keys["open"], chatBody))
		resp, err := http.ReadResponse(br, &http.Request{Method: "POST"})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("answer: %v %v", resp, err)
		}
		// Read nothing more for a while, then drain: the answer must end
		// early, cut off.
		time.Sleep(2 * time.Second)
		c.SetDeadline(time.Now().Add(20 * time.Second))
		n, _ := io.Copy(io.Discard, resp.Body)
		if n >= int64(64*len(big)) {
			t.Fatalf("read the whole %d-byte answer; the slow client was never cut off", n)
		}
		if ev := h.nextEvent(); ev.KeyID != "open" {
			t.Errorf("event key %q", ev.KeyID)
		}
	})
}
