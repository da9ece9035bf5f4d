package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
)

// Anthropic lists the API keys of an Anthropic organization through the
// Admin API.
//
// Verified against Anthropic's API reference, "List Api Keys"
// (platform.claude.com/docs/en/api/admin/api_keys/list and
// .../admin-api/apikeys/list-api-keys): GET /v1/organizations/api_keys with
// headers x-api-key (an Admin key) and anthropic-version (2023-06-01);
// query limit (1..1000, default 20), after_id, before_id, workspace_id,
// created_by_user_id, status; answer {data, first_id, last_id, has_more}
// where last_id "can be used as the after_id for the next page". An APIKey
// is {id, type:"api_key", name, workspace_id (null for the default
// workspace), created_at (RFC 3339), created_by{id,type}, partial_key_hint
// (string or null, e.g. "sk-ant-api03-R2D...igAA"), status, expires_at
// (RFC 3339 or null)}. Errors are {"type":"error","error":{"type",
// "message"}} (docs.anthropic.com errors page).
//
// Unclear in the docs: status is documented as active|inactive|archived on
// the official page, while a mirror of a newer page adds "expired";
// expired is mapped to revoked (the key cannot be used again). Anthropic
// gives no last-used time and no owner email, only created_by's id.
//
// Anthropic is safe for concurrent use.
type Anthropic struct {
	c *client
}

// AnthropicVersion is the anthropic-version header the adapter sends.
const AnthropicVersion = "2023-06-01"

const anthropicMaxLimit = 1000

// NewAnthropic returns an adapter for the Anthropic Admin API at baseURL
// (empty: https://api.anthropic.com) authenticated by adminKey.
func NewAnthropic(baseURL, adminKey string, opts ...Option) *Anthropic {
	if baseURL == "" {
		baseURL = "https://api.anthropic.com"
	}
	return &Anthropic{c: &client{
		provider: "anthropic",
		base:     strings.TrimRight(baseURL, "/"),
		secret:   adminKey,
		cfg:      newConfig(opts),
		auth: func(h http.Header) {
			h.Set("x-api-key", adminKey)
			h.Set("anthropic-version", AnthropicVersion)
		},
		errMessage: anthropicError,
	}}
}

type anthropicKey struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	Name        *string `json:"name"`
	WorkspaceID *string `json:"workspace_id"`
	CreatedAt   string  `json:"created_at"`
	CreatedBy   *struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"created_by"`
	PartialKeyHint *string `json:"partial_key_hint"`
	Status         string  `json:"status"`
	ExpiresAt      *string `json:"expires_at"`
}

// ListKeys lists every key of the organization, whatever its status.
func (a *Anthropic) ListKeys(ctx context.Context) ([]keywatch.StoredKey, error) {
	const path = "/v1/organizations/api_keys"
	q := url.Values{"limit": {strconv.Itoa(a.c.cfg.pageSizeIn(anthropicMaxLimit))}}
	keys, err := cursorList(ctx, a.c, path, q, "after_id", func(k anthropicKey) string { return k.ID })
	if err != nil {
		return nil, err
	}
	out := make([]keywatch.StoredKey, 0, len(keys))
	for i := range keys {
		k, err := a.mapKey(path, &keys[i])
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func (a *Anthropic) mapKey(path string, k *anthropicKey) (keywatch.StoredKey, error) {
	if k.ID == "" {
		return keywatch.StoredKey{}, a.c.invalid(path, "api key without id")
	}
	if k.Type != "" && k.Type != "api_key" {
		return keywatch.StoredKey{}, a.c.invalid(path, "api key %s: type %q, want api_key", k.ID, k.Type)
	}
	created, err := time.Parse(time.RFC3339Nano, k.CreatedAt)
	if err != nil {
		return keywatch.StoredKey{}, a.c.invalid(path, "api key %s: created_at %q is not RFC 3339", k.ID, k.CreatedAt)
	}
	var expires time.Time
	if k.ExpiresAt != nil && *k.ExpiresAt != "" {
		if expires, err = time.Parse(time.RFC3339Nano, *k.ExpiresAt); err != nil {
			return keywatch.StoredKey{}, a.c.invalid(path, "api key %s: expires_at %q is not RFC 3339", k.ID, *k.ExpiresAt)
		}
	}
	var status keywatch.KeyStatus
	switch k.Status {
	case "active":
		status = keywatch.KeyActive
	case "inactive":
		status = keywatch.KeyDisabled
	case "archived", "expired":
		status = keywatch.KeyRevoked
	case "":
		return keywatch.StoredKey{}, a.c.invalid(path, "api key %s: missing status", k.ID)
	default:
		return keywatch.StoredKey{}, a.c.invalid(path, "api key %s: unknown status %q", k.ID, k.Status)
	}
	labels := map[string]string{}
	// A null workspace_id is the organization's default workspace.
	service := "default"
	if k.WorkspaceID != nil && *k.WorkspaceID != "" {
		service = *k.WorkspaceID
		labels["workspace_id"] = *k.WorkspaceID
	}
	if k.CreatedBy != nil {
		setLabel(labels, "created_by_id", k.CreatedBy.ID)
		setLabel(labels, "created_by_type", k.CreatedBy.Type)
	}
	var name, hint string
	if k.Name != nil {
		name = *k.Name
	}
	if k.PartialKeyHint != nil {
		hint = *k.PartialKeyHint
	}
	return keywatch.StoredKey{
		Key: keywatch.Key{
			ID:       "anthropic:" + k.ID,
			Provider: "anthropic",
			Name:     name,
			Service:  service,
			Created:  created.UTC(),
			Expires:  expires.UTC(),
			Status:   status,
			Labels:   labels,
		},
		ProviderKeyID: k.ID,
		Redacted:      hint,
		Last4:         last4(hint),
	}, nil
}

// anthropicError reads {"type":"error","error":{"type","message"}}.
func anthropicError(body []byte) (typ, msg string) {
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	return e.Error.Type, e.Error.Message
}
