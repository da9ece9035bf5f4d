// Package providertest runs fake provider APIs for tests: httptest servers
// that answer as OpenAI's and Anthropic's Admin APIs and LiteLLM's key
// management API document, with a seeded store of keys, real pagination
// and limit validation, auth checks, each provider's error shape, and
// injectable faults (429 with Retry-After, 5xx, malformed JSON, a repeated
// cursor).
//
// Routes are registered on an http.ServeMux with method patterns, so the
// containment calls (disable, delete) sit beside the list calls; the ones
// implemented are listed on each server's constructor.
package providertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// Fault is one injected answer that replaces the next normal one.
type Fault struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Body, when set, is sent as is (e.g. malformed JSON, or JSON that lacks
	// a required field). When empty, an error status gets the provider's
	// documented error body for that status.
	Body string
}

// server is what the three fakes share: the HTTP server, the fault queue
// and a request log. Its exported methods are promoted to each fake.
type server struct {
	srv *httptest.Server
	mux *http.ServeMux

	mu      sync.Mutex
	faults  []Fault
	repeat  bool
	log     []Request
	errBody func(status int, typ, msg string) []byte
	errType func(status int) string
}

// Request is one request a fake received.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
}

func newServer(t testing.TB, errBody func(int, string, string) []byte, errType func(int) string) *server {
	s := &server{mux: http.NewServeMux(), errBody: errBody, errType: errType}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone()})
	var f *Fault
	if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	if f != nil {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if f.Body != "" {
			_, _ = w.Write([]byte(f.Body))
		} else {
			_, _ = w.Write(s.errBody(status, s.errType(status), http.StatusText(status)))
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Fail queues f as the answer to each of the next n requests, before any
// auth check, as a rate limiter or proxy in front of the API would.
func (s *server) Fail(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// RepeatCursor makes every list answer the first page again and say there
// is more: a server stuck on one cursor.
func (s *server) RepeatCursor(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repeat = on
}

func (s *server) repeating() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repeat
}

// Requests returns the requests received so far, oldest first.
func (s *server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Close shuts the server down; it also closes when the test ends.
func (s *server) Close() { s.srv.Close() }

func (s *server) writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(s.errBody(status, typ, msg))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// queryInt reads an integer query parameter; ok is false when present but
// not an integer.
func queryInt(r *http.Request, name string, def int) (n int, ok bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// cursorPage returns the page of items after the item with id after (from
// the start when empty), at most limit long. found is false when after
// names no item.
func cursorPage[T any](items []T, id func(T) string, after string, limit int) (page []T, hasMore, found bool) {
	start := 0
	if after != "" {
		start = -1
		for i, it := range items {
			if id(it) == after {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, false, false
		}
	}
	end := min(start+limit, len(items))
	return append([]T{}, items[start:end]...), end < len(items), true
}

// listEnvelope is the list object OpenAI and Anthropic share.
type listEnvelope[T any] struct {
	Object  string  `json:"object,omitempty"`
	Data    []T     `json:"data"`
	FirstID *string `json:"first_id"`
	LastID  *string `json:"last_id"`
	HasMore bool    `json:"has_more"`
}

func envelope[T any](object string, page []T, id func(T) string, hasMore bool) listEnvelope[T] {
	e := listEnvelope[T]{Object: object, Data: page, HasMore: hasMore}
	if len(page) > 0 {
		f, l := id(page[0]), id(page[len(page)-1])
		e.FirstID, e.LastID = &f, &l
	}
	return e
}
