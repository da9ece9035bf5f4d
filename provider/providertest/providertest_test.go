package providertest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keywatch/keywatch/provider/providertest"
)

func do(t *testing.T, method, url, body string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return resp.StatusCode, m
}

func TestLimitsAndErrorShapes(t *testing.T) {
	o := providertest.NewOpenAI(t)
	a := providertest.NewAnthropic(t)
	l := providertest.NewLiteLLM(t)
	oh := map[string]string{"Authorization": "Bearer " + o.AdminKey}
	ah := map[string]string{"x-api-key": a.AdminKey, "anthropic-version": "2023-06-01"}
	lh := map[string]string{"x-litellm-api-key": l.MasterKey}
	tests := []struct {
		name, url  string
		hdr        map[string]string
		wantStatus int
		wantPath   []string // keys into the body that must exist
	}{
		{"openai limit 101", o.URL + "/organization/projects?limit=101", oh, 400, []string{"error", "message"}},
		{"openai limit 100", o.URL + "/organization/projects?limit=100", oh, 200, []string{"has_more"}},
		{"openai no key", o.URL + "/organization/projects", nil, 401, []string{"error", "type"}},
		{"anthropic limit 0", a.URL + "/v1/organizations/api_keys?limit=0", ah, 400, []string{"error", "type"}},
		{"anthropic limit 1000", a.URL + "/v1/organizations/api_keys?limit=1000", ah, 200, []string{"has_more"}},
		{"anthropic no version", a.URL + "/v1/organizations/api_keys", map[string]string{"x-api-key": a.AdminKey}, 400, []string{"error", "message"}},
		{"anthropic bad key", a.URL + "/v1/organizations/api_keys", map[string]string{"x-api-key": "nope", "anthropic-version": "2023-06-01"}, 401, []string{"error", "type"}},
		{"litellm size 101", l.URL + "/key/list?size=101", lh, 422, []string{"detail"}},
		{"litellm x-litellm-api-key", l.URL + "/key/list", lh, 200, []string{"total_pages"}},
		{"litellm bad key", l.URL + "/key/list", map[string]string{"Authorization": "Bearer nope"}, 401, []string{"error", "code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, http.MethodGet, tt.url, "", tt.hdr)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d (%v)", status, tt.wantStatus, body)
			}
			var cur any = body
			for _, k := range tt.wantPath {
				m, _ := cur.(map[string]any)
				v, ok := m[k]
				if !ok {
					t.Fatalf("body %v lacks %v", body, tt.wantPath)
				}
				cur = v
			}
		})
	}
}

func TestContainment(t *testing.T) {
	o := providertest.NewOpenAI(t)
	o.AddProject(providertest.OpenAIProject{ID: "proj_a", CreatedAt: 1})
	o.AddKey("proj_a", providertest.OpenAIKey{ID: "key_1", CreatedAt: 1})
	status, body := do(t, http.MethodDelete, o.URL+"/organization/projects/proj_a/api_keys/key_1", "", map[string]string{"Authorization": "Bearer " + o.AdminKey})
	if status != 200 || body["deleted"] != true || len(o.Keys("proj_a")) != 0 {
		t.Errorf("openai delete: %d %v, keys %v", status, body, o.Keys("proj_a"))
	}

	a := providertest.NewAnthropic(t)
	a.AddKey(providertest.AnthropicKey{ID: "apikey_1", CreatedAt: "2024-01-01T00:00:00Z"})
	status, body = do(t, http.MethodPost, a.URL+"/v1/organizations/api_keys/apikey_1", `{"status":"inactive"}`,
		map[string]string{"x-api-key": a.AdminKey, "anthropic-version": "2023-06-01"})
	if status != 200 || body["status"] != "inactive" || a.Keys()[0].Status != "inactive" {
		t.Errorf("anthropic update: %d %v", status, body)
	}

	l := providertest.NewLiteLLM(t)
	l.AddKey(providertest.LiteLLMKey{Token: "t1", CreatedAt: "2026-01-01T00:00:00Z"})
	status, body = do(t, http.MethodPost, l.URL+"/key/block", `{"key":"t1"}`, map[string]string{"Authorization": "Bearer " + l.MasterKey})
	if status != 200 || body["blocked"] != true || !*l.Keys()[0].Blocked {
		t.Errorf("litellm block: %d %v", status, body)
	}
	status, _ = do(t, http.MethodPost, l.URL+"/key/update", `{"key":"t1","rpm_limit":5}`, map[string]string{"Authorization": "Bearer " + l.MasterKey})
	if status != 200 || *l.Keys()[0].RPMLimit != 5 {
		t.Errorf("litellm update: %d", status)
	}
}
