package providertest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// LiteLLMServer is a fake LiteLLM proxy key API, after
// litellm/proxy/management_endpoints/key_management_endpoints.py: GET
// /key/list (page >= 1, size 1..100 default 10, return_full_object;
// newest first), POST /key/block and /key/unblock {"key": token}, and POST
// /key/update {"key": token, ...} for tpm_limit, rpm_limit, max_budget,
// models, metadata and key_alias. The master key is read from
// "Authorization: Bearer" or "x-litellm-api-key". Errors are
// {"error":{"message","type","param","code"}}; query validation errors are
// FastAPI's 422 {"detail":[...]}.
type LiteLLMServer struct {
	*server
	// URL is the proxy base to give the client.
	URL string
	// MasterKey is the key the server accepts; ForbiddenKey is a valid
	// virtual key that is not a proxy admin (403 on admin routes).
	MasterKey, ForbiddenKey string

	mu   sync.Mutex
	keys []LiteLLMKey
}

// LiteLLMKey is a LiteLLM_VerificationToken as /key/list returns it with
// return_full_object=true.
type LiteLLMKey struct {
	Token          string         `json:"token"`
	KeyName        string         `json:"key_name"`
	KeyAlias       *string        `json:"key_alias"`
	Spend          float64        `json:"spend"`
	MaxBudget      *float64       `json:"max_budget"`
	BudgetDuration *string        `json:"budget_duration"`
	Expires        *string        `json:"expires"`
	Models         []string       `json:"models"`
	UserID         *string        `json:"user_id"`
	TeamID         *string        `json:"team_id"`
	OrgID          *string        `json:"org_id"`
	Metadata       map[string]any `json:"metadata"`
	TPMLimit       *int64         `json:"tpm_limit"`
	RPMLimit       *int64         `json:"rpm_limit"`
	Blocked        *bool          `json:"blocked"`
	CreatedAt      string         `json:"created_at"`
	CreatedBy      *string        `json:"created_by"`
}

// NewLiteLLM starts a fake LiteLLM proxy that accepts "sk-master-test";
// set MasterKey before the first request to change it.
func NewLiteLLM(t testing.TB) *LiteLLMServer {
	s := &LiteLLMServer{MasterKey: "sk-master-test"}
	s.server = newServer(t, litellmErrorBody, litellmErrorType)
	s.URL = s.srv.URL
	s.mux.HandleFunc("GET /key/list", s.auth(s.list))
	s.mux.HandleFunc("POST /key/block", s.auth(s.setBlocked(true)))
	s.mux.HandleFunc("POST /key/unblock", s.auth(s.setBlocked(false)))
	s.mux.HandleFunc("POST /key/update", s.auth(s.update))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"detail":"Not Found"}`))
	})
	return s
}

// AddKey seeds a key; Metadata and Models default to empty as LiteLLM's do.
func (s *LiteLLMServer) AddKey(k LiteLLMKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k.Metadata == nil {
		k.Metadata = map[string]any{}
	}
	if k.Models == nil {
		k.Models = []string{}
	}
	s.keys = append(s.keys, k)
}

// Keys returns the keys held now, newest first.
func (s *LiteLLMServer) Keys() []LiteLLMKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedLocked()
}

func (s *LiteLLMServer) sortedLocked() []LiteLLMKey {
	ks := slices.Clone(s.keys)
	slices.SortStableFunc(ks, func(a, b LiteLLMKey) int {
		if c := strings.Compare(b.CreatedAt, a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.Token, a.Token)
	})
	return ks
}

func (s *LiteLLMServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if key == "" {
			key = r.Header.Get("x-litellm-api-key")
		}
		switch {
		case key == "":
			s.writeError(w, http.StatusUnauthorized, "auth_error",
				"Authentication Error, No api key passed in.")
		case s.ForbiddenKey != "" && key == s.ForbiddenKey:
			s.writeError(w, http.StatusForbidden, "auth_error",
				"Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams.")
		case key != s.MasterKey:
			s.writeError(w, http.StatusUnauthorized, "auth_error",
				"Authentication Error, Invalid proxy server token passed. Received API Key = "+redact(key)+", Key Hash (Token) =unknown. Unable to find token in cache or `LiteLLM_VerificationTokenTable`")
		default:
			h(w, r)
		}
	}
}

func (s *LiteLLMServer) list(w http.ResponseWriter, r *http.Request) {
	page, okp := queryInt(r, "page", 1)
	size, oks := queryInt(r, "size", 10)
	switch {
	case !okp || page < 1:
		fastAPIError(w, "page", "Input should be greater than or equal to 1", r.URL.Query().Get("page"))
		return
	case !oks || size < 1 || size > 100:
		fastAPIError(w, "size", "Input should be between 1 and 100", r.URL.Query().Get("size"))
		return
	}
	s.mu.Lock()
	ks := s.sortedLocked()
	s.mu.Unlock()
	total := len(ks)
	pages := (total + size - 1) / size
	from := (page - 1) * size
	if s.repeating() {
		from = 0 // ignores page, yet reports the page asked for
	}
	var out []any
	full := r.URL.Query().Get("return_full_object") == "true"
	for _, k := range ks[min(from, total):min(from+size, total)] {
		if full {
			out = append(out, k)
		} else {
			out = append(out, k.Token)
		}
	}
	if out == nil {
		out = []any{}
	}
	writeJSON(w, map[string]any{"keys": out, "total_count": total, "current_page": page, "total_pages": pages})
}

func (s *LiteLLMServer) setBlocked(blocked bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Key string `json:"key"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Key == "" {
			s.writeError(w, http.StatusBadRequest, "bad_request_error", "key is required")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := range s.keys {
			if s.keys[i].Token == body.Key {
				s.keys[i].Blocked = &blocked
				writeJSON(w, s.keys[i])
				return
			}
		}
		s.writeError(w, http.StatusNotFound, "not_found_error", "Key not found: "+body.Key)
	}
}

