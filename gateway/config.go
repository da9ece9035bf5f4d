package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the gateway's configuration, read from YAML with LoadConfig or
// ParseConfig. Provider secrets never appear in it: each upstream names the
// environment variable that holds its key.
//
//	version: 1
//	upstreams:
//	  - name: openai
//	    provider: openai                 # openai (any OpenAI-compatible API) or anthropic
//	    base_url: https://api.openai.com/v1
//	    api_key_env: OPENAI_API_KEY
//	    models: ["gpt-", "o1", "o3", "text-embedding-"]   # model prefixes; empty: any model
//	  - name: anthropic
//	    provider: anthropic
//	    api_key_env: ANTHROPIC_API_KEY
//	    models: ["claude-"]
//	trusted_proxies: [10.0.0.0/8]        # X-Forwarded-For is believed only from these
//	refresh: 10s                         # keyring refresh from the store
//	clamp: {factor: 0.1, rpm: 10, tpm: 10000, tokens_per_day: 100000}
//	token:
//	  ttl: 15m
//	  signing_key_env: KEYWATCH_GATEWAY_SIGNING_KEY
//	  oidc:                              # exchange workload ID tokens (e.g. CI) for gateway tokens
//	    issuer: https://token.actions.githubusercontent.com
//	    audience: keywatch-gateway
//	    jwks_url: https://token.actions.githubusercontent.com/.well-known/jwks
//	    subjects: {"repo:acme/app:ref:refs/heads/main": ci-app}
//	    leeway: 60s                      # clock skew allowed on exp and nbf
//	rotation: {max_age: 2160h, grace: 24h}
//	redis: {url: redis://127.0.0.1:6379/0, prefix: kwgw}
type Config struct {
	Version   int        `yaml:"version"`
	Upstreams []Upstream `yaml:"upstreams"`
	// TrustedProxies are the peers whose X-Forwarded-For header gives the
	// client address; requests from others use RemoteAddr.
	TrustedProxies []netip.Prefix `yaml:"trusted_proxies"`
	// Refresh is how often the keyring is reloaded from the store. An
	// unknown key also triggers a reload, at most once per second.
	Refresh time.Duration `yaml:"refresh"`
	// MaxBody bounds a request body, in bytes.
	MaxBody int64 `yaml:"max_body"`
	// DefaultMaxTokens is the output-token estimate used for TPM admission
	// when a generating request names no max_tokens.
	DefaultMaxTokens int64 `yaml:"default_max_tokens"`
	// StripInjectedUsage drops the usage chunk of an OpenAI stream when the
	// gateway asked for it (stream_options.include_usage) and the client
	// did not, so that clients see the stream they asked for.
	StripInjectedUsage *bool       `yaml:"strip_injected_usage"`
	Clamp              ClampConfig `yaml:"clamp"`
	Token              TokenConfig `yaml:"token"`
	Rotation           Rotation    `yaml:"rotation"`
	Redis              RedisConfig `yaml:"redis"`
	// EventBuffer is how many usage events may wait for the sink before
	// new ones are dropped (and counted).
	EventBuffer int `yaml:"event_buffer"`
}

// Upstream is one provider API the gateway forwards to.
type Upstream struct {
	Name     string `yaml:"name"`
	Provider string `yaml:"provider"` // openai or anthropic
	// BaseURL includes the version path, as the providers' SDKs take it:
	// https://api.openai.com/v1, https://api.anthropic.com/v1.
	BaseURL   string `yaml:"base_url"`
	APIKeyEnv string `yaml:"api_key_env"`
	// Models are model-name prefixes routed here; empty matches any model.
	Models []string `yaml:"models"`
	// Default marks the upstream for requests that name no model
	// (GET /v1/models) and models no prefix matches.
	Default bool `yaml:"default"`
}

// ClampConfig says what quotas a clamped key gets: each declared limit
// times Factor (at least 1), capped by the fixed limit when set; a limit
// the key does not declare takes the fixed limit.
type ClampConfig struct {
	Factor       float64 `yaml:"factor"`
	RPM          int64   `yaml:"rpm"`
	TPM          int64   `yaml:"tpm"`
	TokensPerDay int64   `yaml:"tokens_per_day"`
}

// TokenConfig configures short-lived tokens (POST /v1/gateway/token).
type TokenConfig struct {
	TTL time.Duration `yaml:"ttl"`
	// SigningKeyEnv names the variable holding the HMAC key (at least 32
	// bytes) that signs tokens; instances that share it accept each
	// other's tokens. Empty: a random key per process.
	SigningKeyEnv string     `yaml:"signing_key_env"`
	OIDC          OIDCConfig `yaml:"oidc"`
}

// OIDCConfig lets workloads exchange an OIDC ID token (e.g. a CI job's) for
// a gateway token. Subjects maps the token's sub claim to a key id.
type OIDCConfig struct {
	Issuer   string            `yaml:"issuer"`
	Audience string            `yaml:"audience"`
	JWKSURL  string            `yaml:"jwks_url"`
	Subjects map[string]string `yaml:"subjects"`
	// Leeway is the clock skew allowed between the issuer and the gateway
	// when checking an ID token's time claims on the gateway's clock: it
	// is accepted until exp + Leeway and from nbf - Leeway (iat is not
	// checked). DefaultConfig sets 60s; zero allows no skew; at most
	// MaxOIDCLeeway.
	Leeway time.Duration `yaml:"leeway"`
}

// MaxOIDCLeeway bounds OIDCConfig.Leeway: a larger skew would keep
// expired ID tokens (GitHub's live minutes) exchangeable for long.
const MaxOIDCLeeway = 5 * time.Minute

