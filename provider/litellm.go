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

// LiteLLM lists the virtual keys of a LiteLLM proxy.
//
// Verified against BerriAI/litellm source (commit 00670428):
// litellm/proxy/management_endpoints/key_management_endpoints.py, list_keys:
// GET /key/list with page (>= 1, default 1), size (1..100, default 10),
// return_full_object (default false: keys are then bare hashed tokens),
// answer {keys, total_count, current_page, total_pages}, ordered by
// created_at desc then token desc (offset pagination, so keys created
// during a listing can shift and repeat: repeats are dropped). A proxy
// admin (the master key) sees every key. Key objects follow
// LiteLLM_VerificationToken (litellm/proxy/_types.py and
// litellm/models/verification_token.py): token (SHA-256 of the secret),
// key_name (abbreviated secret, "sk-...abcd"), key_alias, spend,
// max_budget, budget_duration, expires, models, user_id, team_id, org_id,
// metadata, tpm_limit, rpm_limit, blocked, created_at, created_by.
// Authentication: user_api_key_auth reads "Authorization: Bearer <key>"
// and also, per SpecialHeaders in litellm/proxy/_types.py,
// "x-litellm-api-key"; the adapter sends Authorization, the documented
// default. Errors are ProxyException {"error":{"message","type","param",
// "code"}}; query validation errors are FastAPI's 422 {"detail":[...]}.
//
// Mapping choices: Service is metadata["service"] when set, else the team
// id; max_budget becomes Quotas.MonthlyBudgetUSD only when budget_duration
// is monthly (30d, 1mo), and is otherwise kept as a label, since a lifetime
// budget is not a monthly one. LiteLLM gives no last-used time here.
//
// LiteLLM is safe for concurrent use.
type LiteLLM struct {
	c *client
}

const litellmMaxSize = 100

// NewLiteLLM returns an adapter for the LiteLLM proxy at baseURL
// authenticated by masterKey (or another proxy-admin key).
func NewLiteLLM(baseURL, masterKey string, opts ...Option) *LiteLLM {
	return &LiteLLM{c: &client{
		provider:   "litellm",
		base:       strings.TrimRight(baseURL, "/"),
		secret:     masterKey,
		cfg:        newConfig(opts),
		auth:       func(h http.Header) { h.Set("Authorization", "Bearer "+masterKey) },
		errMessage: openAIStyleError,
	}}
}

type litellmKey struct {
	Token          string          `json:"token"`
	KeyName        *string         `json:"key_name"`
	KeyAlias       *string         `json:"key_alias"`
	UserID         *string         `json:"user_id"`
	TeamID         *string         `json:"team_id"`
	OrgID          *string         `json:"org_id"`
	Models         []string        `json:"models"`
	MaxBudget      *float64        `json:"max_budget"`
	BudgetDuration *string         `json:"budget_duration"`
	TPMLimit       *int64          `json:"tpm_limit"`
	RPMLimit       *int64          `json:"rpm_limit"`
	Expires        *string         `json:"expires"`
	Blocked        *bool           `json:"blocked"`
	Metadata       json.RawMessage `json:"metadata"`
	CreatedAt      *string         `json:"created_at"`
	CreatedBy      *string         `json:"created_by"`
}

type litellmPage struct {
	Keys        []json.RawMessage `json:"keys"`
	TotalCount  *int              `json:"total_count"`
	CurrentPage *int              `json:"current_page"`
	TotalPages  *int              `json:"total_pages"`
}

