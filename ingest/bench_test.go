package ingest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
)

// benchEvents returns n events like the simulator writes: a few dozen keys
// and services, ~100 client addresses, a handful of user agents and models,
// and unique request ids.
func benchEvents(n int) []keywatch.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	uas := []string{
		"openai-python/1.40.0 (Linux; x86_64) CPython/3.12.4",
		"anthropic-sdk-typescript/0.27.0 node/20.15.1 (linux; x64)",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		"langchain/0.2.11 python-requests/2.32.3",
	}
	models := []string{"gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "claude-3-5-sonnet-20240620"}
	ops := []string{"chat", "chat", "chat", "embeddings", "responses"}
	envs := []string{"prod", "prod", "staging", "dev"}
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]keywatch.Event, n)
	for i := range evs {
		svc := rng.IntN(20)
		k := svc*3 + rng.IntN(3)
		ip := netip.AddrFrom4([4]byte{203, 0, byte(113 + svc%3), byte(rng.IntN(34))})
		if i%10 == 0 {
			ip = netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::%x", svc, rng.IntN(10)))
		}
		evs[i] = keywatch.Event{
			Time:         start.Add(time.Duration(i) * 37 * time.Millisecond),
			KeyID:        fmt.Sprintf("svc-%02d-key-%d", svc, k),
			Service:      fmt.Sprintf("service-%02d", svc),
			Env:          envs[svc%len(envs)],
			ClientIP:     ip,
			UserAgent:    uas[svc%len(uas)],
			Provider:     "openai",
			Model:        models[rng.IntN(len(models))],
			Operation:    ops[rng.IntN(len(ops))],
			InputTokens:  int64(rng.IntN(4000)),
			OutputTokens: int64(rng.IntN(800)),
			Status:       200,
			LatencyMS:    float64(rng.IntN(300000)) / 100,
			RequestID:    fmt.Sprintf("req_%016x%08x", rng.Uint64(), i),
		}
		if i%50 == 0 {
			evs[i].Status = 429
		}
	}
	return evs
}

// benchLines returns benchEvents(n) as native JSON Lines.
func benchLines(n int) []byte {
	var b []byte
	evs := benchEvents(n)
	for i := range evs {
		b = AppendNative(b, &evs[i])
	}
	return b
}

var requestIDField = regexp.MustCompile(`,"request_id":"[^"]*"`)

func stripRequestIDs(b []byte) []byte { return requestIDField.ReplaceAll(b, nil) }

func BenchmarkNative(b *testing.B) {
	for _, tc := range []struct {
		name  string
		strip bool
	}{{"request_id", false}, {"no_request_id", true}} {
		b.Run(tc.name, func(b *testing.B) {
			data := benchLines(10000)
			if tc.strip {
				data = stripRequestIDs(data)
			}
			lines := bytes.Count(data, []byte{'\n'})
			b.SetBytes(int64(len(data) / lines))
			b.ReportAllocs()
			r := bytes.NewReader(data)
			d := NewNative(r)
			var ev keywatch.Event
			b.ResetTimer()
			for range b.N {
				err := d.Next(&ev)
				if err == io.EOF {
					r.Reset(data)
					err = d.Next(&ev)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
