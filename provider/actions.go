package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/keywatch/keywatch"
)

// This file holds the containment calls: the writes keywatch makes to a
// provider to disable, clamp or rotate a key. They share the adapters'
// HTTP behaviour (retries on 429, 5xx and transport errors; 401/403 as
// EUNAUTHORIZED/EFORBIDDEN; capped bodies; the admin key scrubbed from every
// message). Every call here is idempotent on the provider's side, which is
// what makes retrying a write safe: blocking a blocked key, setting a
// status it already has or deleting a deleted key (404) changes nothing.
//
// A 404 is returned as an ENOTFOUND *keywatch.Error; whether that means
// success (a deleted key is gone) is the caller's decision.

// Block blocks the LiteLLM virtual key token: POST /key/block {"key"}.
//
// Verified in BerriAI/litellm (commit 00670428),
// litellm/proxy/management_endpoints/key_management_endpoints.py,
// block_key and unblock_key: the body is BlockKeyRequest {"key"}; a key
// starting with "sk-" is hashed with SHA-256 (hash_token), any other value
// is taken as the hashed token itself, so the token /key/list returns (and
// StoredKey.ProviderKeyID holds) is accepted as is and keywatch never needs
// the secret. Both are proxy-admin routes; both set blocked and refresh
// LiteLLM's key cache, so the block holds from the next request.
func (l *LiteLLM) Block(ctx context.Context, token string) error {
	return l.c.send(ctx, http.MethodPost, "/key/block", map[string]string{"key": token}, nil)
}

// Unblock reverses Block: POST /key/unblock {"key"}.
func (l *LiteLLM) Unblock(ctx context.Context, token string) error {
	return l.c.send(ctx, http.MethodPost, "/key/unblock", map[string]string{"key": token}, nil)
}

// LiteLLMLimits are the per-key rate limits /key/update sets. A nil field
// is left out of the request and so left unchanged.
type LiteLLMLimits struct {
	RPM *int64 `json:"rpm_limit,omitempty"`
	TPM *int64 `json:"tpm_limit,omitempty"`
}

// UpdateLimits sets the requests- and tokens-per-minute limits of the
// LiteLLM virtual key token: POST /key/update {"key", "rpm_limit",
// "tpm_limit"}. /key/update takes the same raw-or-hashed key as /key/block.
func (l *LiteLLM) UpdateLimits(ctx context.Context, token string, lim LiteLLMLimits) error {
	body := struct {
		Key string `json:"key"`
		LiteLLMLimits
	}{token, lim}
	return l.c.send(ctx, http.MethodPost, "/key/update", body, nil)
}

// RegeneratedKey is what /key/regenerate answers. Key is the new secret:
// the caller hands it to its owner and must never log or store it.
type RegeneratedKey struct {
	Key     string `json:"key"`      // the new secret (sk-...)
	Token   string `json:"token_id"` // SHA-256 of the new secret: the new ProviderKeyID
	KeyName string `json:"key_name"` // abbreviated new secret, "sk-...abcd"
}

// Regenerate replaces the secret of the LiteLLM virtual key token, keeping
// its settings: POST /key/regenerate {"key"}.
//
// Verified in BerriAI/litellm (commit 00670428), regenerate_key_fn: routes
// /key/regenerate (key in the body) and /key/{key}/regenerate; a key
// without "sk" is taken as the hashed token; the answer is a
// GenerateKeyResponse whose "key" is the new secret and "token_id" its
// hash. It is an Enterprise feature: without a premium licence the proxy
// refuses it, which arrives here as an error. The old secret stops working
// at once unless grace_period (or LITELLM_KEY_ROTATION_GRACE_PERIOD) is set.
// Regenerate is not idempotent: every call makes a new secret. It is
// therefore sent once, without retries.
func (l *LiteLLM) Regenerate(ctx context.Context, token string) (RegeneratedKey, error) {
	var r RegeneratedKey
	c := *l.c
	c.cfg.maxRetries = 0
	if err := c.send(ctx, http.MethodPost, "/key/regenerate", map[string]string{"key": token}, &r); err != nil {
		return RegeneratedKey{}, err
	}
	if r.Key == "" || r.Token == "" {
		return RegeneratedKey{}, c.sendErr(keywatch.EINTERNAL, http.MethodPost, "/key/regenerate", "invalid response: missing key or token_id", nil)
	}
	return r, nil
}

// DeleteKey deletes the API key keyID of project projectID: DELETE
// /organization/projects/{project_id}/api_keys/{key_id}
// (delete-project-api-key in shared/specs/openai-openapi.yaml, Admin key
// auth). OpenAI has no way to disable a key: deletion is final, and a new
// key must be created for the service. A key already deleted answers 404,
// returned as ENOTFOUND.
func (o *OpenAI) DeleteKey(ctx context.Context, projectID, keyID string) error {
	path := "/organization/projects/" + url.PathEscape(projectID) + "/api_keys/" + url.PathEscape(keyID)
	return o.c.send(ctx, http.MethodDelete, path, nil, nil)
}

