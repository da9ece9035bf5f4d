package ingest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/keywatch/keywatch"
)

// renderDecoded runs decode and renders its events (as native JSON lines),
// stats and error for golden comparison.
func renderDecoded(decode func(func(*keywatch.Event)) (Stats, error)) string {
	var b strings.Builder
	st, err := decode(func(ev *keywatch.Event) { b.Write(AppendNative(nil, ev)) })
	fmt.Fprintf(&b, "stats: events=%d skipped=%d ignored=%d\n", st.Events, st.Skipped, st.Ignored)
	for _, p := range st.Problems {
		fmt.Fprintf(&b, "skipped: %s\n", p)
	}
	if m := st.Message(); m != "" {
		fmt.Fprintf(&b, "message: %s\n", m)
	}
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	return b.String()
}

// checkGolden compares got with the golden file, rewriting it under -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

// otlpProto re-encodes an OTLP/JSON request as protobuf with pdata.
func otlpProto(t testing.TB, logs bool, js []byte) []byte {
	t.Helper()
	var (
		pb  []byte
		err error
	)
	if logs {
		r := plogotlp.NewExportRequest()
		if err = r.UnmarshalJSON(js); err == nil {
			pb, err = r.MarshalProto()
		}
	} else {
		r := ptraceotlp.NewExportRequest()
		if err = r.UnmarshalJSON(js); err == nil {
			pb, err = r.MarshalProto()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

// TestOTLPGolden decodes testdata/otlp/*.json, as JSON and re-encoded as
// protobuf, and compares both with the same testdata/otlp/*.golden.
func TestOTLPGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "otlp", "*.json"))
	if len(files) == 0 {
		t.Fatal("no testdata/otlp/*.json")
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			js, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			logs := strings.HasPrefix(filepath.Base(name), "logs")
			dec := DecodeOTLPTraces
			if logs {
				dec = DecodeOTLPLogs
			}
			got := renderDecoded(func(emit func(*keywatch.Event)) (Stats, error) {
				return dec(js, "application/json; charset=utf-8", emit)
			})
			checkGolden(t, strings.TrimSuffix(name, ".json")+".golden", got)
			pb := otlpProto(t, logs, js)
			gotPB := renderDecoded(func(emit func(*keywatch.Event)) (Stats, error) {
				return dec(pb, "application/x-protobuf", emit)
			})
			if diff := cmp.Diff(got, gotPB); diff != "" {
				t.Errorf("protobuf differs from json (-json +protobuf):\n%s", diff)
			}
		})
	}
}

