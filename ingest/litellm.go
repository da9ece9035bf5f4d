package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
)

// LiteLLM's generic API logger (FORMATS.md section 2).
//
// Checked against BerriAI/litellm sources (2026):
//   - litellm/integrations/generic_api/generic_api_callback.py: the logger POSTs
//     kwargs["standard_logging_object"] (a StandardLoggingPayload) with
//     Content-Type application/json, log_format "json_array" (the default: one
//     JSON array per batch), "ndjson" (objects joined by "\n") or "single" (one
//     object per request). A queued payload may be None, sent as null.
//   - litellm/types/utils.py, StandardLoggingPayload: id, trace_id,
//     litellm_call_id, call_type, status ("success"|"failure"),
//     custom_llm_provider, prompt_tokens, completion_tokens, startTime and
//     endTime (float, epoch seconds), response_cost, model, model_group,
//     requester_ip_address, user_agent (newer versions), request_tags,
//     error_information{error_code (str), error_class}, hidden_params
//     {litellm_model_name}, metadata (StandardLoggingMetadata:
//     user_api_key_hash, user_api_key_alias, user_api_key_team_id,
//     user_api_key_team_alias, requester_ip_address, user_agent,
//     requester_custom_headers, team_alias, team_id).
//   - litellm/litellm_core_utils/litellm_logging.py,
//     get_standard_logging_metadata: user_api_key_hash is set only from a
//     metadata user_api_key that is a SHA-256 hex digest (the hashed virtual
//     key, never the secret); get_error_information: error_code is
//     str(exception.code or .status_code), "" when unknown; _get_request_tags
//     adds "User-Agent: <ua>" tags from the proxy request's headers.
//
// Only the fields below are decoded; messages, response, model_parameters and
// the rest of the payload are skipped unread and never reach an Event.

// liteLLMPayload is the part of a StandardLoggingPayload keywatch reads.
// LiteLLM_SpendLogs columns (api_key, request_duration_ms, request_id,
// proxy_server_request) are accepted too, for rows exported from its table.
type liteLLMPayload struct {
	ID                 looseString       `json:"id"`
	RequestIDCol       looseString       `json:"request_id"`
	LiteLLMCallID      looseString       `json:"litellm_call_id"`
	CallType           looseString       `json:"call_type"`
	Status             looseString       `json:"status"`
	Provider           looseString       `json:"custom_llm_provider"`
	Model              looseString       `json:"model"`
	ModelGroup         looseString       `json:"model_group"`
	PromptTokens       looseNumber       `json:"prompt_tokens"`
	CompletionTokens   looseNumber       `json:"completion_tokens"`
	StartTime          looseTime         `json:"startTime"`
	EndTime            looseTime         `json:"endTime"`
	RequestDurationMS  looseNumber       `json:"request_duration_ms"`
	ResponseCost       looseNumber       `json:"response_cost"`
	Spend              looseNumber       `json:"spend"`
	RequesterIP        looseString       `json:"requester_ip_address"`
	UserAgent          looseString       `json:"user_agent"`
	APIKey             looseString       `json:"api_key"`
	ErrorStr           looseString       `json:"error_str"`
	RequestTags        []json.RawMessage `json:"request_tags"`
	ProxyServerRequest struct {
		Headers map[string]looseString `json:"headers"`
	} `json:"proxy_server_request"`
	ErrorInformation struct {
		ErrorCode  looseString `json:"error_code"`
		ErrorClass looseString `json:"error_class"`
	} `json:"error_information"`
	HiddenParams struct {
		LiteLLMModelName looseString `json:"litellm_model_name"`
	} `json:"hidden_params"`
	Metadata struct {
		KeyHash                looseString            `json:"user_api_key_hash"`
		KeyAlias               looseString            `json:"user_api_key_alias"`
		TeamID                 looseString            `json:"user_api_key_team_id"`
		TeamAlias              looseString            `json:"user_api_key_team_alias"`
		MetaTeamAlias          looseString            `json:"team_alias"`
		MetaTeamID             looseString            `json:"team_id"`
		RequesterIP            looseString            `json:"requester_ip_address"`
		UserAgent              looseString            `json:"user_agent"`
		RequesterCustomHeaders map[string]looseString `json:"requester_custom_headers"`
	} `json:"metadata"`
}

