package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/keywatch/keywatch"
	"go.yaml.in/yaml/v3"
)

// Rule ids of the built-in detectors. They are stable: alerts, policies and
// dashboards refer to them.
const (
	RuleVolumeSpike    = "volume-spike"
	RuleNewCountry     = "new-country-high-tokens"
	RuleModelDeviation = "model-deviation"
	RuleNewASN         = "new-asn"
	RuleIPFanout       = "ip-fanout"
	RuleAuthFailures   = "auth-failures"
	RuleExpiredKeyUse  = "expired-key-use"
)

// Rules lists the built-in rule ids in a fixed order.
var Rules = []string{RuleVolumeSpike, RuleNewCountry, RuleModelDeviation, RuleNewASN, RuleIPFanout, RuleAuthFailures, RuleExpiredKeyUse}

// Config holds every detector parameter. The zero value is not useful; start
// from DefaultConfig (LoadConfig does) and override what you need.
type Config struct {
	Version int `yaml:"version"`

	// Learn is how long a new key or service only learns: until then it is
	// judged by its service's profile, and not at all if that is young too.
	Learn Duration `yaml:"learn"`
	// Dedup is how long a rule stays quiet on a key after it fired, extended
	// while the condition keeps holding: one alert per incident.
	Dedup Duration `yaml:"dedup"`
	// Disabled lists rule ids to turn off.
	Disabled []string `yaml:"disabled"`

	// Set sizes bound the memory of each profile.
	MaxCountries int `yaml:"max_countries"`
	MaxASNs      int `yaml:"max_asns"`
	MaxModels    int `yaml:"max_models"`

	VolumeSpike    VolumeSpikeConfig    `yaml:"volume_spike"`
	NewCountry     NewCountryConfig     `yaml:"new_country_high_tokens"`
	ModelDeviation ModelDeviationConfig `yaml:"model_deviation"`
	NewASN         NewASNConfig         `yaml:"new_asn"`
	IPFanout       IPFanoutConfig       `yaml:"ip_fanout"`
	AuthFailures   AuthFailuresConfig   `yaml:"auth_failures"`
}

// VolumeSpikeConfig tunes volume-spike: the sliding minute's requests or
// tokens above Factor times the key's usual busiest minute for that hour of
// the week, and above the floors.
type VolumeSpikeConfig struct {
	Factor float64 `yaml:"factor"`  // default 5
	MinRPM float64 `yaml:"min_rpm"` // floor for requests per minute
	MinTPM float64 `yaml:"min_tpm"` // floor for tokens per minute
}

// NewCountryConfig tunes new-country-high-tokens: a country outside the
// key's baseline (or its declared countries) using at least MinTokens within
// Window.
type NewCountryConfig struct {
	Window    Duration `yaml:"window"`     // default 10m
	MinTokens int64    `yaml:"min_tokens"` // default 20000
}

// ModelDeviationConfig tunes model-deviation: a model or operation outside
// the declared allow-list, or a model new to the profile whose price is at
// least PriceFactor times the dearest model the profile uses.
type ModelDeviationConfig struct {
	PriceFactor float64 `yaml:"price_factor"` // default 3
}

// NewASNConfig tunes new-asn: MinRequests requests from an autonomous system
// outside the baseline within Window.
type NewASNConfig struct {
	MinRequests int      `yaml:"min_requests"` // default 3
	Window      Duration `yaml:"window"`       // default 10m
}

// IPFanoutConfig tunes ip-fanout: distinct client addresses in five minutes
// above Factor times the usual count and at least MinAddresses.
type IPFanoutConfig struct {
	MinAddresses int     `yaml:"min_addresses"` // default 30
	Factor       float64 `yaml:"factor"`        // default 4
}

// AuthFailuresConfig tunes auth-failures: 401/403 answers on one key in five
// minutes (at least MinFailures and Factor times usual), or one address
// failing on at least MinKeysPerAddress keys.
type AuthFailuresConfig struct {
	MinFailures       int     `yaml:"min_failures"`         // default 20
	Factor            float64 `yaml:"factor"`               // default 5
	MinKeysPerAddress int     `yaml:"min_keys_per_address"` // default 5
}