func (s *LiteLLMServer) update(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Key       string         `json:"key"`
		KeyAlias  *string        `json:"key_alias"`
		TPMLimit  *int64         `json:"tpm_limit"`
		RPMLimit  *int64         `json:"rpm_limit"`
		MaxBudget *float64       `json:"max_budget"`
		Models    []string       `json:"models"`
		Metadata  map[string]any `json:"metadata"`
		Blocked   *bool          `json:"blocked"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil || body.Key == "" {
		s.writeError(w, http.StatusBadRequest, "bad_request_error", "key is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		k := &s.keys[i]
		if k.Token != body.Key {
			continue
		}
		if body.KeyAlias != nil {
			k.KeyAlias = body.KeyAlias
		}
		if body.TPMLimit != nil {
			k.TPMLimit = body.TPMLimit
		}
		if body.RPMLimit != nil {
			k.RPMLimit = body.RPMLimit
		}
		if body.MaxBudget != nil {
			k.MaxBudget = body.MaxBudget
		}
		if body.Models != nil {
			k.Models = body.Models
		}
		if body.Metadata != nil {
			k.Metadata = body.Metadata
		}
		if body.Blocked != nil {
			k.Blocked = body.Blocked
		}
		writeJSON(w, k)
		return
	}
	s.writeError(w, http.StatusNotFound, "not_found_error", "Key not found: "+body.Key)
}

// fastAPIError writes the 422 FastAPI sends when a query parameter fails
// validation.
func fastAPIError(w http.ResponseWriter, param, msg, input string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_ = json.NewEncoder(w).Encode(map[string]any{"detail": []any{map[string]any{
		"type": "value_error", "loc": []string{"query", param}, "msg": msg, "input": input,
	}}})
}

func litellmErrorBody(status int, typ, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": "None", "code": strconv.Itoa(status),
	}})
	return b
}

func litellmErrorType(status int) string {
	switch {
	case status == 401 || status == 403:
		return "auth_error"
	case status == 429:
		return "throttling_error"
	case status >= 500:
		return "internal_server_error"
	default:
		return "bad_request_error"
	}
}
