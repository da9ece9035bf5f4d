package gateway_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/gateway/gatewaytest"
)

// BenchmarkProxy compares a chat completion sent straight to the fake
// upstream with one sent through the gateway (its own server with memory
// and Redis state, and net/http's server as serve runs it), and reports
// the gateway's added latency at p50 and p99.
func BenchmarkProxy(b *testing.B) {
	h := newHarness(b, testKeys...)
	go func() {
		for range h.events { // a sink that keeps up
		}
	}()
	run := func(b *testing.B, url, auth string) []time.Duration {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(chatBody))
			req.Header.Set("Authorization", "Bearer "+auth)
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%v %v", err, resp)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		slices.Sort(lat)
		return lat
	}
	pct := func(l []time.Duration, p float64) time.Duration { return l[min(len(l)-1, int(float64(len(l))*p))] }
	var direct []time.Duration
	b.Run("direct", func(b *testing.B) { direct = run(b, h.up.URL, gatewaytest.OpenAIKey) })
	through := func(b *testing.B, state gateway.State, fr frontKind) {
		h.front = fr
		_, srv := h.gateway(state)
		lat := run(b, srv.URL, h.keys["open"])
		if len(direct) > 0 {
			b.ReportMetric(float64((pct(lat, 0.5) - pct(direct, 0.5)).Microseconds()), "added-µs-p50")
			b.ReportMetric(float64((pct(lat, 0.99) - pct(direct, 0.99)).Microseconds()), "added-µs-p99")
		}
	}
	b.Run("gateway-memory", func(b *testing.B) { through(b, gateway.NewMemoryState(), frontFast) })
	b.Run("gateway-memory-loop", func(b *testing.B) { through(b, gateway.NewMemoryState(), frontLoop) })
	b.Run("gateway-memory-nethttp", func(b *testing.B) { through(b, gateway.NewMemoryState(), frontNetHTTP) })
	b.Run("gateway-redis", func(b *testing.B) {
		rdb, prefix := redisState(b)
		through(b, gateway.NewRedisState(rdb, prefix), frontFast)
	})
}
