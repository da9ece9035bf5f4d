package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywatch/keywatch"
)

// TestLiteLLMGolden decodes every file in testdata/litellm (a json_array
// batch, an ndjson batch with a broken line, a single pretty-printed object)
// and compares the events and stats with its .golden file.
func TestLiteLLMGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "litellm", "*"))
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(name), func(t *testing.T) {
			body, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			got := renderDecoded(func(emit func(*keywatch.Event)) (Stats, error) { return DecodeLiteLLM(body, emit) })
			checkGolden(t, name+".golden", got)
		})
	}
	if n == 0 {
		t.Fatal("no testdata/litellm files")
	}
}

// TestLiteLLMNoSecrets checks that no secret or message content of the
// payloads reaches an event.
func TestLiteLLMNoSecrets(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "litellm", "array.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := DecodeLiteLLM(body, func(ev *keywatch.Event) {
		line := string(AppendNative(nil, ev))
		for _, bad := range []string{"sk-", "Bearer", "secret", "invoices", "DONOTLEAK"} {
			if strings.Contains(line, bad) {
				t.Errorf("event holds %q: %s", bad, line)
			}
		}
	})
	if err != nil || st.Events == 0 {
		t.Fatalf("%+v, %v", st, err)
	}
}

func TestLiteLLMMapping(t *testing.T) {
	tests := []struct {
		name, payload string
		check         func(*keywatch.Event) bool
	}{
		{"completion is chat", `{"call_type":"completion"}`, func(e *keywatch.Event) bool { return e.Operation == "chat" }},
		{"aembedding", `{"call_type":"aembedding"}`, func(e *keywatch.Event) bool { return e.Operation == "embeddings" }},
		{"image_generation", `{"call_type":"aimage_generation"}`, func(e *keywatch.Event) bool { return e.Operation == "images" }},
		{"text_completion", `{"call_type":"atext_completion"}`, func(e *keywatch.Event) bool { return e.Operation == "completion" }},
		{"aresponses", `{"call_type":"aresponses"}`, func(e *keywatch.Event) bool { return e.Operation == "responses" }},
		{"speech", `{"call_type":"aspeech"}`, func(e *keywatch.Event) bool { return e.Operation == "audio" }},
		{"legacy prefix", `{"call_type":"litellm.completion"}`, func(e *keywatch.Event) bool { return e.Operation == "chat" }},
		{"unknown call type", `{"call_type":"acreate_skill"}`, func(e *keywatch.Event) bool { return e.Operation == "acreate_skill" }},
		{"success", `{"status":"success"}`, func(e *keywatch.Event) bool { return e.Status == 200 }},
		{"failure code", `{"status":"failure","error_information":{"error_code":"401"}}`, func(e *keywatch.Event) bool { return e.Status == 401 }},
		{"failure numeric code", `{"status":"failure","error_information":{"error_code":403}}`, func(e *keywatch.Event) bool { return e.Status == 403 }},
		{"failure class", `{"status":"failure","error_information":{"error_code":"","error_class":"RateLimitError"}}`, func(e *keywatch.Event) bool { return e.Status == 429 }},
		{"failure unknown", `{"status":"failure","error_information":null}`, func(e *keywatch.Event) bool { return e.Status == 500 }},
		{"no status", `{}`, func(e *keywatch.Event) bool { return e.Status == 0 }},
		{"alias when no hash", `{"metadata":{"user_api_key_hash":null,"user_api_key_alias":"a1"}}`, func(e *keywatch.Event) bool { return e.KeyID == "a1" }},
		{"spendlogs api_key", `{"metadata":{},"api_key":"88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"}`, func(e *keywatch.Event) bool { return e.KeyID[:4] == "88dc" }},
		{"team id service", `{"metadata":{"user_api_key_hash":"h","user_api_key_team_id":"t1"}}`, func(e *keywatch.Event) bool { return e.Service == "t1" }},
		{"ip from metadata with port", `{"metadata":{"user_api_key_hash":"h","requester_ip_address":"203.0.113.9:4431"}}`, func(e *keywatch.Event) bool { return e.ClientIP.String() == "203.0.113.9" }},
		{"xff list", `{"requester_ip_address":"198.51.100.1, 10.0.0.1"}`, func(e *keywatch.Event) bool { return e.ClientIP.String() == "198.51.100.1" }},
		{"ua custom header", `{"metadata":{"user_api_key_hash":"h","requester_custom_headers":{"User-Agent":"x/1"}}}`, func(e *keywatch.Event) bool { return e.UserAgent == "x/1" }},
		{"latency", `{"endTime":1735689601.5}`, func(e *keywatch.Event) bool { return e.LatencyMS == 1500 }},
		{"end before start", `{"endTime":1735689599,"request_duration_ms":42}`, func(e *keywatch.Event) bool { return e.LatencyMS == 42 }},
		{"provider", `{"custom_llm_provider":"vertex_ai_beta"}`, func(e *keywatch.Event) bool { return e.Provider == "google" }},
		{"model fallback", `{"model":"","model_group":"gpt-4o"}`, func(e *keywatch.Event) bool { return e.Model == "gpt-4o" }},
		{"cost", `{"response_cost":0.5}`, func(e *keywatch.Event) bool { return e.CostUSD == 0.5 }},
		{"python datetime", `{"startTime":"2025-01-01 00:00:00.5"}`, func(e *keywatch.Event) bool { return e.Time.UnixMilli() == 1735689600500 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.payload[:len(tc.payload)-1]
			if !strings.Contains(p, `"metadata"`) && !strings.Contains(p, `"api_key"`) {
				p = addField(p, `"metadata":{"user_api_key_hash":"h"}`)
			}
			if !strings.Contains(p, `"startTime"`) {
				p = addField(p, `"startTime":1735689600`)
			}
			p += "}"
			var got *keywatch.Event
			st, err := DecodeLiteLLM([]byte(p), func(ev *keywatch.Event) { c := *ev; got = &c })
			if err != nil || got == nil {
				t.Fatalf("%s: %+v, %v", p, st, err)
			}
			if !tc.check(got) {
				t.Errorf("%s: got %+v", p, *got)
			}
		})
	}
}