// DecodeLiteLLM decodes a body POSTed by LiteLLM's generic API logger: one
// StandardLoggingPayload object, a JSON array of them (log_format
// json_array), or one a line (ndjson). It calls emit once per payload that
// maps to an event:
//
//	Time        startTime (epoch seconds; RFC 3339 strings are accepted too)
//	KeyID       metadata.user_api_key_hash (hashed virtual key) ‖
//	            metadata.user_api_key_alias ‖ api_key when it is a SHA-256 digest
//	Service     metadata.user_api_key_team_alias ‖ user_api_key_team_id ‖
//	            metadata.team_alias ‖ metadata.team_id
//	ClientIP    requester_ip_address ‖ metadata.requester_ip_address
//	UserAgent   user_agent ‖ metadata.user_agent ‖ the user-agent header of
//	            proxy_server_request or requester_custom_headers ‖ the last
//	            "User-Agent: " request tag
//	Provider    custom_llm_provider, normalised by NormalizeProvider
//	Model       model ‖ model_group ‖ hidden_params.litellm_model_name
//	Operation   call_type, see liteLLMOperation
//	Tokens      prompt_tokens, completion_tokens (as LiteLLM reports them)
//	CostUSD     response_cost ‖ spend
//	Status      "success" → 200; "failure" → error_information.error_code when
//	            numeric, else the status of a known error_class, else 500
//	LatencyMS   (endTime − startTime) × 1000 ‖ request_duration_ms
//	RequestID   id ‖ request_id ‖ litellm_call_id
//
// A payload without a key id or start time, null, or of the wrong shape is
// counted in Stats with its position ("item N" of an array, 0-based; "line N"
// of ndjson, 1-based; "body") and never stops the rest. A body that is not
// JSON at all returns a *keywatch.Error with code EINVALID. emit receives the
// same *Event on every call; a consumer that keeps it must copy it.
func DecodeLiteLLM(body []byte, emit func(*keywatch.Event)) (Stats, error) {
	var (
		st Stats
		d  liteLLMDecoder
	)
	body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return st, nil
	case trimmed[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return st, liteLLMError(err)
		}
		for i, it := range items {
			d.item(&st, emit, it, "item "+strconv.Itoa(i))
		}
		return st, nil
	case trimmed[0] == '{' && json.Valid(trimmed):
		d.item(&st, emit, trimmed, "body")
		return st, nil
	}
	// ndjson: a line that is not JSON is one bad item; a body none of whose
	// lines is JSON is not LiteLLM output at all.
	var (
		valid   bool
		lineErr error
		n       int
	)
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		n++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		where := "line " + strconv.Itoa(n)
		if !json.Valid(line) {
			if lineErr == nil {
				var v any
				lineErr = json.Unmarshal(line, &v)
			}
			st.skip(where, "invalid json")
			continue
		}
		valid = true
		d.item(&st, emit, line, where)
	}
	if !valid {
		if lineErr == nil {
			lineErr = errors.New("no json value")
		}
		return Stats{}, liteLLMError(lineErr)
	}
	return st, nil
}

func liteLLMError(err error) error {
	return &keywatch.Error{Code: keywatch.EINVALID, Message: "decode litellm payloads", Err: err}
}

// liteLLMDecoder holds the state reused across the payloads of one body.
type liteLLMDecoder struct {
	p  liteLLMPayload
	ev keywatch.Event
}

