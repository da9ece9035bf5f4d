package ingest

import (
	"errors"
	"math"
	"mime"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/keywatch/keywatch"
)

// OTLP/HTTP decoding of OpenTelemetry GenAI telemetry (FORMATS.md section 1).
//
// Mapping of one GenAI span (or one gen_ai.client.inference.operation.details
// log record) to a keywatch.Event:
//
//	Time        span startTimeUnixNano (log: timeUnixNano, else observedTimeUnixNano)
//	LatencyMS   end − start (spans only; 0 when end < start)
//	Service     resource service.name ("unknown_service*" counts as absent)
//	KeyID       first of keywatch.key_id, llm.api_key.id, gen_ai.api_key.id on the
//	            span, else on its nearest ancestor span in the same request that
//	            has one (a gateway's server span), else on the resource. GenAI
//	            semconv has no key attribute, so one of these custom names is
//	            required; a span without one is skipped with reason "no key id".
//	Provider    gen_ai.provider.name ‖ gen_ai.system, normalised by NormalizeProvider
//	Model       gen_ai.response.model ‖ gen_ai.request.model
//	Operation   gen_ai.operation.name: chat and generate_content → chat,
//	            text_completion → completion, embeddings, retrieval; unknown
//	            values pass through lowercased. Agent and tool spans
//	            (create_agent, invoke_agent, execute_tool, invoke_workflow) are
//	            ignored: they wrap inference spans and would count tokens twice.
//	Tokens      gen_ai.usage.input_tokens/output_tokens, else the deprecated
//	            prompt_tokens/completion_tokens. For Anthropic, whose API counts
//	            cached tokens apart, cache_read and cache_creation tokens are
//	            added when input_tokens is smaller than their sum (so it cannot
//	            already include them, as the semconv asks).
//	Status      the span's own http.response.status_code; else error.type when it
//	            is a number (100–599); else error.type as a known SDK error class
//	            (RateLimitError → 429, ...); else, when the span failed (error.type
//	            set or status ERROR), the nearest ancestor HTTP span's status if it
//	            is ≥ 400, else 500; a span that did not fail is 200.
//	ClientIP    client.address (deprecated http.client_ip) on the span, else on
//	UserAgent   user_agent.original (deprecated http.user_agent); both live on
//	            HTTP server spans, so they come from the nearest ancestor in the
//	            same request that has them, else from any SERVER span of the same
//	            trace in the request.
//	RequestID   gen_ai.response.id, else hex traceId + "-" + hex spanId. A span and
//	            its details log record thus share a request id and deduplicate.
//	CostUSD     none: OTLP carries no cost.
//
// Message contents (gen_ai.input.messages, output.messages, system
// instructions) are never read.

// ErrContentType is wrapped by the OTLP decoders' error for a Content-Type
// that is neither application/x-protobuf nor application/json, so an HTTP
// handler can answer 415 rather than 400.
var ErrContentType = errors.New("unsupported content type")

// MaxProblems bounds Stats.Problems; Stats.Reasons still counts every item.
const MaxProblems = 20

// Stats reports what a decoder did with one request body. Skipped items are
// not errors of the body: an OTLP server reports them as partial success
// (rejected count and Message), a LiteLLM endpoint in its answer.
type Stats struct {
	Events  int            // events emitted
	Skipped int            // items that looked like usage records but gave no event
	Ignored int            // items that are not usage records (non-GenAI spans, other logs)
	Reasons map[string]int // Skipped by reason
	// Problems holds the first MaxProblems skipped items, with where each is.
	Problems []Problem
}

// Problem is one skipped item.
type Problem struct {
	Where  string // e.g. "resourceSpans[0].scopeSpans[1].spans[3]", "item 4", "line 7"
	Reason string // e.g. "no key id"
}

func (p Problem) String() string { return p.Where + ": " + p.Reason }

// skip counts a skipped item.
func (s *Stats) skip(where, reason string) {
	s.Skipped++
	if s.Reasons == nil {
		s.Reasons = make(map[string]int)
	}
	s.Reasons[reason]++
	if len(s.Problems) < MaxProblems {
		s.Problems = append(s.Problems, Problem{where, reason})
	}
}

