package gateway

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// refusal is an answer the gateway gives itself, in OpenAI's error shape:
// {"error":{"message","type","param","code"}}. Messages never hold a
// secret.
type refusal struct {
	status     int
	typ, code  string
	param      string
	message    string
	retryAfter time.Duration
}

// Refusals. Messages say what to do, not what the key was.
var (
	errMissingKey = refusal{status: 401, typ: "invalid_request_error", code: "invalid_api_key",
		message: "No API key provided: send a keywatch key as 'Authorization: Bearer kwk_...' or 'x-api-key'."}
	errInvalidKey = refusal{status: 401, typ: "invalid_request_error", code: "invalid_api_key",
		message: "Incorrect API key provided."}
	errExpiredKey = refusal{status: 401, typ: "invalid_request_error", code: "expired_api_key",
		message: "The API key has expired; ask its owner for a new one."}
	errRevokedKey = refusal{status: 401, typ: "invalid_request_error", code: "revoked_api_key",
		message: "The API key has been revoked."}
	errExpiredToken = refusal{status: 401, typ: "invalid_request_error", code: "expired_token",
		message: "The gateway token has expired; exchange your credential for a new one at /v1/gateway/token."}
	errDisabledKey = refusal{status: 403, typ: "permission_error", code: "key_disabled",
		message: "The API key is disabled; its owner has been alerted."}
	errSource = refusal{status: 403, typ: "permission_error", code: "source_not_allowed",
		message: "The API key may not be used from this network or country."}
	errOperation = refusal{status: 403, typ: "permission_error", code: "operation_not_allowed",
		message: "The API key may not be used for this operation."}
	errModel = refusal{status: 403, typ: "permission_error", code: "model_not_allowed", param: "model",
		message: "The API key may not be used with this model."}
	errNoRoute = refusal{status: 404, typ: "invalid_request_error", code: "model_not_found", param: "model",
		message: "No upstream serves this model."}
	errUnknownURL = refusal{status: 404, typ: "invalid_request_error", code: "unknown_url",
		message: "Unknown URL: the gateway serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses, /v1/models and /v1/messages."}
	errBadBody = refusal{status: 400, typ: "invalid_request_error", code: "invalid_request",
		message: "The request body is not valid JSON."}
	errTooLarge = refusal{status: 413, typ: "invalid_request_error", code: "request_too_large",
		message: "The request body is too large."}
	errUpstream = refusal{status: 502, typ: "api_error", code: "upstream_error",
		message: "The upstream API could not be reached."}
	errBadRequest = refusal{status: 400, typ: "invalid_request_error", code: "invalid_request",
		message: "The request is not valid HTTP."}
	errInternal = refusal{status: 500, typ: "api_error", code: "internal_error",
		message: "The gateway failed on this request; it has been logged."}
	// errWouldBlock is never sent: a check on an event loop returns it
	// when it must wait (a keyring reload), for the request to be served
	// again off the loop.
	errWouldBlock = refusal{status: 500, typ: "api_error", code: "internal_error", message: "would block"}
	errState      = refusal{status: 503, typ: "api_error", code: "gateway_unavailable", retryAfter: time.Second,
		message: "The gateway cannot check quotas right now; retry shortly."}
)

// rateLimited is the 429 refusal for lim.
func rateLimited(lim Limit, retry time.Duration) refusal {
	typ := "tokens"
	if lim == LimitRPM {
		typ = "requests"
	}
	return refusal{status: 429, typ: typ, code: "rate_limit_exceeded", retryAfter: retry,
		message: "Rate limit reached for " + lim.String() + " on this key; retry after " +
			strconv.Itoa(retrySeconds(retry)) + "s."}
}

func retrySeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// send answers with the refusal.
func (r *refusal) send(x exchange) {
	if r.retryAfter > 0 {
		x.setHeader("Retry-After", strconv.Itoa(retrySeconds(r.retryAfter)))
	}
	var param any
	if r.param != "" {
		param = r.param
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": r.message, "type": r.typ, "param": param, "code": r.code}})
	x.writeJSON(r.status, append(b, '\n'))
}