// DefaultConfig returns the built-in parameters.
func DefaultConfig() Config {
	return Config{
		Version:        1,
		Learn:          Duration(24 * time.Hour),
		Dedup:          Duration(time.Hour),
		MaxCountries:   12,
		MaxASNs:        12,
		MaxModels:      8,
		VolumeSpike:    VolumeSpikeConfig{Factor: 5, MinRPM: 30, MinTPM: 200000},
		NewCountry:     NewCountryConfig{Window: Duration(10 * time.Minute), MinTokens: 20000},
		ModelDeviation: ModelDeviationConfig{PriceFactor: 3},
		NewASN:         NewASNConfig{MinRequests: 3, Window: Duration(10 * time.Minute)},
		IPFanout:       IPFanoutConfig{MinAddresses: 30, Factor: 4},
		AuthFailures:   AuthFailuresConfig{MinFailures: 20, Factor: 5, MinKeysPerAddress: 5},
	}
}

// LoadConfig reads a YAML config file over the defaults: fields not given
// keep their default. Unknown fields are errors.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read detector config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("detector config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes YAML over DefaultConfig and validates the result.
func ParseConfig(b []byte) (Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, keywatch.Errorf(keywatch.EINVALID, "%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate reports every out-of-range parameter at once.
func (c *Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Version == 1, "version: %d is not supported (want 1)", c.Version)
	check(c.Learn >= 0, "learn: must not be negative")
	check(c.Dedup > 0, "dedup: must be positive")
	check(c.MaxCountries >= 1 && c.MaxCountries <= 256, "max_countries: %d not in 1..256", c.MaxCountries)
	check(c.MaxASNs >= 1 && c.MaxASNs <= 256, "max_asns: %d not in 1..256", c.MaxASNs)
	check(c.MaxModels >= 1 && c.MaxModels <= 256, "max_models: %d not in 1..256", c.MaxModels)
	check(c.VolumeSpike.Factor > 1, "volume_spike.factor: %g must be above 1", c.VolumeSpike.Factor)
	check(c.VolumeSpike.MinRPM >= 0 && c.VolumeSpike.MinTPM >= 0, "volume_spike: floors must not be negative")
	check(c.NewCountry.Window > 0, "new_country_high_tokens.window: must be positive")
	check(c.NewCountry.MinTokens >= 0, "new_country_high_tokens.min_tokens: must not be negative")
	check(c.ModelDeviation.PriceFactor >= 1, "model_deviation.price_factor: %g must be at least 1", c.ModelDeviation.PriceFactor)
	check(c.NewASN.MinRequests >= 1, "new_asn.min_requests: must be at least 1")
	check(c.NewASN.Window > 0, "new_asn.window: must be positive")
	check(c.IPFanout.MinAddresses >= 2 && c.IPFanout.MinAddresses <= 1000, "ip_fanout.min_addresses: %d not in 2..1000", c.IPFanout.MinAddresses)
	check(c.IPFanout.Factor >= 1, "ip_fanout.factor: must be at least 1")
	check(c.AuthFailures.MinFailures >= 1, "auth_failures.min_failures: must be at least 1")
	check(c.AuthFailures.Factor >= 1, "auth_failures.factor: must be at least 1")
	check(c.AuthFailures.MinKeysPerAddress >= 2, "auth_failures.min_keys_per_address: must be at least 2")
	for _, r := range c.Disabled {
		known := false
		for _, id := range Rules {
			known = known || id == r
		}
		check(known, "disabled: %q is not a rule id", r)
	}
	if len(errs) > 0 {
		return &keywatch.Error{Code: keywatch.EINVALID, Message: "invalid detector config", Err: errors.Join(errs...)}
	}
	return nil
}

// Duration is a time.Duration written as "10m" or "24h" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 10m or 24h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Seconds returns the duration in whole seconds.
func (d Duration) Seconds() int64 { return int64(time.Duration(d) / time.Second) }
