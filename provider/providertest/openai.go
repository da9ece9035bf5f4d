package providertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// OpenAIServer is a fake OpenAI Admin API, following
// shared/specs/openai-openapi.yaml: GET /v1/organization/projects
// (include_archived), GET /v1/organization/projects/{project_id}/api_keys,
// GET /v1/organization/projects/{project_id}/service_accounts, all with
// limit 1..100 (default 20) and cursor `after`; and DELETE
// /v1/organization/projects/{project_id}/api_keys/{key_id}. Errors are
// {"error":{"message","type","param","code"}}.
type OpenAIServer struct {
	*server
	// URL is the API base to give the client, ending in /v1.
	URL string
	// AdminKey is the key the server accepts; ForbiddenKey is recognised
	// but lacks the admin scopes (403).
	AdminKey, ForbiddenKey string

	mu       sync.Mutex
	projects []OpenAIProject
	keys     map[string][]OpenAIKey
	accounts map[string][]OpenAIServiceAccount
}

// OpenAIProject is the Project object.
type OpenAIProject struct {
	ID         string  `json:"id"`
	Object     string  `json:"object"`
	Name       string  `json:"name"`
	CreatedAt  int64   `json:"created_at"`
	ArchivedAt *int64  `json:"archived_at"`
	Status     string  `json:"status"`
	ExternalID *string `json:"external_key_id"`
}

// OpenAIKey is the ProjectApiKey object.
type OpenAIKey struct {
	Object             string         `json:"object"`
	RedactedValue      string         `json:"redacted_value"`
	Name               string         `json:"name"`
	CreatedAt          int64          `json:"created_at"`
	LastUsedAt         *int64         `json:"last_used_at"`
	ID                 string         `json:"id"`
	OwnerProjectAccess string         `json:"owner_project_access"`
	Owner              OpenAIKeyOwner `json:"owner"`
}

// OpenAIKeyOwner is a ProjectApiKey's owner.
type OpenAIKeyOwner struct {
	Type           string                `json:"type"`
	User           *OpenAIUser           `json:"user,omitempty"`
	ServiceAccount *OpenAIServiceAccount `json:"service_account,omitempty"`
}

// OpenAIUser is ProjectApiKeyOwnerUser.
type OpenAIUser struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"`
	Role      string `json:"role"`
}

