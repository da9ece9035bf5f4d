package provider

import (
	"testing"
	"time"
)

func TestLast4(t *testing.T) {
	for in, want := range map[string]string{
		"sk-proj-****abcd":        "abcd",
		"sk-ant-api03-R2D...igAA": "igAA",
		"sk-abc...def":            "",
		"sk-...***":               "",
		"plainvalue":              "",
		"":                        "",
		"sk-...wx z":              "",
	} {
		if got := last4(in); got != want {
			t.Errorf("last4(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		"-1":                            0,
		"99999":                         MaxRetryWait,
		"Thu, 01 Jan 2026 00:00:10 GMT": 10 * time.Second,
		"Wed, 31 Dec 2025 00:00:10 GMT": 0,
		"soon":                          0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
