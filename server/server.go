package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is one keywatch serve instance. Create it with New, start its
// background work with Run, and serve Handler.
type Server struct {
	cfg   Config
	store keywatch.Store
	log   *slog.Logger
	now   func() time.Time
	auth  *authenticator
	m     *metrics
	proc  *processor
	resp  *responder
	mux   *http.ServeMux
	ready chan struct{}
	// inflight holds a token per ingest request being handled.
	inflight chan struct{}
	// gw and batcher are set when serve runs the gateway.
	gw      *gateway.Gateway
	gwClose func() error // closes the gateway's State (its Redis client)
	batcher *batcher
}

// Options are what New needs besides the config. Store is required.
type Options struct {
	Store  keywatch.Store
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
	// Getenv reads credentials (provider admin keys, webhook secrets);
	// nil means os.Getenv.
	Getenv func(string) string
	// Pepper is the fingerprint pepper; required when Config.Gateway is
	// set, since the gateway authenticates keys by fingerprint.
	Pepper []byte
}

// New builds a server: it opens the event log and restores detection
// state from the store's last checkpoint.
func New(ctx context.Context, cfg Config, opt Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opt.Store == nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "server: no store")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{cfg: cfg, store: opt.Store, log: opt.Logger, now: opt.Now, m: newMetrics(), ready: make(chan struct{}), inflight: make(chan struct{}, cfg.Ingest.MaxConcurrent)}
	s.auth = &authenticator{store: opt.Store, now: opt.Now, cache: map[string]cachedToken{}}
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if cfg.Gateway != nil {
		if len(opt.Pepper) == 0 {
			return nil, keywatch.Errorf(keywatch.EINVALID, "server: the gateway needs the fingerprint pepper")
		}
		if err := s.startGateway(ctx, opt); err != nil {
			return nil, err
		}
	}
	resp, err := newResponder(s, opt.Getenv)
	if err != nil {
		return nil, err
	}
	s.resp = resp
	p, err := newProcessor(ctx, s, resp)
	if err != nil {
		return nil, err
	}
	s.proc = p
	s.routes()
	return s, nil
}

// Run processes accepted events until ctx is done, then checkpoints and
// closes the log.
func (s *Server) Run(ctx context.Context) error {
	s.resp.start(ctx)
	if s.gw != nil {
		go s.gw.Run(ctx)
		go s.batcher.run(ctx)
	}
	close(s.ready)
	err := s.proc.run(ctx)
	s.resp.close()
	if s.gwClose != nil {
		s.gwClose()
	}
	return err
}

// Gateway returns the gateway serve runs, nil without one. Its
// ServeHTTP is already on Handler; Serve adds a listener of its own.
func (s *Server) Gateway() *gateway.Gateway { return s.gw }

// Handler returns the HTTP API.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.need(keywatch.RoleViewer, promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}).ServeHTTP))
	mux.Handle("POST /v1/events", s.need(keywatch.RoleIngest, s.limit(s.ingestNative)))
	mux.Handle("POST /v1/traces", s.need(keywatch.RoleIngest, s.limit(s.ingestOTLPTraces)))
	mux.Handle("POST /v1/logs", s.need(keywatch.RoleIngest, s.limit(s.ingestOTLPLogs)))
	mux.Handle("POST /v1/litellm", s.need(keywatch.RoleIngest, s.limit(s.ingestLiteLLM)))
	if s.gw != nil {
		for _, p := range gatewayRoutes {
			mux.Handle(p, s.gw)
		}
	}
	mux.Handle("GET /api/stats", s.need(keywatch.RoleViewer, s.stats))
	mux.Handle("GET /api/alerts", s.need(keywatch.RoleViewer, s.listAlerts))
	mux.Handle("GET /api/alerts/{id}", s.need(keywatch.RoleViewer, s.getAlert))
	mux.Handle("POST /api/alerts/{id}/{transition}", s.need(keywatch.RoleResponder, s.transitionAlert))
	s.mux = mux
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ready:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	default:
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}
}

// need wraps h so that it runs only for a bearer token whose role allows
// role; every other request gets 401 or 403.
func (s *Server) need(role keywatch.Role, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.auth.authenticate(r.Context(), r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="keywatch"`)
			s.writeError(w, r, err)
			return
		}
		if !tok.Role.Allows(role) {
			s.writeError(w, r, keywatch.Errorf(keywatch.EFORBIDDEN, "token %s (%s) may not do this: needs %s", tok.ID, tok.Role, role))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
	})
}

// limit bounds the ingest requests in flight, and so the memory their
// bodies hold (MaxConcurrent × MaxBody at most): past the bound, 429 with
// Retry-After.
func (s *Server) limit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.inflight <- struct{}{}:
			defer func() { <-s.inflight }()
			h(w, r)
		default:
			s.m.eventsDropped.WithLabelValues("busy").Inc()
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{
				"code": "busy", "message": "too many ingest requests in flight; retry after 1 second"}})
		}
	}
}

// stats answers GET /api/stats: how much detection has processed, for
// operators and for exactly-once checks.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"processed":     s.proc.processed.Load(),
		"pending_bytes": s.proc.lag(),
		"log_bytes":     s.proc.log.Pending(),
	})
}

// statusOf maps error codes to HTTP statuses.
var statusOf = map[string]int{
	keywatch.EINVALID:      http.StatusBadRequest,
	keywatch.ENOTFOUND:     http.StatusNotFound,
	keywatch.ECONFLICT:     http.StatusConflict,
	keywatch.EUNAUTHORIZED: http.StatusUnauthorized,
	keywatch.EFORBIDDEN:    http.StatusForbidden,
	keywatch.EINTERNAL:     http.StatusInternalServerError,
}

// writeError answers with a JSON error. Messages of *keywatch.Error are
// meant for users; other errors are logged and answered generically.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := keywatch.ErrorCode(err)
	status := statusOf[code]
	msg := "internal error"
	var ke *keywatch.Error
	if errors.As(err, &ke) && code != keywatch.EINTERNAL {
		msg = ke.Message
	} else {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
