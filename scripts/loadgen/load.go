package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// chatBody is the request every load sends.
const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"max_tokens":10}`

// sample is one request: its latency from the due time, its service time
// from the actual send, and whether it succeeded.
type sample struct {
	lat, svc time.Duration
	ok       bool
}

func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	target := fs.String("url", "", "base `URL` of the path under test")
	keyFile := fs.String("key-file", "", "`file` holding the bearer credential (default: a fixed dummy)")
	rate := fs.Int("rate", 1000, "requests per second")
	duration := fs.Duration("duration", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured load before the measured duration")
	workers := fs.Int("workers", 64, "concurrent senders, each holding at most one keep-alive connection")
	label := fs.String("label", "", "name of the path under test, for the report")
	out := fs.String("out", "", "`file` to append the result line to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" || *label == "" || *rate <= 0 {
		return errors.New("load: -url, -label and a positive -rate are required")
	}
	cred := "sk-dummy"
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		cred = strings.TrimSpace(string(b))
	}
	url := strings.TrimRight(*target, "/") + "/v1/chat/completions"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers,
		DisableCompression: true, IdleConnTimeout: time.Minute}, Timeout: 10 * time.Second}
	send := func() bool {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(chatBody)))
		req.Header.Set("Authorization", "Bearer "+cred)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	// Open the connections and check the path before the clock starts.
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range *workers {
		wg.Go(func() {
			if !send() {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		return fmt.Errorf("load %s: %d of %d probe requests to %s failed", *label, n, *workers, url)
	}

	interval := time.Second / time.Duration(*rate)
	total := int((*warmup + *duration) / interval)
	skip := int(*warmup / interval)
	samples := make([]sample, total)
	due := make(chan int, total)
	start := time.Now().Add(50 * time.Millisecond)
	for range *workers {
		wg.Go(func() {
			for i := range due {
				at := start.Add(time.Duration(i) * interval)
				sent := time.Now()
				ok := send()
				end := time.Now()
				samples[i] = sample{lat: end.Sub(at), svc: end.Sub(sent), ok: ok}
			}
		})
	}
	lag := pace(ctx, start, interval, total, due)
	close(due)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}

	measured := samples[skip:]
	lat := make([]time.Duration, 0, len(measured))
	svc := make([]time.Duration, 0, len(measured))
	errs := 0
	for _, s := range measured {
		if !s.ok {
			errs++
		}
		lat = append(lat, s.lat)
		svc = append(svc, s.svc)
	}
	slices.Sort(lat)
	slices.Sort(svc)
	slices.Sort(lag)
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/1e3) }
	r := result{label: *label, rate: *rate, n: len(lat), errs: errs}
	line := fmt.Sprintf("%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.label, r.rate, r.n, r.errs,
		us(pct(lat, .50)), us(pct(lat, .90)), us(pct(lat, .99)), us(pct(lat, .999)), us(lat[len(lat)-1]),
		us(pct(svc, .50)), us(pct(svc, .99)), us(pct(lag, .50)), us(pct(lag, .99)))
	fmt.Fprintf(os.Stderr, "%-8s %5d/s n=%d errors=%d p50=%sµs p90=%sµs p99=%sµs p99.9=%sµs max=%sµs (service p50=%sµs p99=%sµs; pacer lag p50=%sµs p99=%sµs)\n",
		r.label, r.rate, r.n, r.errs, us(pct(lat, .50)), us(pct(lat, .90)), us(pct(lat, .99)), us(pct(lat, .999)),
		us(lat[len(lat)-1]), us(pct(svc, .50)), us(pct(svc, .99)), us(pct(lag, .50)), us(pct(lag, .99)))
	if *out == "" {
		return nil
	}
	f, err := os.OpenFile(*out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(line)
	return err
}

// pct returns the q-quantile of sorted l (nearest rank).
func pct(l []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(l))+0.999999) - 1
	return l[max(0, min(len(l)-1, i))]
}

// pace hands request i to the workers at start+i*interval and returns how
// late each hand-off was. Go's timers round sub-millisecond sleeps up to a
// millisecond, so it sleeps with nanosleep(2) on its own thread, with the
// timer slack at its minimum, waking a calibrated oversleep early and
// spinning the rest.
func pace(ctx context.Context, start time.Time, interval time.Duration, total int, due chan<- int) []time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const prSetTimerslack = 29
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0)
	over := make([]time.Duration, 0, 101)
	for range cap(over) {
		t := time.Now()
		nanosleep(50 * time.Microsecond)
		over = append(over, time.Since(t)-50*time.Microsecond)
	}
	slices.Sort(over)
	early := over[len(over)/2]
	lag := make([]time.Duration, 0, total)
	for i := range total {
		if i&255 == 0 && ctx.Err() != nil {
			break
		}
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at) - early; d > 0 {
			nanosleep(d)
		}
		for time.Now().Before(at) {
		}
		lag = append(lag, time.Since(at))
		due <- i
	}
	return lag
}

func nanosleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil)
}