// Message summarises the skipped items in one line for a partial-success
// answer, e.g. "skipped 3 items: no key id (2), no start time (1); first:
// resourceSpans[0].scopeSpans[0].spans[2]: no key id". It is "" when nothing
// was skipped.
func (s *Stats) Message() string {
	if s.Skipped == 0 {
		return ""
	}
	reasons := make([]string, 0, len(s.Reasons))
	for r := range s.Reasons {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		a, b := s.Reasons[reasons[i]], s.Reasons[reasons[j]]
		return a > b || a == b && reasons[i] < reasons[j]
	})
	var b strings.Builder
	b.WriteString("skipped ")
	b.WriteString(strconv.Itoa(s.Skipped))
	if s.Skipped == 1 {
		b.WriteString(" item: ")
	} else {
		b.WriteString(" items: ")
	}
	for i, r := range reasons {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r)
		b.WriteString(" (")
		b.WriteString(strconv.Itoa(s.Reasons[r]))
		b.WriteString(")")
	}
	if len(s.Problems) > 0 {
		b.WriteString("; first: ")
		b.WriteString(s.Problems[0].String())
	}
	return b.String()
}

// otlpFormat returns whether contentType names OTLP/JSON (else protobuf).
func otlpFormat(what, contentType string) (json bool, err error) {
	mt, _, perr := mime.ParseMediaType(contentType)
	if perr != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch mt {
	case "application/x-protobuf", "application/protobuf":
		return false, nil
	case "application/json":
		return true, nil
	}
	return false, &keywatch.Error{
		Code:    keywatch.EINVALID,
		Message: "decode " + what + ": content type " + strconv.Quote(contentType) + ": want application/x-protobuf or application/json",
		Err:     ErrContentType,
	}
}

func otlpDecodeError(what string, json bool, err error) error {
	enc := "protobuf"
	if json {
		enc = "json"
	}
	return &keywatch.Error{Code: keywatch.EINVALID, Message: "decode " + what + " (" + enc + ")", Err: err}
}

// otlpRequest is what the pdata export requests have in common.
type otlpRequest interface {
	UnmarshalJSON([]byte) error
	UnmarshalProto([]byte) error
}

// unmarshalOTLP decodes body into req as JSON or protobuf, chosen by
// contentType; what names the payload in errors.
func unmarshalOTLP(what, contentType string, body []byte, req otlpRequest) error {
	isJSON, err := otlpFormat(what, contentType)
	if err != nil {
		return err
	}
	if isJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return otlpDecodeError(what, isJSON, err)
	}
	return nil
}

// DecodeOTLPTraces decodes an OTLP/HTTP ExportTraceServiceRequest body and
// calls emit once per GenAI inference span that carries a key id (see the
// mapping above). contentType picks the encoding: application/x-protobuf or
// application/json (OTLP/JSON with hex ids, via pdata, never protojson).
//
// emit receives the same *Event on every call, overwritten each time; a
// consumer that keeps it past the call must copy it. A body that cannot be
// decoded at all returns a *keywatch.Error with code EINVALID (wrapping
// ErrContentType for a wrong Content-Type) and emits nothing; spans that
// cannot be mapped are counted in Stats and never stop the rest. The caller
// bounds the body size and undoes any Content-Encoding.
func DecodeOTLPTraces(body []byte, contentType string, emit func(*keywatch.Event)) (Stats, error) {
	var st Stats
	req := ptraceotlp.NewExportRequest()
	if err := unmarshalOTLP("otlp traces", contentType, body, &req); err != nil {
		return st, err
	}
	d := traceDecoder{traces: req.Traces()}
	d.decode(&st, emit)
	return st, nil
}

// traceDecoder maps the spans of one request.
type traceDecoder struct {
	traces ptrace.Traces
	ev     keywatch.Event
	g      genAI

	// Built on first need: every span of the request by trace and span id,
	// with the HTTP context it carries, and per trace its first SERVER span
	// that carries a client address or user agent.
	index   map[spanKey]*httpContext
	servers map[pcommon.TraceID]*httpContext
}

type spanKey struct {
	trace pcommon.TraceID
	span  pcommon.SpanID
}

// httpContext is what an (HTTP server) span can lend to a GenAI span below it.
type httpContext struct {
	parent     pcommon.SpanID
	clientAddr string
	userAgent  string
	keyID      string
	status     int64
}

