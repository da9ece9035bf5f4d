package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

// BenchmarkRequestFields decodes the fields the gateway reads from a
// short chat request and from one with 16 KiB of conversation, with the
// json v2 prototype readBody uses and, for comparison, encoding/json.
func BenchmarkRequestFields(b *testing.B) {
	msg := `{"role":"user","content":"` + strings.Repeat("Summarise the quarterly report. ", 16) + `"},`
	long := `{"model":"gpt-4o-mini","messages":[` + strings.Repeat(msg, 32) +
		`{"role":"user","content":"hi"}],"max_tokens":256,"stream":true}`
	for _, body := range []struct{ name, body string }{
		{"short", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"max_tokens":10}`},
		{"16KiB", long},
	} {
		in := []byte(body.body)
		b.Run(body.name+"/json-v2", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				var f reqFields
				if err := jsonv2.Unmarshal(in, &f); err != nil || f.Model == "" {
					b.Fatal(err)
				}
			}
		})
		b.Run(body.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				var f struct {
					reqFields
					StreamOptions json.RawMessage `json:"stream_options"`
				}
				if err := json.Unmarshal(in, &f); err != nil || f.Model == "" {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzRequestFields checks that the model the gateway checks is the model
// a provider runs: whenever readBody's decoding accepts a body, a
// case-sensitive, last-duplicate-wins reading (Python's json, as most
// providers use; encoding/json into a map does the same) finds the same
// "model" and "stream".
func FuzzRequestFields(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o-mini","messages":[]}`,
		`{"model":"gpt-4o","MODEL":"gpt-4o-mini"}`,
		`{"model":"gpt-4o-mini","model":"gpt-4o"}`,
		`{"Model":"a","model":"b","stream":true,"Stream":false}`,
		`{"model":"gpt-4o-mini","stream_options":null,"max_tokens":5}`,
		`{"mod\u0065l":"gpt-4o"}`,
		`{"model":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got reqFields
		if jsonv2.Unmarshal(in, &got) != nil {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(in, &m); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", in, err)
		}
		var want struct {
			Model  string
			Stream bool
		}
		if raw, ok := m["model"]; ok {
			json.Unmarshal(raw, &want.Model)
		}
		if raw, ok := m["stream"]; ok {
			json.Unmarshal(raw, &want.Stream)
		}
		if got.Model != want.Model || got.Stream != want.Stream {
			t.Fatalf("%q: gateway reads model %q stream %v, a provider %q %v", in, got.Model, got.Stream, want.Model, want.Stream)
		}
	})
}
