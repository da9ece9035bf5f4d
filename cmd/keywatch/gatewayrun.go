package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/secret"
	"github.com/keywatch/keywatch/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const gatewayRunUsage = `
Usage: keywatch gateway run [flags]

Runs the gateway alone, without detection: the OpenAI-compatible proxy for
keywatch-issued keys (kwk_...) and gateway tokens, for instances placed
near the services that call it while keywatch serve runs elsewhere. Keys
come from the store (--store; share serve's, PostgreSQL across machines),
upstreams from the gateway section of the config file (else OpenAI and
Anthropic, keyed by OPENAI_API_KEY and ANTHROPIC_API_KEY, as serve
--gateway). With --redis (or gateway.redis.url) live key status and quota
counters are shared with the other instances and with serve's containment,
so a disable applies here on the next request.

Usage events go to a running keywatch serve with --serve: batches of JSON
Lines POSTed to its /v1/events with an ingest token from KEYWATCH_TOKEN
(keywatch tokens create --role ingest). While serve cannot take them they
wait in memory (up to 100,000) and are retried; events dropped or lost are
logged and counted in the metrics, and the gateway keeps serving. Without
--serve usage is not recorded anywhere: only its counts are logged.

It serves on event loops, one per core (GOMAXPROCS), nginx's shape.
GET /healthz answers on --listen; Prometheus metrics are at /metrics on
--metrics-listen. SIGINT or SIGTERM stops accepting requests, finishes
those in flight and sends the remaining usage to serve, within
--shutdown-timeout, then exits.

Example:
  keywatch tokens create --role ingest --name gateway-eu --store postgres://kw@db/keywatch
  KEYWATCH_TOKEN=kwt_... OPENAI_API_KEY=sk-... ANTHROPIC_API_KEY=sk-ant-... \
    keywatch gateway run --store postgres://kw@db/keywatch --redis redis://cache:6379/0 \
      --serve http://keywatch.internal:8080 --listen 0.0.0.0:8081
`

func gatewayRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "gateway run", gatewayRunUsage)
	storeURL := fs.String("store", envOr("KEYWATCH_STORE", defaultStore), "store `URL`: sqlite://PATH or postgres://... (env KEYWATCH_STORE)")
	configPath := fs.String("config", "", "config YAML `file`: its gateway section, and geoip for country allow-lists (default: OpenAI and Anthropic upstreams)")
	listen := fs.String("listen", "127.0.0.1:8081", "`address` to serve the gateway on (serve's default is 8080)")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9091", "`address` for /metrics and /healthz; empty: no metrics")
	pepperFile := fs.String("pepper-file", "", "fingerprint pepper `file` (default $KEYWATCH_PEPPER_FILE or ~/.config/keywatch/pepper)")
	redisURL := fs.String("redis", "", "Redis `URL` (redis://host:port/db) for live key status and quotas shared with other instances; overrides gateway.redis.url")
	serveURL := fs.String("serve", "", "keywatch serve base `URL` to forward usage events to, with the ingest token in KEYWATCH_TOKEN")
	shutdown := fs.Duration("shutdown-timeout", 10*time.Second, "on SIGINT or SIGTERM, how long to finish requests and, separately, to send the remaining usage")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return keywatch.Errorf(keywatch.EINVALID, "unexpected argument %q", fs.Arg(0))
	}
	token := os.Getenv("KEYWATCH_TOKEN")
	if *serveURL != "" && token == "" {
		return keywatch.Errorf(keywatch.EINVALID, "--serve needs an ingest token in KEYWATCH_TOKEN (keywatch tokens create --role ingest)")
	}
	cfg, err := server.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	if cfg.Gateway == nil {
		g, err := gateway.ParseConfig([]byte(server.DefaultGatewayYAML))
		if err != nil {
			return err
		}
		cfg.Gateway = &g
	}
	if *redisURL != "" {
		cfg.Gateway.Redis.URL = *redisURL
		if err := cfg.Gateway.Validate(); err != nil {
			return keywatch.Errorf(keywatch.EINVALID, "gateway config: %v", err)
		}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	gc := gateway.TuneGC()
	pepper, err := secret.LoadPepper(*pepperFile)
	if err != nil {
		return err
	}
	var fw *gateway.Forwarder
	if *serveURL != "" {
		if fw, err = gateway.NewForwarder(gateway.ForwarderOptions{URL: *serveURL, Token: token, Logger: logger}); err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := fw.Check(cctx)
		cancel()
		switch {
		case errors.Is(err, gateway.ErrIngestToken):
			return keywatch.Errorf(keywatch.EINVALID, "%v: set KEYWATCH_TOKEN to an ingest token of that serve", err)
		case err != nil:
			logger.Warn("keywatch serve is not reachable yet; usage events will wait in memory and be retried", "err", err)
		}
	}
	st, err := openStore(ctx, *storeURL)
	if err != nil {
		return err
	}
	defer st.Close()

	var requests atomic.Int64
	sink := func(ev *keywatch.Event) {
		requests.Add(1)
		if fw != nil {
			fw.Add(ev)
		}
	}
	gw, closeState, err := server.NewGateway(ctx, cfg, gateway.Options{Store: st, Pepper: pepper, Logger: logger, Sink: sink})
	if err != nil {
		return err
	}
	defer closeState()

	failed := make(chan error, 2)
	addr, err := serveEvents(gw, *listen, failed) // event loops, GET /healthz included
	if err != nil {
		return err
	}
	metricsAddr := "none"
	if *metricsListen != "" {
		mln, err := net.Listen("tcp", *metricsListen)
		if err != nil {
			gw.Shutdown(ctx)
			return keywatch.Errorf(keywatch.EINVALID, "listen on %s: %v", *metricsListen, err)
		}
		mmux := http.NewServeMux()
		mmux.HandleFunc("GET /healthz", healthz)
		mmux.Handle("GET /metrics", promhttp.HandlerFor(gatewayMetrics(gw, fw, &requests), promhttp.HandlerOpts{}))
		ms := &http.Server{Handler: mmux, ReadHeaderTimeout: 10 * time.Second}
		defer ms.Close()
		go func() { failed <- ms.Serve(mln) }()
		metricsAddr = mln.Addr().String()
	}

	gwCtx, stopGateway := context.WithCancel(context.Background())
	gwDone := make(chan struct{})
	go func() { gw.Run(gwCtx); close(gwDone) }()
	defer stopGateway()
	fwCtx, stopForwarder := context.WithCancel(context.Background())
	fwDone := make(chan struct{})
	defer stopForwarder()
	usage := "not recorded (no --serve)"
	if fw != nil {
		go func() { fw.Run(fwCtx); close(fwDone) }()
		usage = "forwarded to " + redactURL(*serveURL)
	}
	state := "memory (this instance only)"
	if cfg.Gateway.Redis.URL != "" {
		state = "redis " + redactURL(cfg.Gateway.Redis.URL)
	}
	logger.Info("keywatch gateway serving", "addr", addr.String(), "metrics", metricsAddr, "gc", gc,
		"store", redactURL(*storeURL), "state", state, "usage", usage)
	if fw == nil {
		logger.Warn("usage events are not recorded: without --serve detection never sees this gateway's traffic; only counts are logged")
	}

	var runErr error
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	var logged int64
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case err := <-failed:
			runErr = err // a listener failed: stop, and say why
			break wait
		case <-tick.C:
			if n := requests.Load(); fw == nil && n != logged {
				logger.Info("gateway usage not recorded (no --serve)", "requests", n-logged, "requests_total", n)
				logged = n
			}
		}
	}

	logger.Info("keywatch gateway stopping: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdown)
	if err := gw.Shutdown(sctx); err != nil {
		logger.Warn("gateway requests still in flight at the shutdown deadline were cut", "err", err)
	}
	cancel()
	stopGateway()
	<-gwDone // every request's event is now with the sink
	done := []any{"requests", requests.Load(), "gateway_buffer_dropped", gw.Stats().EventsDropped}
	if fw != nil {
		stopForwarder()
		<-fwDone
		fctx, cancel := context.WithTimeout(context.Background(), *shutdown)
		fw.Flush(fctx) // logs what it could not send
		cancel()
		s := fw.Stats()
		done = append(done, "forwarded", s.Forwarded, "rejected", s.Rejected, "dropped", s.Dropped, "lost", s.Lost)
	} else {
		done = append(done, "usage", "not recorded")
	}
	logger.Info("keywatch gateway stopped", done...)
	return runErr
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// gatewayMetrics is the registry of a gateway run alone: its request
// count, the events its own buffer dropped, and the forwarder's counters.
func gatewayMetrics(gw *gateway.Gateway, fw *gateway.Forwarder, requests *atomic.Int64) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, labels prometheus.Labels, f func() float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, f))
	}
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	const dropped = "keywatch_gateway_events_dropped_total"
	const droppedHelp = "Usage events that will never reach keywatch serve, by reason: gateway_buffer (the gateway's event buffer was full), queue_full (serve was unavailable too long), rejected (serve refused them as invalid), shutdown (serve did not take them before exit)."
	counter("keywatch_gateway_requests_total", "Requests the gateway answered; each is a usage event.", nil,
		func() float64 { return float64(requests.Load()) })
	counter(dropped, droppedHelp, prometheus.Labels{"reason": "gateway_buffer"}, func() float64 { return float64(gw.Stats().EventsDropped) })
	counter("keywatch_gateway_loop_requests_total", "Requests the gateway's event loops read.", nil,
		func() float64 { return float64(gw.Stats().LoopRequests) })
	counter("keywatch_gateway_loop_offloaded_total", "Of the loops' requests, those served on a goroutine because their way could block: Redis quotas, a key not loaded yet, the token endpoint, an upstream over TLS.", nil,
		func() float64 { return float64(gw.Stats().Offloaded) })
	gauge("keywatch_gateway_in_flight_requests", "Requests the gateway's event loops are reading or answering.",
		func() float64 { return float64(gw.Stats().InFlight) })
	if fw != nil {
		stat := func(f func(gateway.ForwarderStats) int64) func() float64 {
			return func() float64 { return float64(f(fw.Stats())) }
		}
		counter("keywatch_gateway_events_forwarded_total", "Usage events keywatch serve accepted.", nil,
			stat(func(s gateway.ForwarderStats) int64 { return s.Forwarded }))
		counter(dropped, droppedHelp, prometheus.Labels{"reason": "queue_full"}, stat(func(s gateway.ForwarderStats) int64 { return s.Dropped }))
		counter(dropped, droppedHelp, prometheus.Labels{"reason": "rejected"}, stat(func(s gateway.ForwarderStats) int64 { return s.Rejected }))
		counter(dropped, droppedHelp, prometheus.Labels{"reason": "shutdown"}, stat(func(s gateway.ForwarderStats) int64 { return s.Lost }))
		counter("keywatch_gateway_forward_failures_total", "Requests to keywatch serve's ingest that failed; their events are retried.", nil,
			stat(func(s gateway.ForwarderStats) int64 { return s.Failures }))
		gauge("keywatch_gateway_forward_pending_events", "Usage events waiting to be sent to keywatch serve.",
			stat(func(s gateway.ForwarderStats) int64 { return s.Pending }))
		gauge("keywatch_gateway_forward_last_success_timestamp_seconds", "When keywatch serve last accepted usage events (Unix time; 0: never).",
			func() float64 {
				if t := fw.Stats().LastSuccess; !t.IsZero() {
					return float64(t.UnixNano()) / 1e9
				}
				return 0
			})
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serveEvents starts gw's event loops (Gateway.ServeEvents) on addr and
// returns once they listen, with the address; an error of theirs after
// that goes to failed.
func serveEvents(gw *gateway.Gateway, addr string, failed chan<- error) (net.Addr, error) {
	started := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- gw.ServeEvents(addr, func(a net.Addr) { started <- a }) }()
	select {
	case a := <-started:
		go func() {
			if err := <-done; err != nil {
				failed <- err
			}
		}()
		return a, nil
	case err := <-done:
		if err == nil {
			err = errors.New("stopped before listening")
		}
		return nil, keywatch.Errorf(keywatch.EINVALID, "listen on %s: %v", addr, err)
	}
}
