package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/secret"
	"github.com/keywatch/keywatch/store"
)

// TestGatewayIssue issues then re-issues a key and checks that only its
// fingerprint is stored.
func TestGatewayIssue(t *testing.T) {
	dir := t.TempDir()
	pepperPath := filepath.Join(dir, "pepper")
	t.Setenv("KEYWATCH_PEPPER_FILE", pepperPath)
	st := "sqlite://" + filepath.Join(dir, "kw.db")
	code, out, errOut := runIn(t, "", "gateway", "issue", "--store", st, "--id", "gw-1", "--service", "search",
		"--env", "prod", "--models", "gpt-4o-mini", "--rpm", "60")
	sec := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(sec, gateway.KeyPrefix) || len(sec) != len(gateway.KeyPrefix)+43 {
		t.Fatalf("issue: exit %d, out %q, err %s", code, out, errOut)
	}
	if strings.Contains(errOut, sec) {
		t.Error("secret printed to stderr")
	}
	code, out2, _ := runIn(t, "", "gateway", "issue", "--store", st, "--id", "gw-1")
	if code != 0 || strings.TrimSpace(out2) == sec {
		t.Fatalf("re-issue: exit %d", code)
	}
	s, err := store.Open(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k, err := s.Key(context.Background(), "gw-1")
	if err != nil {
		t.Fatal(err)
	}
	pepper, _ := secret.LoadPepper(pepperPath)
	if k.Provider != gateway.ProviderKeywatch || k.Quotas.RPM != 60 || k.Fingerprint != secret.Fingerprint(pepper, []byte(strings.TrimSpace(out2))) ||
		len(k.OldFingerprints) != 1 || k.OldFingerprints[0] != secret.Fingerprint(pepper, []byte(sec)) {
		t.Errorf("stored key = %+v", k)
	}
	if code, _, _ := runIn(t, "", "gateway", "issue", "--store", st); code != 2 {
		t.Errorf("no --id: exit %d, want 2", code)
	}
}
