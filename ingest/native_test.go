package ingest

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
)

// decodeOne decodes a single line.
func decodeOne(t *testing.T, line string) (keywatch.Event, error) {
	t.Helper()
	var ev keywatch.Event
	err := NewNative(strings.NewReader(line)).Next(&ev)
	return ev, err
}

var t0 = time.Date(2026, 6, 1, 12, 30, 45, 123000000, time.UTC)

func TestNativeGood(t *testing.T) {
	base := keywatch.Event{Time: t0, KeyID: "k1"}
	with := func(f func(*keywatch.Event)) keywatch.Event { ev := base; f(&ev); return ev }
	tests := []struct {
		name string
		line string
		want keywatch.Event
	}{
		{"minimal", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1"}`, base},
		{"offset", `{"time":"2026-06-01T14:30:45.123+02:00","key_id":"k1"}`, base},
		{"negative offset", `{"time":"2026-06-01T10:00:45.123-02:30","key_id":"k1"}`, base},
		{"unix ms", `{"time":1780317045123,"key_id":"k1"}`, base},
		{"unix ms float", `{"time":1780317045123.0,"key_id":"k1"}`, base},
		{"unix ms exponent", `{"time":1.780317045123e12,"key_id":"k1"}`, base},
		{"no fraction", `{"time":"2026-06-01T12:30:45Z","key_id":"k1"}`,
			with(func(e *keywatch.Event) { e.Time = t0.Truncate(time.Second) })},
		{"nanoseconds", `{"time":"2026-06-01T12:30:45.123456789Z","key_id":"k1"}`,
			with(func(e *keywatch.Event) { e.Time = t0.Add(456789) })},
		{"comma fraction falls back", `{"time":"2026-06-01T12:30:45,123Z","key_id":"k1"}`, base},
		{"all fields", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1","service":"search","env":"prod",` +
			`"client_ip":"203.0.113.7","country":"de","asn":64500,"user_agent":"openai-python/1.40.0",` +
			`"provider":"openai","model":"gpt-4o-mini","operation":"chat","input_tokens":1200,` +
			`"output_tokens":180,"status":200,"latency_ms":812.5,"cost_usd":0.0042,"request_id":"req-1"}`,
			with(func(e *keywatch.Event) {
				e.Service, e.Env, e.ClientIP, e.Country, e.ASN = "search", "prod", netip.MustParseAddr("203.0.113.7"), "DE", 64500
				e.UserAgent, e.Provider, e.Model, e.Operation = "openai-python/1.40.0", "openai", "gpt-4o-mini", "chat"
				e.InputTokens, e.OutputTokens, e.Status, e.LatencyMS, e.CostUSD, e.RequestID = 1200, 180, 200, 812.5, 0.0042, "req-1"
			})},
		{"ipv6", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1","client_ip":"2001:db8::1"}`,
			with(func(e *keywatch.Event) { e.ClientIP = netip.MustParseAddr("2001:db8::1") })},
		{"nulls are absent", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1","service":null,"asn":null,"client_ip":null,"cost_usd":null}`, base},
		{"empty strings are absent", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1","client_ip":"","country":""}`, base},
		{"float tokens", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1","input_tokens":12.0,"output_tokens":1e3}`,
			with(func(e *keywatch.Event) { e.InputTokens, e.OutputTokens = 12, 1000 })},
		{"unknown fields skipped", `{"extra":{"a":[1,2,{"b":"c\"}"}],"d":null},"time":"2026-06-01T12:30:45.123Z","x":"\u00e9\\","key_id":"k1","y":[],"z":{},"w":-1.5e-3,"v":true}`, base},
		{"duplicate last wins", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k0","key_id":"k1","status":"x","status":404}`,
			with(func(e *keywatch.Event) { e.Status = 404 })},
		{"duplicate null clears", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1","model":"m","model":null}`, base},
		{"escapes", `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1","user_agent":"a\"b\\c\/d\ne\u00e9\ud83d\ude00\ud800x"}`,
			with(func(e *keywatch.Event) { e.UserAgent = "a\"b\\c/d\neé😀\uFFFDx" })},
		{"escaped name", `{"time":"2026-06-01T12:30:45.123Z","key\u005fid":"k1"}`, base},
		{"invalid utf-8", "{\"time\":\"2026-06-01T12:30:45.123Z\",\"key_id\":\"k1\",\"model\":\"a\xffb\"}",
			with(func(e *keywatch.Event) { e.Model = "a\uFFFDb" })},
		{"whitespace and CRLF", " { \"time\" : \"2026-06-01T12:30:45.123Z\" , \"key_id\" : \"k1\" } \r\n", base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeOne(t, tt.line)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if got.Time.Location() != time.UTC {
				t.Errorf("time location %v, want UTC", got.Time.Location())
			}
		})
	}
}

func TestNativeBad(t *testing.T) {
	const pre = `{"time":"2026-06-01T12:30:45.123Z","key_id":"k1",`
	tests := []struct {
		name, line, reason string
	}{
		{"missing key_id", `{"time":"2026-06-01T12:30:45.123Z"}`, "missing key_id"},
		{"empty key_id", `{"time":"2026-06-01T12:30:45.123Z","key_id":""}`, "missing key_id"},
		{"missing time", `{"key_id":"k1"}`, "missing time"},
		{"bad time", `{"time":"2026-06-01t12:30:45.123Z","key_id":"k1"}`, "field time: not RFC 3339 or Unix ms"},
		{"bad date", `{"time":"2026-02-30T00:00:00Z","key_id":"k1"}`, "field time: not RFC 3339 or Unix ms"},
		{"time bool", `{"time":true,"key_id":"k1"}`, "field time: want string or number, got boolean"},
		{"time too big", `{"time":1e20,"key_id":"k1"}`, "field time: out of range"},
		{"key_id number", `{"time":"2026-06-01T12:30:45.123Z","key_id":7}`, "field key_id: want string, got number"},
		{"tokens string", pre + `"input_tokens":"12"}`, "field input_tokens: want integer, got string"},
		{"tokens fraction", pre + `"input_tokens":1.5}`, "field input_tokens: want integer, got 1.5"},
		{"tokens negative", pre + `"output_tokens":-3}`, "field output_tokens: want non-negative integer, got -3"},
		{"tokens overflow", pre + `"output_tokens":99999999999999999999}`, "field output_tokens: out of range: 99999999999999999999"},
		{"status range", pre + `"status":1000}`, "field status: out of range: 1000"},
		{"asn range", pre + `"asn":4294967296}`, "field asn: out of range: 4294967296"},
		{"latency object", pre + `"latency_ms":{}}`, "field latency_ms: want number, got object"},
		{"cost overflow", pre + `"cost_usd":1e999}`, "field cost_usd: out of range: 1e999"},
		{"bad ip", pre + `"client_ip":"300.1.1.1"}`, `field client_ip: not an IP address: "300.1.1.1"`},
		{"bad country", pre + `"country":"DEU"}`, `field country: want 2-letter ISO 3166-1 code, got "DEU"`},
		{"first field error wins", pre + `"status":"x","asn":-1}`, "field status: want integer, got string"},
		{"not an object", `[1,2]`, "invalid JSON at byte 1: line is not a JSON object"},
		{"trailing garbage", pre + `"env":"prod"} x`, "invalid JSON at byte 64: trailing data after object"},
		{"two objects", pre + `"env":"prod"}{}`, "invalid JSON at byte 63: trailing data after object"},
		{"truncated", pre + `"env":"pr`, "invalid JSON at byte 59: unterminated string"},
		{"missing colon", `{"time" 1}`, "invalid JSON at byte 9: unexpected '1' after object key"},
		{"trailing comma", pre + `}`, "invalid JSON at byte 50: unexpected '}' looking for beginning of object key string"},
		{"bad escape", pre + `"env":"a\x"}`, `invalid JSON at byte 59: invalid escape 'x' in string`},
		{"control char", pre + "\"env\":\"a\tb\"}", "invalid JSON at byte 58: control character in string"},
		{"bad number", pre + `"status":01}`, "invalid JSON at byte 60: unexpected '1' after object key:value pair"},
		{"bad literal", pre + `"env":nul}`, "invalid JSON at byte 59: unexpected '}' in literal null"},
		{"bad nested", pre + `"x":[1,}`, "invalid JSON at byte 57: unexpected '}' in number"},
		{"too deep", pre + `"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, "invalid JSON at byte 10053: exceeded max depth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeOne(t, tt.line)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("Next: %v, want a *LineError", err)
			}
			if le.Line != 1 || le.Reason != tt.reason {
				t.Errorf("got line %d reason %q, want line 1 reason %q", le.Line, le.Reason, tt.reason)
			}
			if _, rerr := refDecode([]byte(tt.line)); rerr == nil {
				t.Errorf("reference decoder accepts the line")
			}
		})
	}
}

func TestNativeLines(t *testing.T) {
	in := "\n" +
		`{"time":1,"key_id":"a"}` + "\r\n" +
		"  \t\r\n" +
		"{bad\n" +
		`{"time":2,"key_id":"b"}` + "\n" +
		`{"time":3,"key_id":"` + strings.Repeat("x", MaxLineLen) + `"}` + "\n" +
		`{"time":4,"key_id":"c"}` // no final newline
	d := NewNative(strings.NewReader(in))
	type result struct {
		line int
		key  string
		err  string
	}
	var got []result
	var ev keywatch.Event
	for {
		err := d.Next(&ev)
		if err == io.EOF {
			break
		}
		r := result{line: d.Line()}
		if err != nil {
			r.err = err.Error()
		} else {
			r.key = ev.KeyID
		}
		got = append(got, r)
	}
	want := []result{
		{line: 2, key: "a"},
		{line: 4, err: "line 4: invalid JSON at byte 2: unexpected 'b' looking for beginning of object key string"},
		{line: 5, key: "b"},
		{line: 6, err: "line 6: line longer than 1048576 bytes"},
		{line: 7, key: "c"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{})); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestNativeRoundTrip(t *testing.T) {
	evs := []keywatch.Event{
		{Time: t0, KeyID: "k1"},
		{Time: t0, KeyID: "k\"ey\n", Service: "svc", Env: "prod", ClientIP: netip.MustParseAddr("2001:db8::7"),
			Country: "US", ASN: 4294967295, UserAgent: "curl/8.0 \u00e9\u2028", Provider: "anthropic",
			Model: "claude", Operation: "chat", InputTokens: 1 << 40, OutputTokens: 3, Status: 429,
			LatencyMS: 0.125, CostUSD: 1e-9, RequestID: "r-1"},
		{Time: time.UnixMilli(0).UTC(), KeyID: "x", LatencyMS: 1e21},
	}
	var buf []byte
	for i := range evs {
		buf = AppendNative(buf, &evs[i])
	}
	d := NewNative(bytes.NewReader(buf))
	for i := range evs {
		var got keywatch.Event
		if err := d.Next(&got); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got != evs[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, evs[i])
		}
	}
	var ev keywatch.Event
	if err := d.Next(&ev); err != io.EOF {
		t.Errorf("at end: %v, want io.EOF", err)
	}
}

func TestNativeAllocs(t *testing.T) {
	lines := benchLines(1000)
	for _, tc := range []struct {
		name   string
		strip  bool
		allocs float64
	}{
		{"without request_id", true, 0},
		{"with request_id", false, 0.1}, // one 16 KiB arena chunk per few hundred ids
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := lines
			if tc.strip {
				data = stripRequestIDs(lines)
			}
			r := bytes.NewReader(data)
			d := NewNative(r)
			var ev keywatch.Event
			next := func() {
				if err := d.Next(&ev); err == io.EOF {
					r.Reset(data)
					d.Next(&ev)
				}
			}
			for range 2000 { // warm the intern tables
				next()
			}
			if got := testing.AllocsPerRun(5000, next); got > tc.allocs {
				t.Errorf("allocs per event = %v, want <= %v", got, tc.allocs)
			}
		})
	}
}

func TestFieldHash(t *testing.T) {
	for f, name := range fieldNames {
		if got := lookupField([]byte(name)); got != fieldID(f) {
			t.Errorf("lookupField(%q) = %d, want %d", name, got, f)
		}
	}
	for _, name := range []string{"", "x", "tim", "timE", "key_ie", "request_idd"} {
		if got := lookupField([]byte(name)); got != fUnknown {
			t.Errorf("lookupField(%q) = %d, want unknown", name, got)
		}
	}
}
