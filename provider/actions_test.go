package provider_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/provider"
	"github.com/keywatch/keywatch/provider/providertest"
)

func TestLiteLLMActions(t *testing.T) {
	ctx := context.Background()
	srv := providertest.NewLiteLLM(t)
	srv.HandleRegenerate()
	srv.AddKey(providertest.LiteLLMKey{Token: "aa11", KeyName: "sk-...wxyz", CreatedAt: "2026-01-01T00:00:00Z"})
	var sl sleeper
	l := provider.NewLiteLLM(srv.URL, srv.MasterKey, testOpts(&sl)...)

	srv.Fail(1, providertest.Fault{Status: 429, RetryAfter: "2"})
	if err := l.Block(ctx, "aa11"); err != nil {
		t.Fatal(err)
	}
	if k := srv.Keys()[0]; k.Blocked == nil || !*k.Blocked {
		t.Fatalf("after Block: blocked %v", k.Blocked)
	}
	if len(sl.waits) != 1 || sl.waits[0].Seconds() != 2 {
		t.Errorf("waits %v, want one of 2s (Retry-After)", sl.waits)
	}
	// Idempotent: blocking again is no error and leaves the key blocked.
	if err := l.Block(ctx, "aa11"); err != nil {
		t.Fatal(err)
	}
	if err := l.Unblock(ctx, "aa11"); err != nil {
		t.Fatal(err)
	}
	if k := srv.Keys()[0]; *k.Blocked {
		t.Fatal("still blocked after Unblock")
	}
	if err := l.UpdateLimits(ctx, "aa11", provider.LiteLLMLimits{RPM: ptr(int64(7))}); err != nil {
		t.Fatal(err)
	}
	if k := srv.Keys()[0]; k.RPMLimit == nil || *k.RPMLimit != 7 || k.TPMLimit != nil {
		t.Fatalf("limits rpm %v tpm %v, want 7 and unset", k.RPMLimit, k.TPMLimit)
	}
	// A nil limit is left out of the request and so left unchanged.
	if err := l.UpdateLimits(ctx, "aa11", provider.LiteLLMLimits{TPM: ptr(int64(900))}); err != nil {
		t.Fatal(err)
	}
	if k := srv.Keys()[0]; *k.RPMLimit != 7 || *k.TPMLimit != 900 {
		t.Fatalf("limits rpm %v tpm %v, want 7 and 900", *k.RPMLimit, *k.TPMLimit)
	}

	r, err := l.Regenerate(ctx, "aa11")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Key, "sk-regenerated-") || r.Token == "aa11" || srv.Keys()[0].Token != r.Token {
		t.Errorf("regenerate: %+v, server token %s", r, srv.Keys()[0].Token)
	}

	err = l.Block(ctx, "gone")
	if keywatch.ErrorCode(err) != keywatch.ENOTFOUND {
		t.Errorf("block unknown key: %v, want ENOTFOUND", err)
	}
}

func TestLiteLLMRegenerateNotRetried(t *testing.T) {
	srv := providertest.NewLiteLLM(t)
	srv.HandleRegenerate()
	srv.AddKey(providertest.LiteLLMKey{Token: "aa11", CreatedAt: "2026-01-01T00:00:00Z"})
	var sl sleeper
	l := provider.NewLiteLLM(srv.URL, srv.MasterKey, testOpts(&sl)...)
	srv.Fail(1, providertest.Fault{Status: 502})
	if _, err := l.Regenerate(context.Background(), "aa11"); err == nil {
		t.Fatal("want an error")
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1: a retried regenerate could mint two secrets", n)
	}
}

func TestOpenAIDeleteKey(t *testing.T) {
	ctx := context.Background()
	srv := providertest.NewOpenAI(t)
	srv.AddProject(providertest.OpenAIProject{ID: "proj_a", CreatedAt: 1})
	srv.AddKey("proj_a", providertest.OpenAIKey{ID: "key_1", CreatedAt: 1})
	var sl sleeper
	o := provider.NewOpenAI(srv.URL, srv.AdminKey, testOpts(&sl)...)
	srv.Fail(2, providertest.Fault{Status: 503})
	if err := o.DeleteKey(ctx, "proj_a", "key_1"); err != nil {
		t.Fatal(err)
	}
	if len(srv.Keys("proj_a")) != 0 || len(sl.waits) != 2 {
		t.Fatalf("keys %v, waits %v", srv.Keys("proj_a"), sl.waits)
	}
	err := o.DeleteKey(ctx, "proj_a", "key_1")
	if keywatch.ErrorCode(err) != keywatch.ENOTFOUND {
		t.Errorf("second delete: %v, want ENOTFOUND", err)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Method != http.MethodDelete || last.Path != "/v1/organization/projects/proj_a/api_keys/key_1" {
		t.Errorf("request %s %s", last.Method, last.Path)
	}
}

func TestAnthropicSetStatus(t *testing.T) {
	ctx := context.Background()
	srv := providertest.NewAnthropic(t)
	srv.AddKey(providertest.AnthropicKey{ID: "apikey_1", CreatedAt: "2024-01-01T00:00:00Z"})
	var sl sleeper
	a := provider.NewAnthropic(srv.URL, srv.AdminKey, testOpts(&sl)...)
	for _, st := range []string{provider.AnthropicInactive, provider.AnthropicInactive} {
		if err := a.SetStatus(ctx, "apikey_1", st); err != nil {
			t.Fatal(err)
		}
		if got := srv.Keys()[0].Status; got != st {
			t.Fatalf("status %s, want %s", got, st)
		}
	}
	if err := a.SetStatus(ctx, "apikey_1", provider.AnthropicActive); err != nil {
		t.Fatal(err)
	}
	if got := srv.Keys()[0].Status; got != "active" {
		t.Fatalf("status %s after reactivation", got)
	}
	if err := a.SetStatus(ctx, "apikey_x", provider.AnthropicInactive); keywatch.ErrorCode(err) != keywatch.ENOTFOUND {
		t.Errorf("unknown key: %v", err)
	}
}

// TestActionErrorsSecretFree checks that no write error shows the admin
// key, whatever the provider echoes.
func TestActionErrorsSecretFree(t *testing.T) {
	ctx := context.Background()
	const secret = "sk-admin-very-secret-1234"
	srv := providertest.NewLiteLLM(t)
	var sl sleeper
	for _, f := range []providertest.Fault{
		{Status: 401},
		{Status: 400, Body: `{"error":{"message":"bad key ` + secret + `","type":"bad_request_error"}}`},
		{Status: 500, Body: `{"error":{"message":"boom ` + secret + `"}}`},
	} {
		srv.Fail(1, f)
		l := provider.NewLiteLLM(srv.URL, secret, testOpts(&sl, provider.WithMaxRetries(0))...)
		err := l.Block(ctx, "aa11")
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("status %d: error %v", f.Status, err)
		}
		b, _ := json.Marshal(err)
		if strings.Contains(string(b), secret) {
			t.Errorf("status %d: marshalled error holds the secret", f.Status)
		}
	}
	// A wrong master key: the fake echoes a redacted form; only the type is kept.
	l := provider.NewLiteLLM(srv.URL, "sk-wrong-master-key-9999", testOpts(&sl)...)
	err := l.Block(ctx, "aa11")
	if keywatch.ErrorCode(err) != keywatch.EUNAUTHORIZED || strings.Contains(err.Error(), "9999") {
		t.Errorf("wrong key: %v", err)
	}
}