// ListKeys lists every virtual key the master key can see.
func (l *LiteLLM) ListKeys(ctx context.Context) ([]keywatch.StoredKey, error) {
	const path = "/key/list"
	size := strconv.Itoa(l.c.cfg.pageSizeIn(litellmMaxSize))
	var out []keywatch.StoredKey
	seen := map[string]bool{}
	for page := 1; ; page++ {
		var p litellmPage
		q := url.Values{"page": {strconv.Itoa(page)}, "size": {size}, "return_full_object": {"true"}}
		if err := l.c.get(ctx, path, q, &p); err != nil {
			return nil, err
		}
		switch {
		case p.Keys == nil:
			return nil, l.c.invalid(path, "page %d: missing field keys", page)
		case p.TotalPages == nil:
			return nil, l.c.invalid(path, "page %d: missing field total_pages", page)
		case p.CurrentPage != nil && *p.CurrentPage != page:
			return nil, l.c.invalid(path, "asked for page %d, got current_page %d", page, *p.CurrentPage)
		}
		fresh := 0
		for _, raw := range p.Keys {
			var k litellmKey
			if err := json.Unmarshal(raw, &k); err != nil {
				return nil, l.c.invalid(path, "page %d: key is not an object (return_full_object ignored?)", page)
			}
			if k.Token == "" {
				return nil, l.c.invalid(path, "page %d: key without token", page)
			}
			if seen[k.Token] {
				continue
			}
			seen[k.Token] = true
			fresh++
			sk, err := l.mapKey(path, &k)
			if err != nil {
				return nil, err
			}
			out = append(out, sk)
		}
		if fresh == 0 && page > 1 && strconv.Itoa(len(p.Keys)) == size {
			// Offset pagination can repeat a few keys when keys are created
			// during the listing, not a whole page: the server ignores page.
			return nil, l.c.invalid(path, "page %d repeats keys already listed", page)
		}
		if page >= *p.TotalPages || len(p.Keys) == 0 {
			return out, nil
		}
	}
}

func (l *LiteLLM) mapKey(path string, k *litellmKey) (keywatch.StoredKey, error) {
	short := k.Token
	if len(short) > 12 {
		short = short[:12]
	}
	created, err := parseLiteLLMTime(deref(k.CreatedAt))
	if err != nil {
		return keywatch.StoredKey{}, l.c.invalid(path, "key %s: created_at: %v", short, err)
	}
	expires, err := parseLiteLLMTime(deref(k.Expires))
	if err != nil {
		return keywatch.StoredKey{}, l.c.invalid(path, "key %s: expires: %v", short, err)
	}
	var meta map[string]any
	if len(k.Metadata) > 0 && string(k.Metadata) != "null" {
		if err := json.Unmarshal(k.Metadata, &meta); err != nil {
			return keywatch.StoredKey{}, l.c.invalid(path, "key %s: metadata is not an object", short)
		}
	}
	labels := map[string]string{}
	setLabel(labels, "team_id", deref(k.TeamID))
	setLabel(labels, "user_id", deref(k.UserID))
	setLabel(labels, "org_id", deref(k.OrgID))
	setLabel(labels, "key_alias", deref(k.KeyAlias))
	setLabel(labels, "created_by", deref(k.CreatedBy))
	setLabel(labels, "budget_duration", deref(k.BudgetDuration))

	sk := keywatch.StoredKey{
		Key: keywatch.Key{
			ID:       "litellm:" + k.Token,
			Provider: "litellm",
			Name:     deref(k.KeyAlias),
			Team:     deref(k.TeamID),
			Service:  metaString(meta, "service"),
			Env:      metaString(meta, "env"),
			Created:  created,
			Expires:  expires,
			Status:   keywatch.KeyActive,
			Labels:   labels,
		},
		ProviderKeyID: k.Token,
		Redacted:      deref(k.KeyName),
		Last4:         last4(deref(k.KeyName)),
	}
	if sk.Name == "" {
		sk.Name = deref(k.KeyName)
	}
	if sk.Service == "" {
		sk.Service = deref(k.TeamID)
	}
	if owner := metaString(meta, "owner"); owner != "" {
		sk.Owner = owner
	} else if u := deref(k.UserID); strings.Contains(u, "@") {
		sk.Owner = u
	}
	if k.Blocked != nil && *k.Blocked {
		sk.Status = keywatch.KeyDisabled
	}
	for _, m := range k.Models {
		// An empty list or the "all-proxy-models" sentinel admits every model.
		if m == "all-proxy-models" {
			sk.Models = nil
			break
		}
		sk.Models = append(sk.Models, m)
	}
	if k.RPMLimit != nil {
		sk.Quotas.RPM = *k.RPMLimit
	}
	if k.TPMLimit != nil {
		sk.Quotas.TPM = *k.TPMLimit
	}
	if k.MaxBudget != nil {
		switch deref(k.BudgetDuration) {
		case "30d", "1mo":
			sk.Quotas.MonthlyBudgetUSD = *k.MaxBudget
		default:
			labels["max_budget_usd"] = strconv.FormatFloat(*k.MaxBudget, 'f', -1, 64)
		}
	}
	return sk, nil
}

// parseLiteLLMTime reads the datetimes LiteLLM serialises: ISO 8601 from
// pydantic, with or without an offset (no offset reads as UTC), and
// Python's str(datetime) with a space. Empty is the zero time.
func parseLiteLLMTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	var err error
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
	} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

func metaString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
