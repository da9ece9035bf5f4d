package provider_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/provider"
	"github.com/keywatch/keywatch/provider/providertest"
)

func ptr[T any](v T) *T { return &v }

// sleeper records the waits asked for and returns at once.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func testOpts(s *sleeper, extra ...provider.Option) []provider.Option {
	return append([]provider.Option{
		provider.WithSleep(s.sleep),
		provider.WithJitter(func() float64 { return 0 }),
		provider.WithClock(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }),
	}, extra...)
}

func TestOpenAIListKeys(t *testing.T) {
	srv := providertest.NewOpenAI(t)
	srv.AddProject(providertest.OpenAIProject{ID: "proj_a", Name: "Search", CreatedAt: 1700000000})
	srv.AddProject(providertest.OpenAIProject{ID: "proj_old", Name: "Old", CreatedAt: 1700000000, ArchivedAt: ptr(int64(1710000000))})
	srv.AddProject(providertest.OpenAIProject{ID: "proj_b", CreatedAt: 1700000001})
	srv.AddProject(providertest.OpenAIProject{ID: "proj_c", Name: "Empty", CreatedAt: 1700000002})
	srv.AddServiceAccount("proj_a", providertest.OpenAIServiceAccount{ID: "svc_acct_1", Name: "indexer", Role: "member", CreatedAt: 1700000000})
	srv.AddServiceAccount("proj_a", providertest.OpenAIServiceAccount{ID: "svc_acct_2", Name: "other", Role: "owner", CreatedAt: 1700000000})
	srv.AddServiceAccount("proj_a", providertest.OpenAIServiceAccount{ID: "svc_acct_3", Name: "third", Role: "member", CreatedAt: 1700000000})
	user := &providertest.OpenAIUser{ID: "user_1", Email: "dana@example.com", Name: "Dana", CreatedAt: 1, Role: "owner"}
	srv.AddKey("proj_a", providertest.OpenAIKey{ID: "key_1", Name: "prod", RedactedValue: "sk-proj-****abcd", CreatedAt: 1710000000, LastUsedAt: ptr(int64(1720000000)),
		Owner: providertest.OpenAIKeyOwner{Type: "user", User: user}})
	srv.AddKey("proj_a", providertest.OpenAIKey{ID: "key_2", Name: "indexer", RedactedValue: "sk-abc...def", CreatedAt: 1710000001,
		Owner: providertest.OpenAIKeyOwner{Type: "service_account", ServiceAccount: &providertest.OpenAIServiceAccount{ID: "svc_acct_1", Name: "indexer", Role: "member", CreatedAt: 1}}})
	srv.AddKey("proj_a", providertest.OpenAIKey{ID: "key_3", Name: "left", RedactedValue: "sk-...wxyz", CreatedAt: 1710000002, OwnerProjectAccess: "inactive",
		Owner: providertest.OpenAIKeyOwner{Type: "user", User: user}})
	srv.AddKey("proj_b", providertest.OpenAIKey{ID: "key_4", Name: "b", RedactedValue: "sk-...9876", CreatedAt: 1710000003,
		Owner: providertest.OpenAIKeyOwner{Type: "user", User: user}})
	srv.AddKey("proj_old", providertest.OpenAIKey{ID: "key_old", Name: "old", RedactedValue: "sk-...0000", CreatedAt: 1,
		Owner: providertest.OpenAIKeyOwner{Type: "user", User: user}})

	var sl sleeper
	got, err := provider.NewOpenAI(srv.URL, srv.AdminKey, testOpts(&sl, provider.WithPageSize(2))...).ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []keywatch.StoredKey{
		{Key: keywatch.Key{ID: "openai:key_1", Provider: "openai", Name: "prod", Owner: "dana@example.com", Service: "Search",
			Created: time.Unix(1710000000, 0).UTC(), Status: keywatch.KeyActive,
			Labels: map[string]string{"project_id": "proj_a", "project_name": "Search", "owner_type": "user", "user_id": "user_1", "owner_project_access": "active"}},
			ProviderKeyID: "key_1", Redacted: "sk-proj-****abcd", Last4: "abcd", LastUsed: time.Unix(1720000000, 0).UTC()},
		{Key: keywatch.Key{ID: "openai:key_2", Provider: "openai", Name: "indexer", Service: "Search",
			Created: time.Unix(1710000001, 0).UTC(), Status: keywatch.KeyActive,
			Labels: map[string]string{"project_id": "proj_a", "project_name": "Search", "owner_type": "service_account", "owner_project_access": "active",
				"service_account_id": "svc_acct_1", "service_account_name": "indexer", "service_account_role": "member"}},
			ProviderKeyID: "key_2", Redacted: "sk-abc...def"},
		{Key: keywatch.Key{ID: "openai:key_3", Provider: "openai", Name: "left", Owner: "dana@example.com", Service: "Search",
			Created: time.Unix(1710000002, 0).UTC(), Status: keywatch.KeyActive,
			Labels: map[string]string{"project_id": "proj_a", "project_name": "Search", "owner_type": "user", "user_id": "user_1", "owner_project_access": "inactive"}},
			ProviderKeyID: "key_3", Redacted: "sk-...wxyz", Last4: "wxyz"},
		{Key: keywatch.Key{ID: "openai:key_4", Provider: "openai", Name: "b", Owner: "dana@example.com", Service: "proj_b",
			Created: time.Unix(1710000003, 0).UTC(), Status: keywatch.KeyActive,
			Labels: map[string]string{"project_id": "proj_b", "owner_type": "user", "user_id": "user_1", "owner_project_access": "active"}},
			ProviderKeyID: "key_4", Redacted: "sk-...9876", Last4: "9876"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListKeys (-want +got):\n%s", diff)
	}
	// Pagination really happened: projects (2 pages), keys of proj_a (2
	// pages), service accounts of proj_a (2 pages).
	var afters int
	for _, r := range srv.Requests() {
		if strings.Contains(r.RawQuery, "after=") {
			afters++
		}
		if r.Header.Get("Authorization") != "Bearer "+srv.AdminKey {
			t.Errorf("%s: Authorization = %q", r.Path, r.Header.Get("Authorization"))
		}
	}
	if afters < 3 {
		t.Errorf("%d requests with a cursor, want >= 3", afters)
	}
}

func TestAnthropicListKeys(t *testing.T) {
	srv := providertest.NewAnthropic(t)
	srv.AddKey(providertest.AnthropicKey{ID: "apikey_01", Name: "Developer Key", WorkspaceID: ptr("wrkspc_01"),
		CreatedAt: "2024-10-30T23:58:27.427722Z", CreatedBy: providertest.AnthropicCreatedBy{ID: "user_01", Type: "user"},
		PartialKeyHint: ptr("sk-ant-api03-R2D...igAA"), ExpiresAt: ptr("2027-01-01T00:00:00Z")})
	srv.AddKey(providertest.AnthropicKey{ID: "apikey_02", Name: "off", CreatedAt: "2024-11-01T00:00:00Z",
		CreatedBy: providertest.AnthropicCreatedBy{ID: "user_02", Type: "user"}, Status: "inactive"})
	srv.AddKey(providertest.AnthropicKey{ID: "apikey_03", Name: "gone", CreatedAt: "2024-11-02T00:00:00+02:00",
		CreatedBy: providertest.AnthropicCreatedBy{ID: "user_02", Type: "user"}, PartialKeyHint: ptr("sk-ant-...***"), Status: "archived"})

	var sl sleeper
	got, err := provider.NewAnthropic(srv.URL, srv.AdminKey, testOpts(&sl, provider.WithPageSize(1))...).ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []keywatch.StoredKey{
		{Key: keywatch.Key{ID: "anthropic:apikey_01", Provider: "anthropic", Name: "Developer Key", Service: "wrkspc_01",
			Created: time.Date(2024, 10, 30, 23, 58, 27, 427722000, time.UTC), Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
			Status: keywatch.KeyActive, Labels: map[string]string{"workspace_id": "wrkspc_01", "created_by_id": "user_01", "created_by_type": "user"}},
			ProviderKeyID: "apikey_01", Redacted: "sk-ant-api03-R2D...igAA", Last4: "igAA"},
		{Key: keywatch.Key{ID: "anthropic:apikey_02", Provider: "anthropic", Name: "off", Service: "default",
			Created: time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC), Status: keywatch.KeyDisabled,
			Labels: map[string]string{"created_by_id": "user_02", "created_by_type": "user"}},
			ProviderKeyID: "apikey_02"},
		{Key: keywatch.Key{ID: "anthropic:apikey_03", Provider: "anthropic", Name: "gone", Service: "default",
			Created: time.Date(2024, 11, 1, 22, 0, 0, 0, time.UTC), Status: keywatch.KeyRevoked,
			Labels: map[string]string{"created_by_id": "user_02", "created_by_type": "user"}},
			ProviderKeyID: "apikey_03", Redacted: "sk-ant-...***"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListKeys (-want +got):\n%s", diff)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Errorf("%d requests, want 3 pages", len(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("x-api-key") != srv.AdminKey || r.Header.Get("anthropic-version") != "2023-06-01" {
			t.Errorf("headers %v", r.Header)
		}
	}
}

