// Package server is keywatch serve: the long-running service that ingests
// usage over HTTP (native JSON Lines, OTLP, LiteLLM callbacks) into a
// durable log, runs the same detection engine as replay, stores and routes
// alerts, applies containment policies, and exposes an authenticated API
// and Prometheus metrics.
package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/detect"
	"github.com/keywatch/keywatch/gateway"
	"go.yaml.in/yaml/v3"
)

// Config is serve's configuration file. Every field has a default; a
// missing file means all defaults.
type Config struct {
	Version int `yaml:"version"`
	// DataDir holds the write-ahead log of accepted events.
	DataDir string `yaml:"data_dir"`
	// Inventory, GeoIP and ASN are optional files; the inventory otherwise
	// comes from the store.
	GeoIP string `yaml:"geoip"`
	ASN   string `yaml:"asn"`

	Ingest      IngestConfig      `yaml:"ingest"`
	Detection   detect.Config     `yaml:"detection"`
	Routing     RoutingConfig     `yaml:"routing"`
	Containment ContainmentConfig `yaml:"containment"`
	// Gateway, when set, runs keywatch's gateway in serve (serve
	// --gateway sets the defaults); its usage feeds detection directly.
	Gateway *gateway.Config `yaml:"gateway"`
	// Checkpoint is how often profiles and the log position are saved to
	// the store; events after the last checkpoint are reprocessed on start.
	Checkpoint Duration `yaml:"checkpoint"`
}

// IngestConfig bounds what ingest accepts.
type IngestConfig struct {
	// MaxBody is the largest request body, after decompression, in bytes.
	MaxBody int64 `yaml:"max_body"`
	// MaxPending is how many accepted bytes may wait for detection before
	// ingest answers 503 with Retry-After.
	MaxPending int64 `yaml:"max_pending"`
	// DedupWindow is how many recent request ids are remembered to drop
	// duplicates.
	DedupWindow int `yaml:"dedup_window"`
	// MaxConcurrent bounds ingest requests in flight; past it, 429.
	MaxConcurrent int `yaml:"max_concurrent"`
}

// DefaultConfig returns the built-in configuration.
func DefaultConfig() Config {
	return Config{
		Version:    1,
		DataDir:    "keywatch-data",
		Ingest:     IngestConfig{MaxBody: 32 << 20, MaxPending: 256 << 20, DedupWindow: 1 << 20, MaxConcurrent: 64},
		Detection:  detect.DefaultConfig(),
		Checkpoint: Duration(10 * time.Second),
	}
}

// LoadConfig reads path over the defaults; "" means defaults only.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, keywatch.Errorf(keywatch.EINVALID, "read config: %v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, keywatch.Errorf(keywatch.EINVALID, "config %s: %v", path, err)
	}
	if cfg.Gateway != nil {
		// The gateway section is decoded again over the gateway's own
		// defaults, which a plain decode into the pointer would miss.
		var doc struct {
			Gateway yaml.Node `yaml:"gateway"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return cfg, keywatch.Errorf(keywatch.EINVALID, "config %s: %v", path, err)
		}
		sub, err := yaml.Marshal(&doc.Gateway)
		if err != nil {
			return cfg, keywatch.Errorf(keywatch.EINVALID, "config %s: gateway: %v", path, err)
		}
		g, err := gateway.ParseConfig(sub)
		if err != nil {
			return cfg, keywatch.Errorf(keywatch.EINVALID, "config %s: gateway: %v", path, err)
		}
		cfg.Gateway = &g
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Version != 1 {
		errs = append(errs, fmt.Errorf("version: %d is not supported (want 1)", c.Version))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: required"))
	}
	if c.Ingest.MaxBody < 1024 {
		errs = append(errs, errors.New("ingest.max_body: at least 1024 bytes"))
	}
	if c.Ingest.MaxPending < c.Ingest.MaxBody {
		errs = append(errs, errors.New("ingest.max_pending: at least ingest.max_body"))
	}
	if c.Ingest.MaxConcurrent < 1 {
		errs = append(errs, errors.New("ingest.max_concurrent: at least 1"))
	}
	if c.Ingest.DedupWindow < 0 {
		errs = append(errs, errors.New("ingest.dedup_window: must not be negative"))
	}
	if c.Checkpoint <= 0 {
		errs = append(errs, errors.New("checkpoint: must be positive"))
	}
	if p := c.Containment.Policy; p != nil {
		p.SetDefaults()
		if err := p.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("containment.policy: %w", err))
		}
	}
	if c.Gateway != nil {
		if err := c.Gateway.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("gateway: %w", err))
		}
	}
	if err := c.Detection.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("detection: %w", err))
	}
	if len(errs) > 0 {
		return &keywatch.Error{Code: keywatch.EINVALID, Message: "invalid config", Err: errors.Join(errs...)}
	}
	return nil
}

// Duration is a time.Duration written as "10s" in YAML.
type Duration = detect.Duration

// DefaultGatewayYAML is the gateway configuration serve --gateway uses when
// the config file has none: OpenAI and Anthropic upstreams, their keys from
// OPENAI_API_KEY and ANTHROPIC_API_KEY.
const DefaultGatewayYAML = `version: 1
upstreams:
  - {name: openai, provider: openai, api_key_env: OPENAI_API_KEY, default: true}
  - {name: anthropic, provider: anthropic, api_key_env: ANTHROPIC_API_KEY}
`