// OpenAIServiceAccount is ProjectServiceAccount (and, without Object, the
// owner of a key).
type OpenAIServiceAccount struct {
	Object    string `json:"object,omitempty"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedAt int64  `json:"created_at"`
}

// NewOpenAI starts a fake OpenAI Admin API that accepts
// "sk-admin-test-key"; set AdminKey before the first request to change it.
func NewOpenAI(t testing.TB) *OpenAIServer {
	s := &OpenAIServer{
		AdminKey: "sk-admin-test-key",
		keys:     map[string][]OpenAIKey{},
		accounts: map[string][]OpenAIServiceAccount{},
	}
	s.server = newServer(t, openAIErrorBody, openAIErrorType)
	s.URL = s.srv.URL + "/v1"
	s.mux.HandleFunc("GET /v1/organization/projects", s.auth(s.listProjects))
	s.mux.HandleFunc("GET /v1/organization/projects/{project_id}/api_keys", s.auth(s.listKeys))
	s.mux.HandleFunc("GET /v1/organization/projects/{project_id}/service_accounts", s.auth(s.listAccounts))
	s.mux.HandleFunc("DELETE /v1/organization/projects/{project_id}/api_keys/{key_id}", s.auth(s.deleteKey))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "invalid_request_error", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
	})
	return s
}

// AddProject seeds a project; Object and Status default as the API's do.
func (s *OpenAIServer) AddProject(p OpenAIProject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Object = "organization.project"
	if p.Status == "" {
		p.Status = "active"
		if p.ArchivedAt != nil {
			p.Status = "archived"
		}
	}
	s.projects = append(s.projects, p)
}

// AddKey seeds an API key in project.
func (s *OpenAIServer) AddKey(project string, k OpenAIKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k.Object = "organization.project.api_key"
	if k.OwnerProjectAccess == "" {
		k.OwnerProjectAccess = "active"
	}
	s.keys[project] = append(s.keys[project], k)
}

// AddServiceAccount seeds a service account in project.
func (s *OpenAIServer) AddServiceAccount(project string, a OpenAIServiceAccount) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.Object = "organization.project.service_account"
	s.accounts[project] = append(s.accounts[project], a)
}

// Keys returns the keys project holds now.
func (s *OpenAIServer) Keys(project string) []OpenAIKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OpenAIKey(nil), s.keys[project]...)
}

func (s *OpenAIServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok || got == "":
			s.writeError(w, http.StatusUnauthorized, "invalid_request_error",
				"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
		case s.ForbiddenKey != "" && got == s.ForbiddenKey:
			s.writeError(w, http.StatusForbidden, "invalid_request_error",
				"You have insufficient permissions for this operation. Missing scopes: api.management.read.")
		case got != s.AdminKey:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"message": "Incorrect API key provided: " + redact(got) + ". You can find your API key at https://platform.openai.com/account/api-keys.",
				"type":    "invalid_request_error", "param": nil, "code": "invalid_api_key",
			}})
		default:
			h(w, r)
		}
	}
}

// limit validates `limit` as documented: 1..100, default 20.
func (s *OpenAIServer) limit(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, ok := queryInt(r, "limit", 20)
	if !ok || n < 1 || n > 100 {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error",
			"Invalid 'limit': integer must be between 1 and 100, got "+r.URL.Query().Get("limit")+".")
		return 0, false
	}
	return n, true
}

func listOpenAI[T any](s *OpenAIServer, w http.ResponseWriter, r *http.Request, items []T, id func(T) string) {
	limit, ok := s.limit(w, r)
	if !ok {
		return
	}
	after := r.URL.Query().Get("after")
	if s.repeating() {
		after = ""
	}
	page, more, found := cursorPage(items, id, after, limit)
	if !found {
		s.writeError(w, http.StatusBadRequest, "invalid_request_error", "Invalid 'after': no object with id "+after+".")
		return
	}
	writeJSON(w, envelope("list", page, id, more || s.repeating()))
}

func (s *OpenAIServer) listProjects(w http.ResponseWriter, r *http.Request) {
	archived := r.URL.Query().Get("include_archived") == "true"
	s.mu.Lock()
	var ps []OpenAIProject
	for _, p := range s.projects {
		if archived || p.Status != "archived" {
			ps = append(ps, p)
		}
	}
	s.mu.Unlock()
	listOpenAI(s, w, r, ps, func(p OpenAIProject) string { return p.ID })
}

func (s *OpenAIServer) project(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("project_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.projects {
		if p.ID == id {
			return id, true
		}
	}
	s.writeError(w, http.StatusNotFound, "invalid_request_error", "No such project: "+id)
	return "", false
}

func (s *OpenAIServer) listKeys(w http.ResponseWriter, r *http.Request) {
	id, ok := s.project(w, r)
	if !ok {
		return
	}
	access := r.URL.Query().Get("owner_project_access")
	s.mu.Lock()
	var ks []OpenAIKey
	for _, k := range s.keys[id] {
		// Without a filter the API applies membership rules that "may
		// exclude some enabled keys"; the fake shows owners with access.
		if access == "any" || k.OwnerProjectAccess == access || (access == "" && k.OwnerProjectAccess == "active") {
			ks = append(ks, k)
		}
	}
	s.mu.Unlock()
	listOpenAI(s, w, r, ks, func(k OpenAIKey) string { return k.ID })
}

func (s *OpenAIServer) listAccounts(w http.ResponseWriter, r *http.Request) {
	id, ok := s.project(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	as := append([]OpenAIServiceAccount(nil), s.accounts[id]...)
	s.mu.Unlock()
	listOpenAI(s, w, r, as, func(a OpenAIServiceAccount) string { return a.ID })
}

func (s *OpenAIServer) deleteKey(w http.ResponseWriter, r *http.Request) {
	id, ok := s.project(w, r)
	if !ok {
		return
	}
	keyID := r.PathValue("key_id")
	s.mu.Lock()
	ks := s.keys[id]
	for i, k := range ks {
		if k.ID == keyID {
			s.keys[id] = append(ks[:i:i], ks[i+1:]...)
			s.mu.Unlock()
			writeJSON(w, map[string]any{"object": "organization.project.api_key.deleted", "id": keyID, "deleted": true})
			return
		}
	}
	s.mu.Unlock()
	s.writeError(w, http.StatusNotFound, "invalid_request_error", "No such API key: "+keyID)
}

func openAIErrorBody(_ int, typ, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nil, "code": nil,
	}})
	return b
}

func openAIErrorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "requests"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// redact shows a key as providers echo it: a prefix, stars, the last four.
func redact(k string) string {
	if len(k) <= 8 {
		return "****"
	}
	return k[:3] + "****" + k[len(k)-4:]
}