func TestLiteLLMListKeys(t *testing.T) {
	srv := providertest.NewLiteLLM(t)
	srv.AddKey(providertest.LiteLLMKey{Token: "aaa111", KeyName: "sk-...abcd", KeyAlias: ptr("search-prod"),
		MaxBudget: ptr(200.0), BudgetDuration: ptr("30d"), TPMLimit: ptr(int64(100000)), RPMLimit: ptr(int64(600)),
		Expires: ptr("2027-06-01T00:00:00"), Models: []string{"gpt-4o-mini"}, UserID: ptr("dana@example.com"), TeamID: ptr("team-search"),
		Metadata: map[string]any{"service": "search-api", "env": "prod"}, CreatedAt: "2026-03-01T10:00:00Z"})
	srv.AddKey(providertest.LiteLLMKey{Token: "bbb222", KeyName: "sk-...wxyz", Blocked: ptr(true), MaxBudget: ptr(5.0),
		TeamID: ptr("team-x"), Models: []string{"all-proxy-models"}, CreatedAt: "2026-02-01 09:00:00+00:00"})
	srv.AddKey(providertest.LiteLLMKey{Token: "ccc333", KeyName: "sk-...1234", UserID: ptr("u-42"), CreatedAt: "2026-01-01T00:00:00Z"})

	var sl sleeper
	got, err := provider.NewLiteLLM(srv.URL, srv.MasterKey, testOpts(&sl, provider.WithPageSize(2))...).ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []keywatch.StoredKey{
		{Key: keywatch.Key{ID: "litellm:aaa111", Provider: "litellm", Name: "search-prod", Owner: "dana@example.com", Team: "team-search",
			Service: "search-api", Env: "prod", Created: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Expires: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
			Status: keywatch.KeyActive, Models: []string{"gpt-4o-mini"}, Quotas: keywatch.Quotas{RPM: 600, TPM: 100000, MonthlyBudgetUSD: 200},
			Labels: map[string]string{"team_id": "team-search", "user_id": "dana@example.com", "key_alias": "search-prod", "budget_duration": "30d"}},
			ProviderKeyID: "aaa111", Redacted: "sk-...abcd", Last4: "abcd"},
		{Key: keywatch.Key{ID: "litellm:bbb222", Provider: "litellm", Name: "sk-...wxyz", Team: "team-x", Service: "team-x",
			Created: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), Status: keywatch.KeyDisabled,
			Labels: map[string]string{"team_id": "team-x", "max_budget_usd": "5"}},
			ProviderKeyID: "bbb222", Redacted: "sk-...wxyz", Last4: "wxyz"},
		{Key: keywatch.Key{ID: "litellm:ccc333", Provider: "litellm", Name: "sk-...1234",
			Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Status: keywatch.KeyActive,
			Labels: map[string]string{"user_id": "u-42"}},
			ProviderKeyID: "ccc333", Redacted: "sk-...1234", Last4: "1234"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListKeys (-want +got):\n%s", diff)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 pages", n)
	}
}