// Rotation configures Rotator: keys older than MaxAge get a successor;
// the old secret keeps working for Grace after rotation.
type Rotation struct {
	MaxAge time.Duration `yaml:"max_age"`
	Grace  time.Duration `yaml:"grace"`
}

// RedisConfig selects the Redis state when URL is set; several gateway
// instances pointing at one Redis share quota counters and key status.
type RedisConfig struct {
	URL    string `yaml:"url"`
	Prefix string `yaml:"prefix"`
}

// DefaultConfig returns the defaults that ParseConfig starts from.
func DefaultConfig() Config {
	return Config{
		Version:          1,
		Refresh:          10 * time.Second,
		MaxBody:          10 << 20,
		DefaultMaxTokens: 1024,
		Clamp:            ClampConfig{Factor: 0.1, RPM: 10, TPM: 10000, TokensPerDay: 100000},
		Token:            TokenConfig{TTL: 15 * time.Minute, OIDC: OIDCConfig{Leeway: time.Minute}},
		Rotation:         Rotation{MaxAge: 90 * 24 * time.Hour, Grace: 24 * time.Hour},
		Redis:            RedisConfig{Prefix: "kwgw"},
		EventBuffer:      4096,
	}
}

// LoadConfig reads and validates the YAML configuration at path.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read gateway config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("gateway config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes YAML over DefaultConfig, strictly (unknown fields are
// errors), fills per-provider defaults and validates the result.
func ParseConfig(b []byte) (Config, error) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("decode: %w", err)
	}
	c.fill()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) fill() {
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		if u.Provider == "" {
			u.Provider = ProviderOpenAI
		}
		if u.BaseURL == "" {
			switch u.Provider {
			case ProviderOpenAI:
				u.BaseURL = "https://api.openai.com/v1"
			case ProviderAnthropic:
				u.BaseURL = "https://api.anthropic.com/v1"
			}
		}
		u.BaseURL = strings.TrimRight(u.BaseURL, "/")
		if u.Name == "" {
			u.Name = u.Provider
		}
	}
}

// Providers the gateway speaks.
const (
	ProviderOpenAI    = "openai"
	ProviderAnthropic = "anthropic"
)

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Version != 1 {
		bad("version: %d is not supported (want 1)", c.Version)
	}
	if len(c.Upstreams) == 0 {
		bad("upstreams: none configured")
	}
	names := map[string]bool{}
	for i, u := range c.Upstreams {
		where := fmt.Sprintf("upstreams[%d] (%s)", i, u.Name)
		if names[u.Name] {
			bad("%s: duplicate name", where)
		}
		names[u.Name] = true
		if u.Provider != ProviderOpenAI && u.Provider != ProviderAnthropic {
			bad("%s: provider %q is not openai or anthropic", where, u.Provider)
		}
		if p, err := url.Parse(u.BaseURL); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("%s: base_url %q is not an http(s) URL", where, u.BaseURL)
		}
		if u.APIKeyEnv == "" {
			bad("%s: api_key_env is required (the variable holding the provider key)", where)
		}
	}
	if c.Refresh < time.Second {
		bad("refresh: %v is below 1s", c.Refresh)
	}
	if c.MaxBody <= 0 {
		bad("max_body: must be positive")
	}
	if c.DefaultMaxTokens < 0 {
		bad("default_max_tokens: must not be negative")
	}
	if c.Clamp.Factor <= 0 || c.Clamp.Factor > 1 {
		bad("clamp.factor: %v is not in (0, 1]", c.Clamp.Factor)
	}
	if c.Clamp.RPM < 0 || c.Clamp.TPM < 0 || c.Clamp.TokensPerDay < 0 {
		bad("clamp: limits must not be negative")
	}
	if c.Token.TTL < time.Minute || c.Token.TTL > 24*time.Hour {
		bad("token.ttl: %v is not between 1m and 24h", c.Token.TTL)
	}
	if o := c.Token.OIDC; o.Issuer != "" || o.Audience != "" || o.JWKSURL != "" || len(o.Subjects) > 0 {
		if o.Issuer == "" || o.Audience == "" || o.JWKSURL == "" {
			bad("token.oidc: issuer, audience and jwks_url are all required")
		}
		if len(o.Subjects) == 0 {
			bad("token.oidc.subjects: map at least one subject to a key id")
		}
	}
	if c.Token.OIDC.Leeway < 0 || c.Token.OIDC.Leeway > MaxOIDCLeeway {
		bad("token.oidc.leeway: %v is not in [0, %v]: clocks off by more want fixing, not hiding", c.Token.OIDC.Leeway, MaxOIDCLeeway)
	}
	if c.Rotation.MaxAge <= 0 || c.Rotation.Grace < 0 || c.Rotation.Grace >= c.Rotation.MaxAge {
		bad("rotation: max_age must be positive and grace in [0, max_age)")
	}
	if c.Redis.URL != "" && c.Redis.Prefix == "" {
		bad("redis.prefix: required with redis.url")
	}
	if c.EventBuffer <= 0 {
		bad("event_buffer: must be positive")
	}
	return errors.Join(errs...)
}

// TuneGC sets the garbage collector of a process that runs only the
// gateway, unless GOGC or GOMEMLIMIT is set: its live heap is a few MB
// while every request allocates about 24 KB, so at GOGC=100 it collects
// many times a second, and on a single core each collection holds requests
// back (measured with scripts/bench-gateway.sh: at 5,000 requests/s the
// added p99 fell from 2.1 ms to 1.4 ms at 400). It collects at 400% growth
// with a soft limit of 1 GiB, and returns a description for the logs.
func TuneGC() string {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return "GOGC/GOMEMLIMIT from the environment"
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(1 << 30)
	return "GOGC=400, GOMEMLIMIT=1GiB"
}
