package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/secret"
	"github.com/keywatch/keywatch/server"
)

func init() {
	register(&command{name: "serve", summary: "run the service: ingest, detection, alerting, containment, API, metrics", run: runServe})
}

const serveUsage = `
Usage: keywatch serve [flags]

Runs keywatch as a service. Usage flows in over HTTP (POST /v1/events for
native JSON Lines or a JSON array, gzip accepted; OTLP/HTTP /v1/traces and
/v1/logs; LiteLLM's generic API logger at /v1/litellm) and is acknowledged
only once it is on disk. Detection runs the same engine as replay; alerts
are stored and served at /api/alerts. GET /healthz answers 200 when ready;
/metrics has Prometheus metrics. Every endpoint but /healthz needs a bearer
token: on first start with an empty store an admin token is taken from
KEYWATCH_BOOTSTRAP_TOKEN, or generated and printed once.

With --gateway (or a gateway section in the config) serve also runs the
gateway on its listener; --gateway-listen serves it on an address of its
own as well, on event loops of its own (as keywatch gateway run does),
which add less latency.

Examples:
  keywatch serve --store sqlite://keywatch.db --listen 127.0.0.1:8080
  curl -H "Authorization: Bearer $TOKEN" --data-binary @events.jsonl http://127.0.0.1:8080/v1/events
  keywatch serve --config keywatch.yaml --gateway-listen 127.0.0.1:8081
`

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", serveUsage)
	storeURL := fs.String("store", envOr("KEYWATCH_STORE", defaultStore), "store `URL`: sqlite://PATH or postgres://...")
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to listen on")
	configPath := fs.String("config", "", "config YAML `file` (defaults without one)")
	withGateway := fs.Bool("gateway", false, "also run the gateway (OpenAI-compatible proxy for keywatch-issued keys) on the same listener; configured by the config's gateway section, else OpenAI and Anthropic upstreams keyed by OPENAI_API_KEY and ANTHROPIC_API_KEY")
	gatewayListen := fs.String("gateway-listen", "", "also serve the gateway on this `address` with its own event loops (faster than on the API's listener; see BENCHMARKS.md); implies --gateway")
	pepperFile := fs.String("pepper-file", "", "fingerprint pepper `file` for the gateway (default $KEYWATCH_PEPPER_FILE or ~/.config/keywatch/pepper)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := server.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := openStore(ctx, *storeURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := bootstrapToken(ctx, e, st); err != nil {
		return err
	}
	opt := server.Options{Store: st, Logger: logger}
	if (*withGateway || *gatewayListen != "") && cfg.Gateway == nil {
		g, err := gateway.ParseConfig([]byte(server.DefaultGatewayYAML))
		if err != nil {
			return err
		}
		cfg.Gateway = &g
	}
	if cfg.Gateway != nil {
		if opt.Pepper, err = secret.LoadPepper(*pepperFile); err != nil {
			return err
		}
	}
	srv, err := server.New(ctx, cfg, opt)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return keywatch.Errorf(keywatch.EINVALID, "listen on %s: %v", *listen, err)
	}
	var gaddr net.Addr
	gwErr := make(chan error, 1)
	if *gatewayListen != "" {
		if gaddr, err = serveEvents(srv.Gateway(), *gatewayListen, gwErr); err != nil {
			ln.Close()
			return err
		}
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	go func() {
		select {
		case <-ctx.Done():
		case err := <-gwErr: // a failed gateway listener stops serve too
			gwErr <- fmt.Errorf("gateway listener: %w", err)
		}
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		hs.Shutdown(sctx)
		if gaddr != nil {
			srv.Gateway().Shutdown(sctx)
		}
	}()
	attrs := []any{"addr", ln.Addr().String(), "store", redactURL(*storeURL), "data_dir", cfg.DataDir}
	if gaddr != nil {
		attrs = append(attrs, "gateway_addr", gaddr.String())
	}
	logger.Info("keywatch serving", attrs...)
	err = hs.Serve(ln)
	cancel()
	runErr := <-done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	select {
	case gerr := <-gwErr:
		return errors.Join(gerr, runErr)
	default:
	}
	return runErr
}

// bootstrapToken makes the first admin token when the store has none: from
// KEYWATCH_BOOTSTRAP_TOKEN, or generated and printed once.
func bootstrapToken(ctx context.Context, e *env, st keywatch.Store) error {
	toks, err := st.Tokens(ctx)
	if err != nil || len(toks) > 0 {
		return err
	}
	tok, secret, hash, err := server.NewToken("bootstrap", keywatch.RoleAdmin, time.Now())
	if err != nil {
		return err
	}
	fromEnv := os.Getenv("KEYWATCH_BOOTSTRAP_TOKEN")
	if fromEnv != "" {
		if len(fromEnv) < 32 {
			return keywatch.Errorf(keywatch.EINVALID, "KEYWATCH_BOOTSTRAP_TOKEN: at least 32 characters")
		}
		hash = server.HashToken(fromEnv)
	}
	if err := st.CreateToken(ctx, tok, hash, keywatch.Change{Actor: "keywatch serve", Reason: "bootstrap admin token"}); err != nil {
		return err
	}
	if fromEnv == "" {
		fmt.Fprintf(e.stderr, "keywatch: created admin token %s; its secret is shown this once:\n%s\n", tok.ID, secret)
	}
	return nil
}