func (d *traceDecoder) decode(st *Stats, emit func(*keywatch.Event)) {
	rss := d.traces.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		var res resourceInfo
		res.scan(rs.Resource().Attributes())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				d.span(st, emit, &res, spans.At(k), i, j, k)
			}
		}
	}
}

func spanWhere(i, j, k int) string {
	return "resourceSpans[" + strconv.Itoa(i) + "].scopeSpans[" + strconv.Itoa(j) + "].spans[" + strconv.Itoa(k) + "]"
}

func (d *traceDecoder) span(st *Stats, emit func(*keywatch.Event), res *resourceInfo, s ptrace.Span, i, j, k int) {
	g := &d.g
	*g = genAI{}
	g.scan(s.Attributes())
	op, ok := g.operation()
	if !ok {
		st.Ignored++
		return
	}
	failed := g.errorType != "" || s.Status().Code() == ptrace.StatusCodeError
	var anc httpContext
	if g.clientAddr == "" || g.userAgent == "" || g.keyID() == "" || failed && !g.hasHTTPStatus {
		anc = d.lookup(s.TraceID(), s.ParentSpanID())
	}
	ev := &d.ev
	*ev = keywatch.Event{}
	ev.KeyID = firstNonEmpty(g.keyID(), anc.keyID, res.keyID)
	if ev.KeyID == "" {
		st.skip(spanWhere(i, j, k), "no key id")
		return
	}
	if looksLikeSecret(ev.KeyID) {
		st.skip(spanWhere(i, j, k), "key id looks like a secret")
		return
	}
	start, end := s.StartTimestamp(), s.EndTimestamp()
	if start == 0 {
		st.skip(spanWhere(i, j, k), "no startTimeUnixNano")
		return
	}
	ev.Time = time.Unix(0, int64(start)).UTC()
	if end >= start {
		ev.LatencyMS = float64(end-start) / 1e6
	}
	ev.Operation = op
	ev.Service = res.service
	g.fill(ev)
	ev.ClientIP = parseClientIP(firstNonEmpty(g.clientAddr, anc.clientAddr))
	ev.UserAgent = firstNonEmpty(g.userAgent, anc.userAgent)
	ev.Status = g.status(failed, anc.status)
	if ev.RequestID == "" {
		ev.RequestID = idPair(s.TraceID(), s.SpanID())
	}
	st.Events++
	emit(ev)
}

// lookup walks up from parent through the spans of the request and merges
// the HTTP context of the nearest ancestors, nearest first; client address
// and user agent fall back to the trace's first SERVER span that has them.
func (d *traceDecoder) lookup(trace pcommon.TraceID, parent pcommon.SpanID) httpContext {
	if d.index == nil {
		d.buildIndex()
	}
	var c httpContext
	for hop := 0; hop < 64 && !parent.IsEmpty(); hop++ {
		a := d.index[spanKey{trace, parent}]
		if a == nil {
			break
		}
		if c.clientAddr == "" {
			c.clientAddr = a.clientAddr
		}
		if c.userAgent == "" {
			c.userAgent = a.userAgent
		}
		if c.keyID == "" {
			c.keyID = a.keyID
		}
		if c.status == 0 {
			c.status = a.status
		}
		parent = a.parent
	}
	if srv := d.servers[trace]; srv != nil {
		if c.clientAddr == "" {
			c.clientAddr = srv.clientAddr
		}
		if c.userAgent == "" {
			c.userAgent = srv.userAgent
		}
	}
	return c
}

func (d *traceDecoder) buildIndex() {
	d.index = make(map[spanKey]*httpContext)
	d.servers = make(map[pcommon.TraceID]*httpContext)
	rss := d.traces.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				c := &httpContext{parent: s.ParentSpanID()}
				var g genAI
				g.scan(s.Attributes())
				c.clientAddr, c.userAgent, c.keyID = g.clientAddr, g.userAgent, g.keyID()
				if g.hasHTTPStatus {
					c.status = g.httpStatus
				}
				d.index[spanKey{s.TraceID(), s.SpanID()}] = c
				if s.Kind() == ptrace.SpanKindServer && (c.clientAddr != "" || c.userAgent != "") && d.servers[s.TraceID()] == nil {
					d.servers[s.TraceID()] = c
				}
			}
		}
	}
}

