package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keywatch/keywatch/server"
	"github.com/keywatch/keywatch/store"
)

// BenchmarkIngestHTTP measures sustained ingest over HTTP on loopback with
// the SQLite store: batches of 1,000 native events posted by 8 concurrent
// clients (the load generator runs in this process, on the same cores),
// each acknowledged only once durable, and the time until detection has
// processed them all. One batch in 50 carries an auth-failure burst that
// fires an alert, so detection latency (receipt to alert stored) is
// measured too: events/s and p99 latency are reported as metrics.
func BenchmarkIngestHTTP(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "kw.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	srv, err := server.New(ctx, cfg, server.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	hs, secret := running(b, srv, st, "bench")

	const perBatch = 1000
	at := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	batch := func(n int) []byte {
		var sb strings.Builder
		for i := 0; i < perBatch; i++ {
			t := at.Add(time.Duration(n*perBatch+i) * 5 * time.Millisecond).Format(time.RFC3339Nano)
			if n%50 == 0 && i < 25 {
				fmt.Fprintf(&sb, `{"time":%q,"key_id":"victim-%d","client_ip":"88.198.1.2","status":401}`+"\n", t, n)
				continue
			}
			fmt.Fprintf(&sb, `{"time":%q,"key_id":"key-%d","service":"svc-%d","env":"prod","client_ip":"3.80.0.%d","user_agent":"openai-python/1.54.0","provider":"openai","model":"gpt-4o-mini","operation":"chat","input_tokens":%d,"output_tokens":%d,"status":200,"latency_ms":812}`+"\n",
				t, i%50, i%10, i%4, 400+i, 90+i%40)
		}
		return []byte(sb.String())
	}
	bodies := make([][]byte, 100)
	for i := range bodies {
		bodies[i] = batch(i)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	post := func(body []byte) error {
		req, _ := http.NewRequest("POST", hs.URL+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	stats := func() int64 {
		req, _ := http.NewRequest("GET", hs.URL+"/api/stats", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var s struct{ Processed int64 }
		if err := jsonDecode(resp.Body, &s); err != nil {
			b.Fatal(err)
		}
		return s.Processed
	}
	base := stats()

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if n >= int64(b.N) {
					return
				}
				if err := post(bodies[n%int64(len(bodies))]); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	want := base + int64(b.N)*perBatch
	for stats() < want {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*perBatch)/elapsed.Seconds(), "events/s")
	b.ReportMetric(p99(b, client, hs.URL, secret)*1000, "p99-detect-ms")
}

func jsonDecode(r io.Reader, v any) error {
	return json.NewDecoder(r).Decode(v)
}

// p99 estimates the 99th percentile of the detection latency histogram
// from /metrics, interpolating linearly inside the bucket that holds it.
func p99(b *testing.B, client *http.Client, url, secret string) float64 {
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	type bucket struct{ le, count float64 }
	var buckets []bucket
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "keywatch_detection_latency_seconds_bucket{le=") {
			continue
		}
		le := strings.TrimSuffix(strings.TrimPrefix(strings.Fields(line)[0], `keywatch_detection_latency_seconds_bucket{le="`), `"}`)
		c, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
		v := math.Inf(1)
		if le != "+Inf" {
			v, _ = strconv.ParseFloat(le, 64)
		}
		buckets = append(buckets, bucket{v, c})
	}
	if len(buckets) == 0 || buckets[len(buckets)-1].count == 0 {
		b.Fatal("no detection latency observed")
	}
	total := buckets[len(buckets)-1].count
	rank := 0.99 * total
	prevLe, prevCount := 0.0, 0.0
	for _, bk := range buckets {
		if bk.count >= rank {
			if math.IsInf(bk.le, 1) {
				return prevLe
			}
			return prevLe + (bk.le-prevLe)*(rank-prevCount)/math.Max(bk.count-prevCount, 1)
		}
		prevLe, prevCount = bk.le, bk.count
	}
	return prevLe
}