func (d *liteLLMDecoder) item(st *Stats, emit func(*keywatch.Event), raw []byte, where string) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		st.skip(where, "null payload")
		return
	}
	if c := bytes.TrimSpace(raw); len(c) == 0 || c[0] != '{' {
		st.skip(where, "not an object")
		return
	}
	p := &d.p
	*p = liteLLMPayload{}
	if err := json.Unmarshal(raw, p); err != nil {
		st.skip(where, liteLLMReason(err))
		return
	}
	ev := &d.ev
	*ev = keywatch.Event{}
	m := &p.Metadata
	ev.KeyID = firstNonEmpty(string(m.KeyHash), string(m.KeyAlias))
	if ev.KeyID == "" && isSHA256Hex(string(p.APIKey)) {
		ev.KeyID = string(p.APIKey)
	}
	switch {
	case ev.KeyID == "":
		st.skip(where, "no key id")
		return
	case looksLikeSecret(ev.KeyID):
		st.skip(where, "key id looks like a secret")
		return
	case !p.StartTime.ok:
		st.skip(where, "no startTime")
		return
	}
	ev.Time = p.StartTime.t
	ev.Service = firstNonEmpty(string(m.TeamAlias), string(m.TeamID), string(m.MetaTeamAlias), string(m.MetaTeamID))
	ev.ClientIP = parseClientIP(firstNonEmpty(string(p.RequesterIP), string(m.RequesterIP)))
	ev.UserAgent = firstNonEmpty(string(p.UserAgent), string(m.UserAgent),
		header(p.ProxyServerRequest.Headers, "user-agent"), header(m.RequesterCustomHeaders, "user-agent"),
		userAgentTag(p.RequestTags))
	ev.Provider = NormalizeProvider(string(p.Provider))
	ev.Model = firstNonEmpty(string(p.Model), string(p.ModelGroup), string(p.HiddenParams.LiteLLMModelName))
	ev.Operation = liteLLMOperation(string(p.CallType))
	ev.InputTokens = p.PromptTokens.count()
	ev.OutputTokens = p.CompletionTokens.count()
	ev.CostUSD = p.ResponseCost.nonNegative()
	if ev.CostUSD == 0 {
		ev.CostUSD = p.Spend.nonNegative()
	}
	ev.Status = liteLLMStatus(p)
	if p.EndTime.ok && !p.EndTime.t.Before(p.StartTime.t) {
		ev.LatencyMS = float64(p.EndTime.t.Sub(p.StartTime.t)) / 1e6
	} else {
		ev.LatencyMS = p.RequestDurationMS.nonNegative()
	}
	ev.RequestID = firstNonEmpty(string(p.ID), string(p.RequestIDCol), string(p.LiteLLMCallID))
	st.Events++
	emit(ev)
}

// liteLLMReason turns a json.Unmarshal error into a short, low-cardinality
// reason naming the field.
func liteLLMReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "payload"
		}
		return "field " + field + ": want " + jsonKind(te.Type.Kind().String()) + ", got " + te.Value
	}
	var fe *looseError
	if errors.As(err, &fe) {
		return fe.msg
	}
	return "invalid payload"
}

func jsonKind(k string) string {
	switch k {
	case "struct", "map":
		return "object"
	case "slice":
		return "array"
	}
	return k
}

// liteLLMStatus maps status and error_information to an HTTP status; 0 when
// the payload says neither success nor failure.
func liteLLMStatus(p *liteLLMPayload) int {
	status := strings.ToLower(string(p.Status))
	if status == "" && p.ErrorStr != "" {
		status = "failure"
	}
	switch status {
	case "success":
		return 200
	case "failure":
		if n, err := strconv.Atoi(strings.TrimSpace(string(p.ErrorInformation.ErrorCode))); err == nil && n >= 100 && n <= 599 {
			return n
		}
		if n := errorClassStatus(string(p.ErrorInformation.ErrorClass)); n != 0 {
			return n
		}
		return 500
	}
	return 0
}