// DecodeOTLPLogs decodes an OTLP/HTTP ExportLogsServiceRequest body and calls
// emit once per gen_ai.client.inference.operation.details event record (named
// by the record's eventName or its event.name attribute) that carries a key
// id. The record's attributes map as a GenAI span's do; its time is
// timeUnixNano (else observedTimeUnixNano), and it has no latency. Other
// records are counted as Ignored. Errors, Stats and emit's contract are as
// for DecodeOTLPTraces.
func DecodeOTLPLogs(body []byte, contentType string, emit func(*keywatch.Event)) (Stats, error) {
	var st Stats
	req := plogotlp.NewExportRequest()
	if err := unmarshalOTLP("otlp logs", contentType, body, &req); err != nil {
		return st, err
	}
	var (
		ev keywatch.Event
		g  genAI
	)
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		var res resourceInfo
		res.scan(rl.Resource().Attributes())
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			recs := sls.At(j).LogRecords()
			for k := 0; k < recs.Len(); k++ {
				logRecord(&st, emit, &res, recs.At(k), &ev, &g, i, j, k)
			}
		}
	}
	return st, nil
}

// GenAIDetailsEvent is the event name of the GenAI inference details record.
const GenAIDetailsEvent = "gen_ai.client.inference.operation.details"

func logRecord(st *Stats, emit func(*keywatch.Event), res *resourceInfo, r plog.LogRecord, ev *keywatch.Event, g *genAI, i, j, k int) {
	*g = genAI{}
	g.scan(r.Attributes())
	if name := r.EventName(); name != GenAIDetailsEvent && g.eventName != GenAIDetailsEvent {
		st.Ignored++
		return
	}
	where := "resourceLogs[" + strconv.Itoa(i) + "].scopeLogs[" + strconv.Itoa(j) + "].logRecords[" + strconv.Itoa(k) + "]"
	op, ok := g.operation()
	if !ok {
		if g.op == "" {
			st.skip(where, "no gen_ai.operation.name")
		} else {
			st.Ignored++ // an agent or tool record
		}
		return
	}
	*ev = keywatch.Event{}
	ev.KeyID = firstNonEmpty(g.keyID(), res.keyID)
	if ev.KeyID == "" {
		st.skip(where, "no key id")
		return
	}
	if looksLikeSecret(ev.KeyID) {
		st.skip(where, "key id looks like a secret")
		return
	}
	t := r.Timestamp()
	if t == 0 {
		t = r.ObservedTimestamp()
	}
	if t == 0 {
		st.skip(where, "no timeUnixNano")
		return
	}
	ev.Time = time.Unix(0, int64(t)).UTC()
	ev.Operation = op
	ev.Service = res.service
	g.fill(ev)
	ev.ClientIP = parseClientIP(g.clientAddr)
	ev.UserAgent = g.userAgent
	ev.Status = g.status(g.errorType != "", 0)
	if ev.RequestID == "" && !r.TraceID().IsEmpty() && !r.SpanID().IsEmpty() {
		ev.RequestID = idPair(r.TraceID(), r.SpanID())
	}
	st.Events++
	emit(ev)
}

// resourceInfo is what a resource lends to all its spans or records.
type resourceInfo struct {
	service string
	keyID   string
}

func (r *resourceInfo) scan(m pcommon.Map) {
	var k keyIDs
	for name, v := range m.All() {
		switch name {
		case "service.name":
			r.service = attrStr(v)
		default:
			k.set(name, v)
		}
	}
	if r.service == "unknown_service" || strings.HasPrefix(r.service, "unknown_service:") {
		r.service = "" // the SDK default: let the inventory fill it
	}
	r.keyID = k.get()
}

// keyIDs collects the custom key id attributes keywatch accepts.
type keyIDs struct{ keywatch, llm, genai string }

func (k *keyIDs) set(name string, v pcommon.Value) bool {
	switch name {
	case "keywatch.key_id":
		k.keywatch = attrStr(v)
	case "llm.api_key.id":
		k.llm = attrStr(v)
	case "gen_ai.api_key.id":
		k.genai = attrStr(v)
	default:
		return false
	}
	return true
}

