package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/server"
)

// TestREADMEConfigLoads keeps README.md's example config true.
func TestREADMEConfigLoads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "A config file (every field optional) looks like this:\n\n```yaml\n")
	if !ok {
		t.Fatal("README.md has no example config")
	}
	example, _, _ := strings.Cut(rest, "```")
	path := filepath.Join(t.TempDir(), "keywatch.yaml")
	os.WriteFile(path, []byte(example), 0o600)
	cfg, err := server.LoadConfig(path)
	if err != nil {
		t.Fatalf("README example config: %v", err)
	}
	if cfg.Containment.Policy == nil || len(cfg.Containment.Policy.Rules) != 3 || cfg.Routing.Services["search-api"].Webhook == "" {
		t.Errorf("README example config decoded wrong: %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown field", "version: 1\ncolour: red\n", "colour"},
		{"bad version", "version: 3\n", "version"},
		{"several problems at once", "version: 1\ningest: {max_body: 10, max_concurrent: 0}\n", "max_concurrent"},
		{"bad policy", "version: 1\ncontainment: {policy: {version: 1, rules: [{name: x, actions: [{kind: explode}]}]}}\n", "explode"},
		{"bad detector", "version: 1\ndetection: {volume_spike: {factor: 0}}\n", "volume_spike.factor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(path, []byte(tt.yaml), 0o600)
			_, err := server.LoadConfig(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || keywatch.ErrorCode(err) != keywatch.EINVALID {
				t.Errorf("LoadConfig error %v, want an invalid-input error mentioning %q", err, tt.want)
			}
		})
	}
}
