package gateway_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzLoopRequest sends arbitrary bytes, in two writes split anywhere, to
// the event-loop front: whatever arrives, the gateway answers or closes,
// and never panics (a panic on a loop is recovered and logged, which the
// test looks for) nor leaks the credential into its log.
func FuzzLoopRequest(f *testing.F) {
	h := newHarnessOn(f, frontLoop, testKeys...)
	_, srv := h.gateway(nil)
	key := h.keys["open"]
	for _, seed := range []string{
		chatRequest(key, chatBody),
		chatRequest(key, chatBody) + chatRequest(key, chatBody),
		"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + key +
			"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"mod\r\n" + "4c\r\n" + chatBody[5:] + "\r\n0\r\n\r\n",
		"GET /v1/models HTTP/1.0\r\nAuthorization: Bearer " + key + "\r\n\r\n",
		chatRequest(key, chatBody, "Expect: 100-continue\r\n"),
		"POST /v1/gateway/token HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + key + "\r\nContent-Length: 2\r\n\r\n{}",
		"GET /healthz HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(seed), uint16(len(seed)/2))
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		k := int(split) % (len(in) + 1)
		c.Write(in[:k])
		c.Write(in[k:])
		c.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, c); err != nil && !isReset(err) {
			t.Fatalf("no answer or close within 10 s: %v", err)
		}
		for drained := false; !drained; { // events are not this test's concern
			select {
			case <-h.events:
			default:
				drained = true
			}
		}
		if logs := h.logText(); strings.Contains(logs, "panicked") || strings.Contains(logs, key) {
			t.Fatalf("the gateway panicked or logged the key: %s", logs)
		}
	})
}

// isReset reports a connection the gateway reset, as it may when it
// closes with unread bytes.
func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}