// fake is what the error tests need of every fake server.
type fake interface {
	Fail(n int, f providertest.Fault)
	RepeatCursor(on bool)
	Requests() []providertest.Request
}

type adapter struct {
	name      string
	start     func(t *testing.T) (fake, string, string, string) // server, url, good key, forbidden key
	newLister func(url, key string, opts ...provider.Option) provider.Lister
}

const secret = "sk-SECRET-zq9X-DO-NOT-LEAK-7731"

var adapters = []adapter{
	{"openai", func(t *testing.T) (fake, string, string, string) {
		s := providertest.NewOpenAI(t)
		s.AdminKey, s.ForbiddenKey = secret, secret+"-ro"
		s.AddProject(providertest.OpenAIProject{ID: "proj_a", Name: "A", CreatedAt: 1})
		s.AddProject(providertest.OpenAIProject{ID: "proj_b", Name: "B", CreatedAt: 2})
		s.AddKey("proj_a", providertest.OpenAIKey{ID: "key_1", Name: "k", RedactedValue: "sk-...abcd", CreatedAt: 1,
			Owner: providertest.OpenAIKeyOwner{Type: "user", User: &providertest.OpenAIUser{ID: "u", Email: "e@x"}}})
		return s, s.URL, s.AdminKey, s.ForbiddenKey
	}, func(u, k string, o ...provider.Option) provider.Lister { return provider.NewOpenAI(u, k, o...) }},
	{"anthropic", func(t *testing.T) (fake, string, string, string) {
		s := providertest.NewAnthropic(t)
		s.AdminKey, s.ForbiddenKey = secret, secret+"-ro"
		s.AddKey(providertest.AnthropicKey{ID: "apikey_1", Name: "k", CreatedAt: "2024-01-01T00:00:00Z"})
		s.AddKey(providertest.AnthropicKey{ID: "apikey_2", Name: "k", CreatedAt: "2024-01-01T00:00:00Z"})
		return s, s.URL, s.AdminKey, s.ForbiddenKey
	}, func(u, k string, o ...provider.Option) provider.Lister { return provider.NewAnthropic(u, k, o...) }},
	{"litellm", func(t *testing.T) (fake, string, string, string) {
		s := providertest.NewLiteLLM(t)
		s.MasterKey, s.ForbiddenKey = secret, secret+"-ro"
		s.AddKey(providertest.LiteLLMKey{Token: "t1", KeyName: "sk-...abcd", CreatedAt: "2026-01-02T00:00:00Z"})
		s.AddKey(providertest.LiteLLMKey{Token: "t2", KeyName: "sk-...efgh", CreatedAt: "2026-01-01T00:00:00Z"})
		return s, s.URL, s.MasterKey, s.ForbiddenKey
	}, func(u, k string, o ...provider.Option) provider.Lister { return provider.NewLiteLLM(u, k, o...) }},
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f fake)
		key       func(good, forbidden string) string
		opts      []provider.Option
		wantCode  string
		wantIn    string
		wantWaits []time.Duration
	}{
		{name: "wrong key", key: func(g, _ string) string { return g + "x" }, wantCode: keywatch.EUNAUTHORIZED, wantIn: "HTTP 401"},
		{name: "forbidden key", key: func(_, f string) string { return f }, wantCode: keywatch.EFORBIDDEN, wantIn: "HTTP 403"},
		{name: "429 then ok, Retry-After seconds", setup: func(f fake) {
			f.Fail(2, providertest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "7"})
		}, wantWaits: []time.Duration{7 * time.Second, 7 * time.Second}},
		{name: "503 with HTTP date", setup: func(f fake) {
			f.Fail(1, providertest.Fault{Status: 503, RetryAfter: "Thu, 01 Jan 2026 00:00:30 GMT"})
		}, wantWaits: []time.Duration{30 * time.Second}},
		{name: "500 backoff without Retry-After", setup: func(f fake) {
			f.Fail(3, providertest.Fault{Status: 500})
		}, wantWaits: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}},
		{name: "retries exhausted", setup: func(f fake) {
			f.Fail(10, providertest.Fault{Status: 529})
		}, opts: []provider.Option{provider.WithMaxRetries(2)}, wantCode: keywatch.EINTERNAL, wantIn: "after 3 attempts",
			wantWaits: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}},
		{name: "malformed JSON", setup: func(f fake) {
			f.Fail(1, providertest.Fault{Body: `{"data": [`})
		}, wantCode: keywatch.EINTERNAL, wantIn: "malformed JSON"},
		{name: "missing fields", setup: func(f fake) {
			f.Fail(1, providertest.Fault{Body: `{"object":"list"}`})
		}, wantCode: keywatch.EINTERNAL, wantIn: "invalid response: "},
		{name: "repeated cursor", setup: func(f fake) { f.RepeatCursor(true) },
			opts: []provider.Option{provider.WithPageSize(1)}, wantCode: keywatch.EINTERNAL, wantIn: "repeat"},
		{name: "body too large", opts: []provider.Option{provider.WithMaxBody(10)}, wantCode: keywatch.EINTERNAL, wantIn: "larger than 10 bytes"},
		{name: "not found echoes no secret", setup: func(f fake) {
			f.Fail(1, providertest.Fault{Status: 400, Body: `{"error":{"message":"bad key ` + secret + `","type":"invalid_request_error"}}`})
		}, wantCode: keywatch.EINVALID, wantIn: "[REDACTED]"},
	}
	for _, a := range adapters {
		for _, tt := range tests {
			t.Run(a.name+"/"+tt.name, func(t *testing.T) {
				f, u, good, forbidden := a.start(t)
				if tt.setup != nil {
					tt.setup(f)
				}
				key := good
				if tt.key != nil {
					key = tt.key(good, forbidden)
				}
				var sl sleeper
				_, err := a.newLister(u, key, testOpts(&sl, tt.opts...)...).ListKeys(context.Background())
				if got := keywatch.ErrorCode(err); got != tt.wantCode {
					t.Fatalf("code %q, want %q; err = %v", got, tt.wantCode, err)
				}
				if err != nil {
					if !strings.Contains(err.Error(), tt.wantIn) || !strings.Contains(err.Error(), a.name+": GET /") {
						t.Errorf("error %q lacks %q or provider and endpoint", err, tt.wantIn)
					}
					if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[len(secret)-8:]) {
						t.Errorf("error leaks the admin key: %v", err)
					}
				}
				if diff := cmp.Diff(tt.wantWaits, sl.waits); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestCancel(t *testing.T) {
	for _, a := range adapters {
		t.Run(a.name, func(t *testing.T) {
			f, u, good, _ := a.start(t)
			f.Fail(5, providertest.Fault{Status: 429, RetryAfter: "30"})
			ctx, cancel := context.WithCancel(context.Background())
			// The first wait cancels, as a user pressing ^C during backoff.
			sleep := func(ctx context.Context, d time.Duration) error {
				cancel()
				return ctx.Err()
			}
			_, err := a.newLister(u, good, provider.WithSleep(sleep)).ListKeys(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if n := len(f.Requests()); n != 1 {
				t.Errorf("%d requests after cancel, want 1", n)
			}
			// An already-canceled context sends nothing.
			_, err = a.newLister(u, good).ListKeys(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if n := len(f.Requests()); n != 1 {
				t.Errorf("%d requests, want still 1", n)
			}
		})
	}
}
