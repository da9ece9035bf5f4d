package ingest

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/keywatch/keywatch"
)

// AppendNative appends ev as one line of native JSON (with the trailing
// newline) to b and returns the extended buffer. Zero and empty fields, and
// NaN or infinite floats (which JSON cannot hold), are left out; time is
// written as RFC 3339 in UTC with millisecond fraction.
func AppendNative(b []byte, ev *keywatch.Event) []byte {
	b = append(b, `{"time":"`...)
	b = ev.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, '"')
	b = appendStringField(b, "key_id", ev.KeyID)
	b = appendStringField(b, "service", ev.Service)
	b = appendStringField(b, "env", ev.Env)
	if ev.ClientIP.IsValid() {
		b = append(b, `,"client_ip":"`...)
		b = ev.ClientIP.AppendTo(b)
		b = append(b, '"')
	}
	b = appendStringField(b, "country", ev.Country)
	if ev.ASN != 0 {
		b = append(b, `,"asn":`...)
		b = strconv.AppendUint(b, uint64(ev.ASN), 10)
	}
	b = appendStringField(b, "user_agent", ev.UserAgent)
	b = appendStringField(b, "provider", ev.Provider)
	b = appendStringField(b, "model", ev.Model)
	b = appendStringField(b, "operation", ev.Operation)
	b = appendIntField(b, "input_tokens", ev.InputTokens)
	b = appendIntField(b, "output_tokens", ev.OutputTokens)
	b = appendIntField(b, "status", int64(ev.Status))
	b = appendFloatField(b, "latency_ms", ev.LatencyMS)
	b = appendFloatField(b, "cost_usd", ev.CostUSD)
	b = appendStringField(b, "request_id", ev.RequestID)
	return append(b, '}', '\n')
}

func appendStringField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return AppendJSONString(b, v)
}

func appendIntField(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendFloatField(b []byte, name string, v float64) []byte {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) { // JSON has no NaN or Inf
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// AppendJSONString appends s as a quoted JSON string, escaping what JSON
// requires and replacing invalid UTF-8 with U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