func addField(obj, field string) string {
	if strings.HasSuffix(strings.TrimSpace(obj), "{") {
		return obj + field
	}
	return obj + "," + field
}

func TestLiteLLMErrors(t *testing.T) {
	noop := func(*keywatch.Event) {}
	for _, body := range []string{"not json", "[1,2", `{"id":`, "<html></html>", "\x00\x01"} {
		st, err := DecodeLiteLLM([]byte(body), noop)
		if err == nil || keywatch.ErrorCode(err) != keywatch.EINVALID || st.Events != 0 {
			t.Errorf("DecodeLiteLLM(%q) = %+v, %v; want an invalid error", body, st, err)
		}
	}
	for body, reason := range map[string]string{
		`[null]`:                 "null payload",
		`[42]`:                   "not an object",
		`[{"metadata":"x"}]`:     "field metadata: want object, got string",
		`[{"prompt_tokens":[]}]`: "want number, got array",
		`[{"metadata":{"user_api_key_hash":"h"}}]`: "no startTime",
	} {
		st, err := DecodeLiteLLM([]byte(body), noop)
		if err != nil || st.Skipped != 1 || st.Reasons[reason] != 1 {
			t.Errorf("DecodeLiteLLM(%s) = %+v, %v; want skipped for %q", body, st, err, reason)
		}
	}
	if st, err := DecodeLiteLLM([]byte("  \n"), noop); err != nil || st.Events != 0 || st.Skipped != 0 {
		t.Errorf("blank body: %+v, %v", st, err)
	}
}

// FuzzLiteLLM checks that DecodeLiteLLM never panics, and that every event
// has a key id that is not a secret and a time.
func FuzzLiteLLM(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "litellm", "*"))
	for _, name := range files {
		if strings.HasSuffix(name, ".golden") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"startTime":"1e400","metadata":{"user_api_key_hash":"h"}}` + "\n" + `[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := DecodeLiteLLM(data, func(ev *keywatch.Event) {
			if ev.KeyID == "" || looksLikeSecret(ev.KeyID) || ev.Time.IsZero() {
				t.Fatalf("bad event %+v", ev)
			}
		})
		if err != nil && st.Events != 0 {
			t.Fatalf("error %v after %d events", err, st.Events)
		}
	})
}

func BenchmarkLiteLLM(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "litellm", "array.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		st, err := DecodeLiteLLM(body, func(*keywatch.Event) {})
		if err != nil || st.Events == 0 {
			b.Fatal(st, err)
		}
	}
}
