package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/keywatch/keywatch"
)

// refDecode is the reference decoder for the differential fuzz test: the
// same validation as Native, built on encoding/json. It is slow and obvious.
func refDecode(line []byte) (keywatch.Event, error) {
	var ev keywatch.Event
	trimmed := bytes.TrimLeft(line, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return ev, errors.New("not an object")
	}
	var m map[string]json.RawMessage // duplicate names: last wins
	if err := json.Unmarshal(line, &m); err != nil {
		return ev, err
	}
	for name, raw := range m {
		if string(raw) == "null" {
			continue
		}
		var err error
		switch name {
		case "time":
			ev.Time, err = refTime(raw)
		case "key_id":
			err = json.Unmarshal(raw, &ev.KeyID)
		case "service":
			err = json.Unmarshal(raw, &ev.Service)
		case "env":
			err = json.Unmarshal(raw, &ev.Env)
		case "client_ip":
			var s string
			if err = json.Unmarshal(raw, &s); err == nil && s != "" {
				ev.ClientIP, err = netip.ParseAddr(s)
			}
		case "country":
			var s string
			if err = json.Unmarshal(raw, &s); err == nil && s != "" {
				ok := len(s) == 2
				for i := 0; ok && i < 2; i++ {
					c := s[i]
					ok = ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
				}
				if !ok {
					return ev, errors.New("bad country")
				}
				ev.Country = string([]byte{s[0] &^ 0x20, s[1] &^ 0x20})
			}
		case "asn":
			var n int64
			n, err = refInt(raw, math.MaxUint32)
			ev.ASN = uint32(n)
		case "user_agent":
			err = json.Unmarshal(raw, &ev.UserAgent)
		case "provider":
			err = json.Unmarshal(raw, &ev.Provider)
		case "model":
			err = json.Unmarshal(raw, &ev.Model)
		case "operation":
			err = json.Unmarshal(raw, &ev.Operation)
		case "input_tokens":
			ev.InputTokens, err = refInt(raw, math.MaxInt64)
		case "output_tokens":
			ev.OutputTokens, err = refInt(raw, math.MaxInt64)
		case "status":
			var n int64
			n, err = refInt(raw, 999)
			ev.Status = int(n)
		case "latency_ms":
			err = json.Unmarshal(raw, &ev.LatencyMS)
		case "cost_usd":
			err = json.Unmarshal(raw, &ev.CostUSD)
		case "request_id":
			err = json.Unmarshal(raw, &ev.RequestID)
		}
		if err != nil {
			return ev, err
		}
	}
	if ev.KeyID == "" {
		return ev, errors.New("missing key_id")
	}
	if ev.Time.IsZero() {
		return ev, errors.New("missing time")
	}
	return ev, nil
}

func refNumber(raw json.RawMessage) (json.Number, error) {
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' { // json.Number accepts quoted numbers
		return "", errors.New("not a number")
	}
	err := json.Unmarshal(raw, &n)
	return n, err
}

func refInt(raw json.RawMessage, max int64) (int64, error) {
	num, err := refNumber(raw)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(num), 64)
		if ferr != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, errors.New("not an integer")
		}
		n = int64(f)
	}
	if n < 0 || n > max {
		return 0, errors.New("out of range")
	}
	return n, nil
}

func refTime(raw json.RawMessage) (time.Time, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err
	}
	num, err := refNumber(raw)
	if err != nil {
		return time.Time{}, err
	}
	if n, err := strconv.ParseInt(string(num), 10, 64); err == nil {
		if n < minUnixMS || n > maxUnixMS {
			return time.Time{}, errors.New("out of range")
		}
		return time.UnixMilli(n).UTC(), nil
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f < minUnixMS || f > maxUnixMS {
		return time.Time{}, errors.New("out of range")
	}
	return UnixMilliFloat(f), nil
}