func (k *keyIDs) get() string { return firstNonEmpty(k.keywatch, k.llm, k.genai) }

// genAI holds the attributes of a span or record that keywatch reads.
type genAI struct {
	op, provider, system, reqModel, respModel, respID, eventName string
	keys                                                         keyIDs
	in, out, prompt, completion, cacheRead, cacheWrite           int64
	hasIn, hasOut, hasPrompt, hasCompletion                      bool
	clientAddr, userAgent, errorType                             string
	httpStatus                                                   int64
	hasHTTPStatus                                                bool
}

func (g *genAI) keyID() string { return g.keys.get() }

// scan reads m in one pass. Current names win over deprecated ones whatever
// their order.
func (g *genAI) scan(m pcommon.Map) {
	var oldClient, oldUA string
	var oldStatus int64
	var hasOldStatus bool
	for name, v := range m.All() {
		switch name {
		case "gen_ai.operation.name":
			g.op = attrStr(v)
		case "gen_ai.provider.name":
			g.provider = attrStr(v)
		case "gen_ai.system":
			g.system = attrStr(v)
		case "gen_ai.request.model":
			g.reqModel = attrStr(v)
		case "gen_ai.response.model":
			g.respModel = attrStr(v)
		case "gen_ai.response.id":
			g.respID = attrStr(v)
		case "gen_ai.usage.input_tokens":
			g.in, g.hasIn = attrInt(v)
		case "gen_ai.usage.output_tokens":
			g.out, g.hasOut = attrInt(v)
		case "gen_ai.usage.prompt_tokens":
			g.prompt, g.hasPrompt = attrInt(v)
		case "gen_ai.usage.completion_tokens":
			g.completion, g.hasCompletion = attrInt(v)
		case "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens":
			g.cacheRead, _ = attrInt(v)
		case "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens":
			g.cacheWrite, _ = attrInt(v)
		case "client.address":
			g.clientAddr = attrStr(v)
		case "http.client_ip":
			oldClient = attrStr(v)
		case "user_agent.original":
			g.userAgent = attrStr(v)
		case "http.user_agent":
			oldUA = attrStr(v)
		case "http.response.status_code":
			g.httpStatus, g.hasHTTPStatus = attrInt(v)
		case "http.status_code":
			oldStatus, hasOldStatus = attrInt(v)
		case "error.type":
			g.errorType = attrStr(v)
		case "event.name":
			g.eventName = attrStr(v)
		default:
			g.keys.set(name, v)
		}
	}
	if g.clientAddr == "" {
		g.clientAddr = oldClient
	}
	if g.userAgent == "" {
		g.userAgent = oldUA
	}
	if !g.hasHTTPStatus && hasOldStatus {
		g.httpStatus, g.hasHTTPStatus = oldStatus, true
	}
	if g.hasHTTPStatus && (g.httpStatus < 100 || g.httpStatus > 599) {
		g.hasHTTPStatus = false
	}
}

// operation maps gen_ai.operation.name to keywatch's vocabulary; ok is false
// for spans that are not inference calls (no operation, agents, tools).
func (g *genAI) operation() (op string, ok bool) {
	switch o := strings.ToLower(strings.TrimSpace(g.op)); o {
	case "":
		return "", false
	case "chat", "generate_content":
		return "chat", true
	case "text_completion", "completion":
		return "completion", true
	case "embeddings", "embedding":
		return "embeddings", true
	case "create_agent", "invoke_agent", "execute_tool", "invoke_workflow":
		return "", false
	default:
		return o, true
	}
}

// fill sets the provider, model, token and request id fields of ev.
func (g *genAI) fill(ev *keywatch.Event) {
	ev.Provider = NormalizeProvider(firstNonEmpty(g.provider, g.system))
	ev.Model = firstNonEmpty(g.respModel, g.reqModel)
	in, hasIn := g.in, g.hasIn
	if !hasIn {
		in, hasIn = g.prompt, g.hasPrompt
	}
	out := g.out
	if !g.hasOut {
		out = g.completion
	}
	if cached := g.cacheRead + g.cacheWrite; ev.Provider == "anthropic" && hasIn && in < cached {
		in += cached // Anthropic's input_tokens excludes cached tokens
	}
	ev.InputTokens, ev.OutputTokens = in, out
	ev.RequestID = g.respID
}