// oneSpan returns an OTLP/JSON traces request with one CLIENT span with the
// given attributes (and key id "k1" unless attrs set one).
func oneSpan(t *testing.T, attrs map[string]any, status ptrace.StatusCode) []byte {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{1, 2, 3})
	s.SetSpanID(pcommon.SpanID{4, 5, 6})
	s.SetKind(ptrace.SpanKindClient)
	s.SetStartTimestamp(pcommon.Timestamp(1735689600 * 1e9))
	s.SetEndTimestamp(pcommon.Timestamp(1735689600*1e9 + 250e6))
	s.Status().SetCode(status)
	if _, ok := attrs["llm.api_key.id"]; !ok {
		s.Attributes().PutStr("keywatch.key_id", "k1")
	}
	if err := s.Attributes().FromRaw(mergeRaw(s.Attributes().AsRaw(), attrs)); err != nil {
		t.Fatal(err)
	}
	js, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func mergeRaw(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func TestOTLPSpanMapping(t *testing.T) {
	t0 := time.Unix(1735689600, 0).UTC()
	base := keywatch.Event{Time: t0, KeyID: "k1", Service: "svc", LatencyMS: 250, Status: 200,
		RequestID: "01020300000000000000000000000000-0405060000000000", Operation: "chat"}
	with := func(f func(*keywatch.Event)) keywatch.Event { ev := base; f(&ev); return ev }
	tests := []struct {
		name   string
		attrs  map[string]any
		status ptrace.StatusCode
		want   keywatch.Event
	}{
		{"new names", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
			"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
			"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5, "gen_ai.response.id": "r1"},
			0, with(func(e *keywatch.Event) {
				e.Provider, e.Model, e.InputTokens, e.OutputTokens, e.RequestID = "openai", "gpt-4o-2024-08-06", 10, 5, "r1"
			})},
		{"deprecated names", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.system": "az.ai.openai",
			"gen_ai.request.model": "gpt-4", "gen_ai.usage.prompt_tokens": "7", "gen_ai.usage.completion_tokens": 3.0},
			0, with(func(e *keywatch.Event) { e.Provider, e.Model, e.InputTokens, e.OutputTokens = "azure", "gpt-4", 7, 3 })},
		{"new names win over deprecated", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.system": "openai",
			"gen_ai.provider.name": "aws.bedrock", "gen_ai.usage.prompt_tokens": 1, "gen_ai.usage.input_tokens": 2},
			0, with(func(e *keywatch.Event) { e.Provider, e.InputTokens = "bedrock", 2 })},
		{"anthropic cached tokens added", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
			"gen_ai.usage.input_tokens": 20, "gen_ai.usage.cache_read.input_tokens": 3000,
			"gen_ai.usage.cache_creation.input_tokens": 500, "gen_ai.usage.output_tokens": 9},
			0, with(func(e *keywatch.Event) { e.Provider, e.InputTokens, e.OutputTokens = "anthropic", 3520, 9 })},
		{"anthropic already inclusive", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
			"gen_ai.usage.input_tokens": 3520, "gen_ai.usage.cache_read.input_tokens": 3000},
			0, with(func(e *keywatch.Event) { e.Provider, e.InputTokens = "anthropic", 3520 })},
		{"openai cached tokens are a subset", map[string]any{"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
			"gen_ai.usage.input_tokens": 20, "gen_ai.usage.cache_read.input_tokens": 3000},
			0, with(func(e *keywatch.Event) { e.Provider, e.InputTokens = "openai", 20 })},
		{"generate_content is chat", map[string]any{"gen_ai.operation.name": "generate_content", "gen_ai.system": "gemini"},
			0, with(func(e *keywatch.Event) { e.Provider = "google" })},
		{"text_completion", map[string]any{"gen_ai.operation.name": "text_completion", "gen_ai.provider.name": "x_ai"},
			0, with(func(e *keywatch.Event) { e.Operation, e.Provider = "completion", "xai" })},
		{"embeddings", map[string]any{"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "gcp.vertex_ai"},
			0, with(func(e *keywatch.Event) { e.Operation, e.Provider = "embeddings", "google" })},
		{"error.type numeric", map[string]any{"gen_ai.operation.name": "chat", "error.type": "401"},
			ptrace.StatusCodeError, with(func(e *keywatch.Event) { e.Status = 401 })},
		{"error.type class", map[string]any{"gen_ai.operation.name": "chat", "error.type": "anthropic.PermissionDeniedError"},
			ptrace.StatusCodeError, with(func(e *keywatch.Event) { e.Status = 403 })},
		{"error.type unknown", map[string]any{"gen_ai.operation.name": "chat", "error.type": "timeout"},
			0, with(func(e *keywatch.Event) { e.Status = 500 })},
		{"status error only", map[string]any{"gen_ai.operation.name": "chat"},
			ptrace.StatusCodeError, with(func(e *keywatch.Event) { e.Status = 500 })},
		{"http status on span wins", map[string]any{"gen_ai.operation.name": "chat", "http.response.status_code": 429, "error.type": "500"},
			ptrace.StatusCodeError, with(func(e *keywatch.Event) { e.Status = 429 })},
		{"client ip and ua on span", map[string]any{"gen_ai.operation.name": "chat", "client.address": "::ffff:192.0.2.1",
			"user_agent.original": "ua/1"},
			0, with(func(e *keywatch.Event) { e.ClientIP, e.UserAgent = netip.MustParseAddr("192.0.2.1"), "ua/1" })},
		{"key id on span", map[string]any{"gen_ai.operation.name": "chat", "llm.api_key.id": "k9"},
			0, with(func(e *keywatch.Event) { e.KeyID = "k9" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []keywatch.Event
			st, err := DecodeOTLPTraces(oneSpan(t, tc.attrs, tc.status), "application/json",
				func(ev *keywatch.Event) { got = append(got, *ev) })
			if err != nil || st.Events != 1 || len(got) != 1 {
				t.Fatalf("err %v, stats %+v, %d events", err, st, len(got))
			}
			if diff := cmp.Diff(tc.want, got[0], cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOTLPSkipsAndIgnores(t *testing.T) {
	tests := []struct {
		name           string
		attrs          map[string]any
		events, ignore int
		reason         string
	}{
		{"not genai", map[string]any{"http.request.method": "GET"}, 0, 1, ""},
		{"agent span", map[string]any{"gen_ai.operation.name": "invoke_agent"}, 0, 1, ""},
		{"tool span", map[string]any{"gen_ai.operation.name": "execute_tool"}, 0, 1, ""},
		{"secret as key id", map[string]any{"gen_ai.operation.name": "chat", "llm.api_key.id": "sk-ant-api03-xyz"}, 0, 0, "key id looks like a secret"},
		{"empty key id", map[string]any{"gen_ai.operation.name": "chat", "llm.api_key.id": ""}, 0, 0, "no key id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			js := oneSpan(t, tc.attrs, 0)
			if tc.name == "empty key id" {
				js = []byte(strings.Replace(string(js), `{"key":"keywatch.key_id","value":{"stringValue":"k1"}},`, "", 1))
			}
			st, err := DecodeOTLPTraces(js, "application/json", func(*keywatch.Event) {})
			if err != nil {
				t.Fatal(err)
			}
			if st.Events != tc.events || st.Ignored != tc.ignore || (tc.reason != "") != (st.Skipped == 1) || st.Reasons[tc.reason] != st.Skipped {
				t.Errorf("stats %+v, want events %d ignored %d reason %q", st, tc.events, tc.ignore, tc.reason)
			}
		})
	}
}

func TestOTLPErrors(t *testing.T) {
	noop := func(*keywatch.Event) {}
	_, err := DecodeOTLPTraces([]byte(`{}`), "text/plain", noop)
	if !errors.Is(err, ErrContentType) || keywatch.ErrorCode(err) != keywatch.EINVALID {
		t.Errorf("text/plain: %v", err)
	}
	for _, tc := range []struct{ body, ct string }{
		{`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"`, "application/json"},
		{`not json`, "application/json"},
		{"\xff\xff\xff\xff", "application/x-protobuf"},
	} {
		st, err := DecodeOTLPTraces([]byte(tc.body), tc.ct, noop)
		if err == nil || keywatch.ErrorCode(err) != keywatch.EINVALID || st.Events != 0 {
			t.Errorf("DecodeOTLPTraces(%q, %s) = %+v, %v; want an invalid error", tc.body, tc.ct, st, err)
		}
		if _, err := DecodeOTLPLogs([]byte(tc.body), tc.ct, noop); err == nil {
			t.Errorf("DecodeOTLPLogs(%q, %s): no error", tc.body, tc.ct)
		}
	}
	// An empty body is a valid, empty request in both encodings.
	for _, ct := range []string{"application/x-protobuf", "application/json"} {
		body := []byte{}
		if ct == "application/json" {
			body = []byte(`{}`)
		}
		if st, err := DecodeOTLPTraces(body, ct, noop); err != nil || st.Events != 0 {
			t.Errorf("empty %s: %+v, %v", ct, st, err)
		}
	}
}

func TestNormalizeProvider(t *testing.T) {
	for in, want := range map[string]string{
		"openai": "openai", "anthropic": "anthropic", "aws.bedrock": "bedrock", "bedrock": "bedrock",
		"azure.ai.openai": "azure", "az.ai.openai": "azure", "azure.ai.inference": "azure", "azure_ai": "azure",
		"gcp.vertex_ai": "google", "gcp.gemini": "google", "gcp.gen_ai": "google", "vertex_ai": "google",
		"gemini": "google", "vertex_ai_beta": "google", "x_ai": "xai", "xai": "xai", "mistral_ai": "mistral",
		"ibm.watsonx.ai": "ibm", "watsonx": "ibm", "cohere_chat": "cohere", "DeepSeek": "deepseek", "groq": "groq", "": "",
	} {
		if got := NormalizeProvider(in); got != want {
			t.Errorf("NormalizeProvider(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzOTLPJSON checks that the OTLP decoders never panic, and that every
// event they emit has a key id that is not a secret and a time.
func FuzzOTLPJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "otlp", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"parentSpanId":"0000000000000001","spanId":"0000000000000001","traceId":"00000000000000000000000000000001","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(ev *keywatch.Event) {
			if ev.KeyID == "" || looksLikeSecret(ev.KeyID) || ev.Time.IsZero() {
				t.Fatalf("bad event %+v", ev)
			}
		}
		for _, ct := range []string{"application/json", "application/x-protobuf"} {
			if st, err := DecodeOTLPTraces(data, ct, check); err == nil && st.Skipped != len(st.Problems) && len(st.Problems) != MaxProblems {
				t.Fatalf("stats %+v", st)
			}
			DecodeOTLPLogs(data, ct, check)
		}
	})
}

func BenchmarkOTLPTraces(b *testing.B) {
	js, err := os.ReadFile(filepath.Join("testdata", "otlp", "traces.json"))
	if err != nil {
		b.Fatal(err)
	}
	pb := otlpProto(b, false, js)
	for _, bc := range []struct {
		name, ct string
		body     []byte
	}{{"json", "application/json", js}, {"protobuf", "application/x-protobuf", pb}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			n := 0
			for b.Loop() {
				st, err := DecodeOTLPTraces(bc.body, bc.ct, func(*keywatch.Event) { n++ })
				if err != nil || st.Events == 0 {
					b.Fatal(st, err)
				}
			}
		})
	}
}
