package provider

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/keywatch/keywatch"
)

// OpenAI lists the project API keys of an OpenAI organization through the
// Admin API.
//
// Verified against shared/specs/openai-openapi.yaml (openai/openai-openapi
// f85dbe2): paths /organization/projects (list-projects),
// /organization/projects/{project_id}/api_keys (list-project-api-keys) and
// /organization/projects/{project_id}/service_accounts
// (list-project-service-accounts), all with security AdminApiKeyAuth
// (Authorization: Bearer), limit 1..100 (default 20), cursor `after` and the
// envelope {object:"list", data, first_id, last_id, has_more} (first_id and
// last_id nullable; object, data and has_more required). Key objects are
// ProjectApiKey: object, redacted_value, name, created_at, last_used_at
// (nullable), id, owner_project_access and owner{type:user|service_account,
// user{id,email,name,created_at,role}, service_account{id,name,created_at,
// role}} are all required.
//
// Choices, where the description leaves room:
//   - Archived projects are skipped (include_archived=false, the API's
//     default): their keys cannot call the API, and the description does
//     not say whether their key lists stay readable.
//   - Keys are listed with owner_project_access=any, which the description
//     says returns "all enabled project API keys"; without it the endpoint
//     "may exclude some enabled keys", which an inventory cannot afford.
//   - Every key listed is enabled, so Status is active; OpenAI has no
//     disabled state, only deletion.
//
// OpenAI is safe for concurrent use.
type OpenAI struct {
	c *client
}

// NewOpenAI returns an adapter for the OpenAI Admin API at baseURL (empty:
// https://api.openai.com/v1) authenticated by adminKey.
func NewOpenAI(baseURL, adminKey string, opts ...Option) *OpenAI {
	if baseURL == "" {
		baseURL = "https://api.openai.com/v1"
	}
	return &OpenAI{c: &client{
		provider:   "openai",
		base:       strings.TrimRight(baseURL, "/"),
		secret:     adminKey,
		cfg:        newConfig(opts),
		auth:       func(h http.Header) { h.Set("Authorization", "Bearer "+adminKey) },
		errMessage: openAIStyleError,
	}}
}

// openAIMaxLimit is the documented maximum of `limit` on every list.
const openAIMaxLimit = 100

type openAIProject struct {
	ID        string  `json:"id"`
	Object    string  `json:"object"`
	Name      *string `json:"name"`
	CreatedAt *int64  `json:"created_at"`
	Status    *string `json:"status"`
}

type openAIKey struct {
	Object             string  `json:"object"`
	RedactedValue      *string `json:"redacted_value"`
	Name               *string `json:"name"`
	CreatedAt          *int64  `json:"created_at"`
	LastUsedAt         *int64  `json:"last_used_at"`
	ID                 string  `json:"id"`
	OwnerProjectAccess string  `json:"owner_project_access"`
	Owner              *struct {
		Type string `json:"type"`
		User *struct {
			ID    string `json:"id"`
			Email string `json:"email"`
			Name  string `json:"name"`
			Role  string `json:"role"`
		} `json:"user"`
		ServiceAccount *struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"service_account"`
	} `json:"owner"`
}

type openAIServiceAccount struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// ListKeys lists the keys of every active project, in project order.
func (o *OpenAI) ListKeys(ctx context.Context) ([]keywatch.StoredKey, error) {
	limit := strconv.Itoa(o.c.cfg.pageSizeIn(openAIMaxLimit))
	const projectsPath = "/organization/projects"
	projects, err := cursorList(ctx, o.c, projectsPath, url.Values{"limit": {limit}}, "after",
		func(p openAIProject) string { return p.ID })
	if err != nil {
		return nil, err
	}
	var out []keywatch.StoredKey
	for _, p := range projects {
		if p.ID == "" {
			return nil, o.c.invalid(projectsPath, "project without id")
		}
		base := projectsPath + "/" + url.PathEscape(p.ID)
		accounts, err := cursorList(ctx, o.c, base+"/service_accounts", url.Values{"limit": {limit}}, "after",
			func(a openAIServiceAccount) string { return a.ID })
		if err != nil {
			return nil, err
		}
		byID := make(map[string]openAIServiceAccount, len(accounts))
		for _, a := range accounts {
			byID[a.ID] = a
		}
		keysPath := base + "/api_keys"
		keys, err := cursorList(ctx, o.c, keysPath,
			url.Values{"limit": {limit}, "owner_project_access": {"any"}}, "after",
			func(k openAIKey) string { return k.ID })
		if err != nil {
			return nil, err
		}
		for i := range keys {
			k, err := o.mapKey(keysPath, p, &keys[i], byID)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
	}
	return out, nil
}

func (o *OpenAI) mapKey(path string, p openAIProject, k *openAIKey, accounts map[string]openAIServiceAccount) (keywatch.StoredKey, error) {
	switch {
	case k.ID == "":
		return keywatch.StoredKey{}, o.c.invalid(path, "api key without id")
	case k.RedactedValue == nil:
		return keywatch.StoredKey{}, o.c.invalid(path, "api key %s: missing redacted_value", k.ID)
	case k.CreatedAt == nil:
		return keywatch.StoredKey{}, o.c.invalid(path, "api key %s: missing created_at", k.ID)
	case k.Owner == nil || k.Owner.Type == "":
		return keywatch.StoredKey{}, o.c.invalid(path, "api key %s: missing owner.type", k.ID)
	}
	service := p.ID
	labels := map[string]string{"project_id": p.ID, "owner_type": k.Owner.Type}
	if p.Name != nil && *p.Name != "" {
		service = *p.Name
		labels["project_name"] = *p.Name
	}
	if k.OwnerProjectAccess != "" {
		labels["owner_project_access"] = k.OwnerProjectAccess
	}
	var owner string
	switch k.Owner.Type {
	case "user":
		if u := k.Owner.User; u != nil {
			owner = u.Email
			setLabel(labels, "user_id", u.ID)
		}
	case "service_account":
		if sa := k.Owner.ServiceAccount; sa != nil {
			setLabel(labels, "service_account_id", sa.ID)
			setLabel(labels, "service_account_name", sa.Name)
			if a, ok := accounts[sa.ID]; ok {
				setLabel(labels, "service_account_name", a.Name)
				setLabel(labels, "service_account_role", a.Role)
			}
		}
	}
	name := ""
	if k.Name != nil {
		name = *k.Name
	}
	return keywatch.StoredKey{
		Key: keywatch.Key{
			ID:       "openai:" + k.ID,
			Provider: "openai",
			Name:     name,
			Owner:    owner,
			Service:  service,
			Created:  unixTime(k.CreatedAt),
			Status:   keywatch.KeyActive,
			Labels:   labels,
		},
		ProviderKeyID: k.ID,
		Redacted:      *k.RedactedValue,
		Last4:         last4(*k.RedactedValue),
		LastUsed:      unixTime(k.LastUsedAt),
	}, nil
}

func setLabel(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}