// liteLLMOperation maps a LiteLLM call_type (litellm/types/utils.py
// CallTypes; the "a" prefix marks the async twin) to keywatch's operation
// vocabulary. Unknown call types pass through unchanged.
func liteLLMOperation(callType string) string {
	ct := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(callType)), "litellm.")
	switch ct {
	case "completion", "acompletion", "anthropic_messages", "aanthropic_messages",
		"generate_content", "agenerate_content", "generate_content_stream", "agenerate_content_stream":
		return "chat"
	case "text_completion", "atext_completion":
		return "completion"
	case "embedding", "aembedding":
		return "embeddings"
	case "responses", "aresponses", "_aresponses_websocket":
		return "responses"
	case "image_generation", "aimage_generation", "image_edit", "aimage_edit":
		return "images"
	case "transcription", "atranscription", "speech", "aspeech":
		return "audio"
	case "moderation", "amoderation":
		return "moderation"
	case "rerank", "arerank":
		return "rerank"
	case "search", "asearch":
		return "search"
	case "_arealtime", "arealtime":
		return "realtime"
	case "ocr", "aocr":
		return "ocr"
	case "create_batch", "acreate_batch", "retrieve_batch", "aretrieve_batch", "cancel_batch", "acancel_batch":
		return "batch"
	case "pass_through_endpoint", "llm_passthrough_route", "allm_passthrough_route":
		return "passthrough"
	}
	return ct
}

// header returns the value of the header named lower (case-insensitively).
func header(h map[string]looseString, lower string) string {
	if v, ok := h[lower]; ok {
		return string(v)
	}
	for k, v := range h {
		if strings.EqualFold(k, lower) {
			return string(v)
		}
	}
	return ""
}

// userAgentTag returns the user agent of the last "User-Agent: " request tag;
// LiteLLM adds the product token first and the full header last.
func userAgentTag(tags []json.RawMessage) string {
	ua := ""
	for _, raw := range tags {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			continue
		}
		if v, ok := strings.CutPrefix(s, "User-Agent: "); ok {
			ua = strings.TrimSpace(v)
		}
	}
	return ua
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// looseError is a decoding problem of a loose field.
type looseError struct{ msg string }

func (e *looseError) Error() string { return e.msg }

// looseString accepts a JSON string, number or boolean (kept as its text) or
// null (""). Python senders are not strict about types.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return nil
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(strings.TrimSpace(v))
	case b[0] == '{' || b[0] == '[':
		return &looseError{"want string, got " + jsonKindOf(b[0])}
	case string(b) == "null":
		*s = ""
	default:
		*s = looseString(b)
	}
	return nil
}

// looseNumber accepts a JSON number, a numeric string or null.
type looseNumber struct {
	v  float64
	ok bool
}

func (n *looseNumber) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = looseNumber{}
		return nil
	}
	t := b
	if len(t) > 0 && t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s == "" {
			*n = looseNumber{}
			return nil
		}
		t = []byte(s)
	} else if len(t) > 0 && (t[0] == '{' || t[0] == '[' || t[0] == 't' || t[0] == 'f') {
		return &looseError{"want number, got " + jsonKindOf(t[0])}
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return &looseError{"want number, got " + jsonKindOf(b[0])}
	}
	*n = looseNumber{f, true}
	return nil
}

// count returns n as a token count: non-negative and integral, else 0.
func (n looseNumber) count() int64 {
	if !n.ok || n.v < 0 || n.v > 1<<53 {
		return 0
	}
	return int64(n.v)
}

func (n looseNumber) nonNegative() float64 {
	if !n.ok || n.v < 0 {
		return 0
	}
	return n.v
}

// looseTime accepts epoch seconds (number or numeric string), an RFC 3339
// time, or Python's str(datetime) ("2006-01-02 15:04:05.999999", read as
// UTC). Times are rounded to the microsecond, LiteLLM's precision.
type looseTime struct {
	t  time.Time
	ok bool
}

func (lt *looseTime) UnmarshalJSON(b []byte) error {
	var n looseNumber
	if err := n.UnmarshalJSON(b); err == nil {
		*lt = looseTime{}
		if n.ok && n.v > 0 && n.v < 1e11 { // seconds up to year 5138
			us := int64(math.Round(n.v * 1e6))
			*lt = looseTime{time.UnixMicro(us).UTC(), true}
		}
		return nil
	}
	var s string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		return &looseError{"want time"}
	}
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			*lt = looseTime{t.UTC().Round(time.Microsecond), true}
			return nil
		}
	}
	return &looseError{"want time, got a string in another format"}
}

func jsonKindOf(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
