package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/provider/providertest"
	_ "modernc.org/sqlite"
)

// runIn runs keywatch with stdin and returns exit status and outputs.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}
	return run(context.Background(), e, args), out.String(), errOut.String()
}

// TestKeysLifecycleNeverLeaksSecrets drives every keys path with known
// secrets, then searches the database files and every output for them.
func TestKeysLifecycleNeverLeaksSecrets(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KEYWATCH_PEPPER_FILE", filepath.Join(dir, "pepper"))
	db := filepath.Join(dir, "kw.db")
	st := "sqlite://" + db
	secrets := []string{
		"sk-proj-AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKK1111",
		"sk-ant-api03-ZZZZyyyyXXXXwwwwVVVVuuuuTTTTssssRRRR2222-QQQQ",
	}
	var outputs strings.Builder
	step := func(wantCode int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runIn(t, stdin, args...)
		outputs.WriteString(out + errOut)
		if code != wantCode {
			t.Fatalf("keywatch %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errOut)
		}
		return out
	}
	inv := filepath.Join(dir, "inv.yaml")
	os.WriteFile(inv, []byte("keys:\n  - id: imported-1\n    owner: a@example.com\n    service: svc\n    env: prod\n"), 0o600)
	step(0, "", "keys", "import", "--store", st, inv)
	step(0, secrets[0]+"\n", "keys", "add", "--store", st, "--id", "k1", "--owner", "dana@example.com",
		"--service", "search", "--env", "prod", "--expires", "2099-01-01", "--secret-file", "-")
	secretPath := filepath.Join(dir, "new-secret")
	os.WriteFile(secretPath, []byte(secrets[1]), 0o600)
	step(0, "", "keys", "rotate", "k1", "--store", st, "--secret-file", secretPath, "--reason", "scheduled")
	step(0, "", "keys", "disable", "k1", "--store", st, "--reason", "INC-1")
	step(0, "", "keys", "enable", "k1", "--store", st)
	list := step(0, "", "keys", "list", "--store", st)
	if !strings.Contains(list, "k1") || !strings.Contains(list, "..."+secrets[1][len(secrets[1])-4:]) {
		t.Errorf("list lacks the key or its hint:\n%s", list)
	}
	var shown keywatch.StoredKey
	if err := json.Unmarshal([]byte(step(0, "", "keys", "show", "k1", "--store", st, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Fingerprint == "" || len(shown.OldFingerprints) != 1 || shown.Last4 != secrets[1][len(secrets[1])-4:] {
		t.Errorf("rotation not recorded: %+v", shown)
	}
	step(1, "", "keys", "audit", "--store", st) // imported-1 has no expiry, route or quota
	step(0, "", "audit", "verify", "--store", st)
	step(2, "", "keys", "add", "--store", st, "--id", "k2", "--secret-file", filepath.Join(dir, "missing"))

	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) || bytes.Contains(b, []byte(s[:20])) {
				t.Errorf("%s holds a secret", filepath.Base(f))
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(outputs.String(), s[:20]) {
			t.Errorf("outputs hold a secret:\n%s", outputs.String())
		}
	}

	// Tampering with the audit log is detected.
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`UPDATE audit SET reason = 'nothing to see' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if out := step(1, "", "audit", "verify", "--store", st); !strings.Contains(out, "entry 2") {
		t.Errorf("verify did not name the tampered entry:\n%s", out)
	}
}

// TestKeysImportFromProviders imports from fake Anthropic and LiteLLM admin
// APIs through the command line, with the admin key in the environment.
func TestKeysImportFromProviders(t *testing.T) {
	st := "sqlite://" + filepath.Join(t.TempDir(), "kw.db")
	an := providertest.NewAnthropic(t)
	ws := "wrkspc_01"
	hint := "sk-ant-api03-R2D...IgAA"
	for i := 0; i < 25; i++ {
		an.AddKey(providertest.AnthropicKey{ID: fmt.Sprintf("apikey_%02d", i), Type: "api_key", Name: fmt.Sprintf("svc-%d", i),
			WorkspaceID: &ws, CreatedAt: "2026-08-01T00:00:00Z", CreatedBy: providertest.AnthropicCreatedBy{ID: "user_1", Type: "user"},
			PartialKeyHint: &hint, Status: "active"})
	}
	t.Setenv("ANTHROPIC_ADMIN_KEY", an.AdminKey)
	code, out, stderr := runIn(t, "", "keys", "import", "--store", st, "--from", "anthropic", "--base-url", an.URL, "--json")
	if code != 0 {
		t.Fatalf("import: exit %d %s", code, stderr)
	}
	if !strings.Contains(out, `"imported": 25`) {
		t.Errorf("import output: %s", out)
	}
	if strings.Contains(out+stderr, an.AdminKey) {
		t.Error("admin key in output")
	}
	code, out, _ = runIn(t, "", "keys", "show", "anthropic:apikey_07", "--store", st, "--json")
	if code != 0 || !strings.Contains(out, `"redacted": "sk-ant-api03-R2D...IgAA"`) {
		t.Errorf("show imported key: exit %d %s", code, out)
	}

	// A wrong admin key is a clear error that does not echo it.
	t.Setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-wrong-key-material")
	code, _, stderr = runIn(t, "", "keys", "import", "--store", st, "--from", "anthropic", "--base-url", an.URL)
	if code == 0 || strings.Contains(stderr, "wrong-key-material") || !strings.Contains(stderr, "anthropic") {
		t.Errorf("wrong admin key: exit %d, stderr %q", code, stderr)
	}
	// No admin key at all: usage error naming the variable.
	t.Setenv("OPENAI_ADMIN_KEY", "")
	if code, _, stderr = runIn(t, "", "keys", "import", "--store", st, "--from", "openai"); code != 2 || !strings.Contains(stderr, "OPENAI_ADMIN_KEY") {
		t.Errorf("missing admin key: exit %d %q", code, stderr)
	}
}
