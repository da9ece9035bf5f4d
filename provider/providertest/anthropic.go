package providertest

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
)

// AnthropicServer is a fake Anthropic Admin API: GET
// /v1/organizations/api_keys (limit 1..1000, default 20; after_id,
// before_id, status and workspace_id) and POST
// /v1/organizations/api_keys/{api_key_id} (update name or status). Every
// request needs x-api-key and anthropic-version. Errors are
// {"type":"error","error":{"type","message"},"request_id"}.
type AnthropicServer struct {
	*server
	// URL is the API base to give the client.
	URL string
	// AdminKey is the key the server accepts; ForbiddenKey is recognised
	// but is not an Admin key (403).
	AdminKey, ForbiddenKey string

	mu   sync.Mutex
	keys []AnthropicKey
}

// AnthropicKey is the APIKey object.
type AnthropicKey struct {
	ID             string             `json:"id"`
	Type           string             `json:"type"`
	Name           string             `json:"name"`
	WorkspaceID    *string            `json:"workspace_id"`
	CreatedAt      string             `json:"created_at"`
	CreatedBy      AnthropicCreatedBy `json:"created_by"`
	PartialKeyHint *string            `json:"partial_key_hint"`
	Status         string             `json:"status"`
	ExpiresAt      *string            `json:"expires_at"`
}

// AnthropicCreatedBy is the actor that created a key.
type AnthropicCreatedBy struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// NewAnthropic starts a fake Anthropic Admin API that accepts
// "sk-ant-admin01-test"; set AdminKey before the first request to change it.
func NewAnthropic(t testing.TB) *AnthropicServer {
	s := &AnthropicServer{AdminKey: "sk-ant-admin01-test"}
	s.server = newServer(t, anthropicErrorBody, anthropicErrorType)
	s.URL = s.srv.URL
	s.mux.HandleFunc("GET /v1/organizations/api_keys", s.auth(s.list))
	s.mux.HandleFunc("POST /v1/organizations/api_keys/{api_key_id}", s.auth(s.update))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "not_found_error", "Not found")
	})
	return s
}

// AddKey seeds a key; Type and Status default as the API's do.
func (s *AnthropicServer) AddKey(k AnthropicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k.Type = "api_key"
	if k.Status == "" {
		k.Status = "active"
	}
	s.keys = append(s.keys, k)
}

// Keys returns the keys held now.
func (s *AnthropicServer) Keys() []AnthropicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AnthropicKey(nil), s.keys...)
}

func (s *AnthropicServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("x-api-key")
		switch {
		case r.Header.Get("anthropic-version") == "":
			s.writeError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		case key == "":
			s.writeError(w, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
		case s.ForbiddenKey != "" && key == s.ForbiddenKey:
			s.writeError(w, http.StatusForbidden, "permission_error", "This endpoint requires an Admin API key.")
		case key != s.AdminKey:
			s.writeError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		default:
			h(w, r)
		}
	}
}

func (s *AnthropicServer) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := queryInt(r, "limit", 20)
	if !ok || limit < 1 || limit > 1000 {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "limit: Input should be between 1 and 1000")
		return
	}
	if q.Get("before_id") != "" && q.Get("after_id") != "" {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "Cannot specify both before_id and after_id")
		return
	}
	s.mu.Lock()
	var ks []AnthropicKey
	for _, k := range s.keys {
		if st := q.Get("status"); st != "" && k.Status != st {
			continue
		}
		if ws := q.Get("workspace_id"); ws != "" && (k.WorkspaceID == nil || *k.WorkspaceID != ws) {
			continue
		}
		ks = append(ks, k)
	}
	s.mu.Unlock()
	id := func(k AnthropicKey) string { return k.ID }
	after := q.Get("after_id")
	if s.repeating() {
		after = ""
	}
	var page []AnthropicKey
	var more, found bool
	if before := q.Get("before_id"); before != "" && !s.repeating() {
		page, more, found = beforePage(ks, id, before, limit)
	} else {
		page, more, found = cursorPage(ks, id, after, limit)
	}
	if !found {
		s.writeError(w, http.StatusNotFound, "not_found_error", "cursor object not found")
		return
	}
	writeJSON(w, envelope("", page, id, more || s.repeating()))
}

// beforePage returns up to limit items just before the item with id before.
func beforePage[T any](items []T, id func(T) string, before string, limit int) ([]T, bool, bool) {
	for i, it := range items {
		if id(it) == before {
			start := max(i-limit, 0)
			return append([]T{}, items[start:i]...), start > 0, true
		}
	}
	return nil, false, false
}

func (s *AnthropicServer) update(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name   *string `json:"name"`
		Status *string `json:"status"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON body")
		return
	}
	if body.Status != nil && *body.Status != "active" && *body.Status != "inactive" && *body.Status != "archived" {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "status: Input should be 'active', 'inactive' or 'archived'")
		return
	}
	id := r.PathValue("api_key_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		k := &s.keys[i]
		if k.ID != id {
			continue
		}
		if k.Status == "archived" && body.Status != nil {
			s.writeError(w, http.StatusBadRequest, "invalid_request_error", "Cannot update an archived API key")
			return
		}
		if body.Name != nil {
			k.Name = *body.Name
		}
		if body.Status != nil {
			k.Status = *body.Status
		}
		writeJSON(w, k)
		return
	}
	s.writeError(w, http.StatusNotFound, "not_found_error", "API key not found")
}

func anthropicErrorBody(_ int, typ, msg string) []byte {
	b, _ := json.Marshal(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": typ, "message": msg},
		"request_id": "req_fake",
	})
	return b
}

func anthropicErrorType(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 429:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	default:
		return "api_error"
	}
}
