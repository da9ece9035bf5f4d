package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/store"
	"github.com/valyala/fasthttp"
)

// completion is the upstream's only answer, the size of a short real one.
const completion = `{"id":"chatcmpl-bench","object":"chat.completion","created":1767225600,"model":"gpt-4o-mini",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":11,"completion_tokens":9,"total_tokens":20}}`

// upstreamKey is the provider key the gateway sends; the upstream ignores it.
const upstreamKey = "sk-bench-upstream-0123456789abcdef"

func runUpstream(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := []byte(completion)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	return serve(ctx, *listen, h)
}

func runGateway(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	up := fs.String("upstream", "", "upstream base `URL` (without /v1)")
	dir := fs.String("dir", "", "`directory` for the SQLite store and the issued key (file key)")
	redisURL := fs.String("redis", "", "Redis `URL` for RedisState; empty: MemoryState")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to `file` until the gateway stops")
	front := fs.String("front", "loop", "`front` end: loop (event loops, as keywatch gateway run serves), fasthttp (Gateway.Serve) or nethttp (net/http's server, as serve --gateway does)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *up == "" || *dir == "" {
		return errors.New("gateway: -upstream and -dir are required")
	}
	gateway.TuneGC() // as keywatch gateway run does
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(*dir, "kw.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	pepper := make([]byte, 32)
	rand.Read(pepper)
	sec, err := gateway.Issue(ctx, st, pepper, keywatch.Key{ID: "bench", Service: "bench", Env: "bench"},
		time.Now(), keywatch.Change{Actor: "loadgen"})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "key"), []byte(sec), 0o600); err != nil {
		return err
	}
	var state gateway.State = gateway.NewMemoryState()
	if *redisURL != "" {
		rdb, err := gateway.OpenRedis(ctx, *redisURL)
		if err != nil {
			return err
		}
		defer rdb.Close()
		state = gateway.NewRedisState(rdb, fmt.Sprintf("kwbench:%d", os.Getpid()))
	}
	cfg := gateway.DefaultConfig()
	cfg.Upstreams = []gateway.Upstream{{Name: "openai", Provider: gateway.ProviderOpenAI, BaseURL: *up + "/v1",
		APIKeyEnv: "UPSTREAM_KEY", Default: true}}
	gw, err := gateway.New(ctx, cfg, gateway.Options{Store: st, Pepper: pepper, State: state,
		Sink:   func(*keywatch.Event) {},
		Getenv: func(string) string { return upstreamKey }})
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- gw.Run(runCtx) }()
	switch *front {
	case "nethttp":
		err = serve(ctx, *listen, gw)
	case "fasthttp":
		err = listenUntil(ctx, *listen, gw.Serve, gw.Shutdown)
	case "loop":
		err = serveEvents(ctx, *listen, gw)
	default:
		err = fmt.Errorf("gateway: unknown -front %q", *front)
	}
	cancel()
	return errors.Join(err, <-done)
}

// serveEvents runs gw's event loops on addr until ctx is done, as keywatch
// gateway run does, printing the bound address.
func serveEvents(ctx context.Context, addr string, gw *gateway.Gateway) error {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		gw.Shutdown(sctx)
	}()
	return gw.ServeEvents(addr, func(a net.Addr) { fmt.Println("listening", a) })
}

// listenUntil listens on addr, prints the bound address, and serves on it
// until ctx is done, then shuts down within 2 seconds.
func listenUntil(ctx context.Context, addr string, serve func(net.Listener) error, shutdown func(context.Context) error) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		shutdown(sctx)
	}()
	fmt.Println("listening", ln.Addr())
	return serve(ln)
}

// runGoProxy runs a bare httputil.ReverseProxy to the upstream: no keys,
// no checks, no usage, the same transport and GC setting as the gateway.
// It is the floor of a Go proxy on this machine, to tell the gateway's own
// cost from net/http's.
func runGoProxy(ctx context.Context, args []string) error {
	listen, target, err := proxyFlags("goproxy", args)
	if err != nil {
		return err
	}
	gateway.TuneGC()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 256
	rp := &httputil.ReverseProxy{Transport: t, Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	return serve(ctx, listen, rp)
}

// proxyFlags parses the flags of the bare proxies: -listen and -upstream.
func proxyFlags(name string, args []string) (listen string, target *url.URL, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	l := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	up := fs.String("upstream", "", "upstream base `URL`")
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	if target, err = url.Parse(*up); err != nil || *up == "" {
		return "", nil, fmt.Errorf("%s: -upstream URL is required", name)
	}
	return *l, target, nil
}

// serve runs h on net/http's server on addr until ctx is done, printing
// the bound address.
func serve(ctx context.Context, addr string, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	if err := listenUntil(ctx, addr, hs.Serve, hs.Shutdown); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// runFastProxy runs a bare fasthttp reverse proxy to the upstream: no
// keys, no checks, no usage, the gateway's client and server library. It
// is the floor of the gateway's own server, as goproxy is of net/http's.
func runFastProxy(ctx context.Context, args []string) error {
	listen, target, err := proxyFlags("fastproxy", args)
	if err != nil {
		return err
	}
	gateway.TuneGC()
	hc := &fasthttp.HostClient{Addr: target.Host, MaxConns: 1024, StreamResponseBody: true}
	h := func(c *fasthttp.RequestCtx) {
		req := &c.Request
		req.SetHost(target.Host)
		resp := fasthttp.AcquireResponse()
		if err := hc.Do(req, resp); err != nil {
			fasthttp.ReleaseResponse(resp)
			c.Error("upstream", 502)
			return
		}
		c.Response.Header.SetStatusCode(resp.StatusCode())
		c.Response.Header.SetContentTypeBytes(resp.Header.ContentType())
		body := resp.BodyStream()
		if cl := resp.Header.ContentLength(); cl >= 0 && cl < 1<<20 {
			b := c.Response.BodyWriter()
			io.Copy(b, body)
			resp.CloseBodyStream()
			fasthttp.ReleaseResponse(resp)
			return
		}
		c.SetBodyStreamWriter(func(w *bufio.Writer) {
			buf := make([]byte, 32<<10)
			for {
				n, err := body.Read(buf)
				w.Write(buf[:n])
				w.Flush()
				if err != nil {
					break
				}
			}
			resp.CloseBodyStream()
			fasthttp.ReleaseResponse(resp)
		})
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &fasthttp.Server{Handler: h}
	go func() { <-ctx.Done(); srv.Shutdown() }()
	fmt.Println("listening", ln.Addr())
	return srv.Serve(ln)
}