// Anthropic key states SetStatus accepts.
const (
	AnthropicActive   = "active"
	AnthropicInactive = "inactive"
)

// SetStatus sets the status of the Anthropic API key id, "active" or
// "inactive": POST /v1/organizations/api_keys/{api_key_id} {"status"}
// (Anthropic Admin API "Update Api Key"). Inactive keys are refused by the
// API and can be activated again; archived keys cannot be updated.
func (a *Anthropic) SetStatus(ctx context.Context, id, status string) error {
	path := "/v1/organizations/api_keys/" + url.PathEscape(id)
	return a.c.send(ctx, http.MethodPost, path, map[string]string{"status": status}, nil)
}

// send makes a write request with the adapters' retry policy and decodes
// a 2xx JSON answer into v when v is not nil.
func (c *client) send(ctx context.Context, method, path string, in, v any) error {
	return c.request(ctx, method, path, nil, in, v)
}

// request makes a request to base+path?q with in as its JSON body (none
// when nil) and decodes a 2xx JSON answer into v when v is not nil. 429,
// 5xx and transport errors are retried with backoff, honouring
// Retry-After; 401 and 403 drop the provider's message, which may echo the
// key; every error is scrubbed of the admin key.
func (c *client) request(ctx context.Context, method, path string, q url.Values, in, v any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return c.sendErr(keywatch.EINTERNAL, method, path, "encode request", err)
		}
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return c.sendErr(keywatch.EINTERNAL, method, path, "canceled", err)
		}
		body, status, hdr, err := c.do(ctx, method, u, payload)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return c.sendErr(keywatch.EINTERNAL, method, path, "canceled", ctx.Err())
			}
			var tooBig *bodyTooLargeError
			if errors.As(err, &tooBig) {
				return c.sendErr(keywatch.EINTERNAL, method, path, err.Error(), nil)
			}
			lastErr = c.sendErr(keywatch.EINTERNAL, method, path, "request failed", err)
		case status >= 200 && status < 300:
			if v == nil {
				return nil
			}
			if err := json.Unmarshal(body, v); err != nil {
				return c.sendErr(keywatch.EINTERNAL, method, path, "malformed JSON response", err)
			}
			return nil
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			typ, _ := c.errMessage(body)
			code, what := keywatch.EUNAUTHORIZED, "admin key rejected"
			if status == http.StatusForbidden {
				code, what = keywatch.EFORBIDDEN, "admin key lacks permission"
			}
			return c.sendErr(code, method, path, fmt.Sprintf("%s (HTTP %d%s)", what, status, typeSuffix(typ)), nil)
		case status == http.StatusTooManyRequests || status >= 500:
			lastErr = c.sendErr(keywatch.EINTERNAL, method, path, c.statusText(status, body), nil)
			wait = retryAfter(hdr.Get("Retry-After"), c.cfg.now())
		default:
			code := keywatch.EINVALID
			if status == http.StatusNotFound {
				code = keywatch.ENOTFOUND
			}
			return c.sendErr(code, method, path, c.statusText(status, body), nil)
		}
		if attempt >= c.cfg.maxRetries {
			if attempt > 0 {
				return fmt.Errorf("after %d attempts: %w", attempt+1, lastErr)
			}
			return lastErr
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		if err := c.cfg.sleep(ctx, min(wait, MaxRetryWait)); err != nil {
			return c.sendErr(keywatch.EINTERNAL, method, path, "canceled while waiting to retry", err)
		}
	}
}

// do makes one HTTP request and reads its answer, bounded by maxBody.
func (c *client) do(ctx context.Context, method, u string, payload []byte) ([]byte, int, http.Header, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "keywatch")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.auth(req.Header)
	resp, err := c.cfg.client.Do(req)
	if err != nil {
		return nil, 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.maxBody+1))
	if err != nil {
		return nil, 0, nil, err
	}
	if int64(len(body)) > c.cfg.maxBody {
		return nil, 0, nil, &bodyTooLargeError{c.cfg.maxBody}
	}
	return body, resp.StatusCode, resp.Header, nil
}

// sendErr is wrap for a request of any method: message and cause are
// scrubbed of the admin key.
func (c *client) sendErr(code, method, path, what string, cause error) error {
	msg := c.scrub(fmt.Sprintf("%s: %s %s: %s", c.provider, method, path, what))
	switch {
	case cause == nil:
	case errors.Is(cause, context.Canceled), errors.Is(cause, context.DeadlineExceeded):
	default:
		cause = errors.New(c.scrub(cause.Error()))
	}
	return &keywatch.Error{Code: code, Message: msg, Err: cause}
}