// status decides the HTTP status of a span or record; see the mapping above.
func (g *genAI) status(failed bool, ancestor int64) int {
	if g.hasHTTPStatus {
		return int(g.httpStatus)
	}
	if g.errorType != "" {
		if n, err := strconv.Atoi(g.errorType); err == nil && n >= 100 && n <= 599 {
			return n
		}
		if n := errorClassStatus(g.errorType); n != 0 {
			return n
		}
	}
	if failed {
		if ancestor >= 400 && ancestor <= 599 {
			return int(ancestor)
		}
		return 500
	}
	return 200
}

// errorClassStatus maps the error class names of the OpenAI, Anthropic,
// LiteLLM and AWS SDKs (OpenTelemetry error.type, LiteLLM error_class), optionally
// package-qualified, to the HTTP status they stand for; 0 when unknown.
func errorClassStatus(class string) int {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		class = class[i+1:]
	}
	switch class {
	case "BadRequestError", "UnprocessableEntityError", "ContextWindowExceededError", "ContentPolicyViolationError", "ValidationException":
		return 400
	case "AuthenticationError", "UnrecognizedClientException":
		return 401
	case "PermissionDeniedError", "PermissionError", "AccessDeniedException":
		return 403
	case "NotFoundError":
		return 404
	case "ConflictError":
		return 409
	case "RateLimitError", "BudgetExceededError", "ThrottlingException":
		return 429
	case "InternalServerError", "APIError":
		return 500
	case "ServiceUnavailableError", "OverloadedError":
		return 503
	case "APITimeoutError", "Timeout", "TimeoutError":
		return 504
	}
	return 0
}

// NormalizeProvider maps provider names of the GenAI semconv (current and
// deprecated gen_ai.system values) and of LiteLLM's custom_llm_provider to
// keywatch's vocabulary: openai, anthropic, azure, bedrock, google, xai,
// mistral, ibm, cohere, ... Unknown names are returned lowercased.
func NormalizeProvider(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	switch p {
	case "azure.ai.openai", "az.ai.openai", "azure.ai.inference", "azure_ai", "azure_openai", "azure_text":
		return "azure"
	case "aws.bedrock", "aws_bedrock", "bedrock_converse":
		return "bedrock"
	case "gemini", "vertex_ai", "vertex_ai_beta", "vertexai", "palm", "google_ai_studio":
		return "google"
	case "x_ai", "xai", "x.ai":
		return "xai"
	case "mistral_ai", "mistralai", "codestral", "text-completion-codestral":
		return "mistral"
	case "ibm.watsonx.ai", "watsonx", "watsonx_text":
		return "ibm"
	case "cohere_chat":
		return "cohere"
	case "text-completion-openai":
		return "openai"
	}
	if strings.HasPrefix(p, "gcp.") || strings.HasPrefix(p, "vertex_ai") {
		return "google"
	}
	return p
}

// looksLikeSecret reports whether s looks like an API secret rather than an
// id, so that a misconfigured source cannot put a secret into an Event.
func looksLikeSecret(s string) bool {
	for _, p := range [...]string{"sk-", "sk_", "AIza", "xai-", "gsk_", "Bearer ", "bearer "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// parseClientIP parses an address as a server or gateway logs it: a bare
// IPv4 or IPv6 address, one with a port, or an X-Forwarded-For list (the
// first, client-most entry). It returns the invalid Addr for anything else,
// such as a host name.
func parseClientIP(s string) netip.Addr {
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func attrStr(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return strings.TrimSpace(v.Str())
	case pcommon.ValueTypeInt:
		return strconv.FormatInt(v.Int(), 10)
	}
	return ""
}

// attrInt reads a non-negative count: an int, an integral double or a
// decimal string.
func attrInt(v pcommon.Value) (int64, bool) {
	var n int64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		n = v.Int()
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if f != math.Trunc(f) || f < 0 || f > 1<<53 {
			return 0, false
		}
		n = int64(f)
	case pcommon.ValueTypeStr:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(v.Str()), 10, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if n < 0 {
		return 0, false
	}
	return n, true
}

func idPair(t pcommon.TraceID, s pcommon.SpanID) string {
	return t.String() + "-" + s.String()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
