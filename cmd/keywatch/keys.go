package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/provider"
	"github.com/keywatch/keywatch/secret"
	"github.com/keywatch/keywatch/store"
)

func init() {
	register(&command{name: "keys", summary: "the key inventory: import, add, list, show, disable, enable, rotate, audit", run: runKeys})
}

const keysUsage = `
Usage: keywatch keys SUBCOMMAND [flags]

The key inventory, kept in a store (--store, default sqlite://keywatch.db).
Secrets are never stored: a key is known by its id and by a fingerprint
(HMAC-SHA256 of the secret under a local pepper file, KEYWATCH_PEPPER_FILE
or ~/.config/keywatch/pepper) with its last 4 characters.

Subcommands:
  import FILE             import keys from inventory YAML or CSV
  import --from PROVIDER  import from litellm, openai or anthropic (admin key
                          from LITELLM_MASTER_KEY, OPENAI_ADMIN_KEY or
                          ANTHROPIC_ADMIN_KEY)
  add --id ID ...         add or update one key; --secret-file PATH (- for
                          stdin) records its fingerprint
  list                    list keys (--service, --status, --owner filters)
  show ID                 one key in full
  disable ID, enable ID   change a key's status (--reason)
  rotate ID               record a new secret (--secret-file); the old
                          fingerprint stays findable for leak matching
  audit                   governance findings; exit 1 when there are any
  issue --id ID ...       issue a keywatch gateway key (kwk_...) for a service
                          and environment; printed once, stored as a fingerprint

Every subcommand takes --store URL and --json. Every change is recorded in
the hash-chained audit log (keywatch audit verify).

Example:
  keywatch keys import inventory.yaml
  keywatch keys add --id search-prod-1 --owner dana@example.com --service search \
      --env prod --expires 2027-06-01 --secret-file - < key.txt
  keywatch keys audit --json
`

const defaultStore = "sqlite://keywatch.db"

// storeFlags are the flags every store-backed subcommand shares.
type storeFlags struct {
	url, actor, reason string
	json               bool
}

func (sf *storeFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&sf.url, "store", envOr("KEYWATCH_STORE", defaultStore), "store `URL`: sqlite://PATH or postgres://... (env KEYWATCH_STORE)")
	fs.BoolVar(&sf.json, "json", false, "machine-readable JSON output")
	fs.StringVar(&sf.actor, "actor", defaultActor(), "who makes the change, for the audit log")
	fs.StringVar(&sf.reason, "reason", "", "why, for the audit log")
}

func (sf *storeFlags) change() keywatch.Change {
	return keywatch.Change{Actor: sf.actor, Reason: sf.reason}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func defaultActor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, strings.TrimSpace(keysUsage))
		if len(args) == 0 {
			return keywatch.Errorf(keywatch.EINVALID, "name a subcommand")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "import":
		return keysImport(ctx, e, args)
	case "add":
		return keysAdd(ctx, e, args)
	case "list":
		return keysList(ctx, e, args)
	case "show":
		return keysShow(ctx, e, args)
	case "disable", "enable":
		return keysSetStatus(ctx, e, sub, args)
	case "rotate":
		return keysRotate(ctx, e, args)
	case "audit":
		return keysAudit(ctx, e, args)
	case "issue":
		return gatewayIssue(ctx, e, args)
	}
	return keywatch.Errorf(keywatch.EINVALID, "unknown subcommand %q (see keywatch keys --help)", sub)
}

func openStore(ctx context.Context, url string) (keywatch.Store, error) {
	s, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func keysImport(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlags(e, "keys import", `
Usage: keywatch keys import [flags] FILE
       keywatch keys import [flags] --from litellm|openai|anthropic [--base-url URL]

Imports keys from an inventory file (YAML, or CSV when the name ends in .csv;
- reads YAML from stdin) or from a provider's admin API. Keys already in the
store are updated; fingerprints recorded earlier are kept.

Example:
  keywatch keys import inventory.yaml
  OPENAI_ADMIN_KEY=... keywatch keys import --from openai
`)
	sf.register(fs)
	from := fs.String("from", "", "import from a provider's admin API: litellm, openai or anthropic")
	baseURL := fs.String("base-url", "", "the provider API's base `URL` (default: the provider's public API; LiteLLM: http://localhost:4000)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var keys []keywatch.StoredKey
	switch {
	case *from != "" && fs.NArg() == 0:
		l, err := lister(*from, *baseURL)
		if err != nil {
			return err
		}
		if keys, err = l.ListKeys(ctx); err != nil {
			return err
		}
	case *from == "" && fs.NArg() == 1:
		name := fs.Arg(0)
		var r io.Reader = e.stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return keywatch.Errorf(keywatch.EINVALID, "open inventory: %v", err)
			}
			defer f.Close()
			r = f
		}
		plain, err := inventory.LoadAny(name, r)
		if err != nil {
			return err
		}
		for _, k := range plain {
			keys = append(keys, keywatch.StoredKey{Key: k})
		}
	default:
		return keywatch.Errorf(keywatch.EINVALID, "name one inventory file, or --from a provider (see --help)")
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	c := sf.change()
	if c.Reason == "" {
		c.Reason = "import"
	}
	if err := s.PutKeys(ctx, keys, c); err != nil {
		return err
	}
	if sf.json {
		return writeJSON(e.stdout, map[string]any{"imported": len(keys)})
	}
	fmt.Fprintf(e.stdout, "imported %s keys into %s\n", thousands(int64(len(keys))), redactURL(sf.url))
	return nil
}

// lister returns the provider adapter for name, its admin credential taken
// from the environment, never from the command line.
func lister(name, baseURL string) (provider.Lister, error) {
	need := func(env string) (string, error) {
		v := os.Getenv(env)
		if v == "" {
			return "", keywatch.Errorf(keywatch.EINVALID, "set %s to the %s admin key (it is never read from the command line)", env, name)
		}
		return v, nil
	}
	switch name {
	case "litellm":
		k, err := need("LITELLM_MASTER_KEY")
		if err != nil {
			return nil, err
		}
		if baseURL == "" {
			baseURL = "http://localhost:4000"
		}
		return provider.NewLiteLLM(baseURL, k), nil
	case "openai":
		k, err := need("OPENAI_ADMIN_KEY")
		if err != nil {
			return nil, err
		}
		return provider.NewOpenAI(baseURL, k), nil
	case "anthropic":
		k, err := need("ANTHROPIC_ADMIN_KEY")
		if err != nil {
			return nil, err
		}
		return provider.NewAnthropic(baseURL, k), nil
	}
	return nil, keywatch.Errorf(keywatch.EINVALID, "--from %q: want litellm, openai or anthropic", name)
}

func keysAdd(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlags(e, "keys add", `
Usage: keywatch keys add --id ID [flags]

Adds a key to the inventory, or updates it. With --secret-file the secret is
read from the file (- for stdin), fingerprinted and forgotten: only the
fingerprint and the last 4 characters are stored. Secrets are never taken
from the command line, where shell history and ps would see them.

Example:
  keywatch keys add --id search-prod-1 --provider openai --owner dana@example.com \
      --service search-api --env prod --expires 2027-06-01 \
      --models gpt-4o-mini,text-embedding-3-small --rpm 600 \
      --slack https://hooks.slack.com/services/... --secret-file - < key.txt
`)
	sf.register(fs)
	var k keywatch.Key
	fs.StringVar(&k.ID, "id", "", "key id (required): the key_id events carry")
	fs.StringVar(&k.Provider, "provider", "", "provider: openai, anthropic, ...")
	fs.StringVar(&k.Name, "name", "", "display name")
	fs.StringVar(&k.Owner, "owner", "", "owner's e-mail")
	fs.StringVar(&k.Team, "team", "", "team")
	fs.StringVar(&k.Service, "service", "", "service that uses the key")
	fs.StringVar(&k.Env, "env", "", "environment: prod, staging, dev")
	fs.StringVar(&k.OnCall.Slack, "slack", "", "on-call Slack incoming webhook URL")
	fs.StringVar(&k.OnCall.PagerDuty, "pagerduty", "", "on-call PagerDuty routing key")
	fs.StringVar(&k.OnCall.Webhook, "webhook", "", "on-call webhook URL")
	fs.StringVar(&k.OnCall.Email, "email", "", "on-call e-mail")
	created := fs.String("created", "", "creation `date` (2006-01-02)")
	expires := fs.String("expires", "", "expiry `date` (2006-01-02)")
	models := fs.String("models", "", "allowed models, comma-separated")
	ops := fs.String("operations", "", "allowed operations, comma-separated")
	countries := fs.String("countries", "", "allowed countries, comma-separated")
	fs.Int64Var(&k.Quotas.RPM, "rpm", 0, "quota: requests per minute")
	fs.Int64Var(&k.Quotas.TPM, "tpm", 0, "quota: tokens per minute")
	fs.Int64Var(&k.Quotas.TokensPerDay, "tokens-per-day", 0, "quota: tokens per day")
	fs.Float64Var(&k.Quotas.MonthlyBudgetUSD, "monthly-budget", 0, "quota: monthly budget in USD")
	secretFile := fs.String("secret-file", "", "read the key's secret from `PATH` (- for stdin) to record its fingerprint")
	pepperFile := fs.String("pepper-file", "", "pepper `file` for fingerprints (default $KEYWATCH_PEPPER_FILE or ~/.config/keywatch/pepper)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if k.ID == "" || fs.NArg() > 0 {
		return keywatch.Errorf(keywatch.EINVALID, "give --id and no other arguments; secrets come from --secret-file, never the command line")
	}
	var err error
	if k.Created, err = flagDate("created", *created); err != nil {
		return err
	}
	if k.Expires, err = flagDate("expires", *expires); err != nil {
		return err
	}
	k.Models, k.Operations, k.Countries = splitList(*models), splitList(*ops), splitList(*countries)
	sk := keywatch.StoredKey{Key: k}
	if *secretFile != "" {
		if sk.Fingerprint, sk.Last4, err = fingerprintFile(e, *secretFile, *pepperFile); err != nil {
			return err
		}
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.PutKeys(ctx, []keywatch.StoredKey{sk}, sf.change()); err != nil {
		return err
	}
	if sf.json {
		return writeJSON(e.stdout, map[string]any{"added": k.ID, "fingerprint": sk.Fingerprint, "last4": sk.Last4})
	}
	fmt.Fprintf(e.stdout, "added %s", k.ID)
	if sk.Last4 != "" {
		fmt.Fprintf(e.stdout, " (secret ...%s fingerprinted)", sk.Last4)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

// fingerprintFile reads a secret from path (- for stdin) and returns its
// fingerprint and last 4 characters. The secret never leaves this function,
// and errors never quote it.
func fingerprintFile(e *env, path, pepperPath string) (fp, last4 string, err error) {
	var raw []byte
	if path == "-" {
		raw, err = io.ReadAll(io.LimitReader(e.stdin, 64<<10))
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return "", "", keywatch.Errorf(keywatch.EINVALID, "read secret file: %v", err)
	}
	sec := []byte(strings.TrimSpace(string(raw)))
	clear(raw)
	if len(sec) < 8 {
		return "", "", keywatch.Errorf(keywatch.EINVALID, "secret file %s: too short to be an API key", path)
	}
	pepper, err := secret.LoadPepper(pepperPath)
	if err != nil {
		return "", "", err
	}
	fp, last4 = secret.Fingerprint(pepper, sec), secret.Last4(sec)
	clear(sec)
	return fp, last4, nil
}

func flagDate(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, keywatch.Errorf(keywatch.EINVALID, "--%s %q: want a date like 2027-06-01", name, v)
	}
	return t, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func keysList(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlags(e, "keys list", `
Usage: keywatch keys list [flags]

Lists the inventory, optionally filtered.

Example:
  keywatch keys list --service search-api --status active
`)
	sf.register(fs)
	var f keywatch.KeyFilter
	fs.StringVar(&f.Service, "service", "", "only keys of this service")
	fs.StringVar(&f.Owner, "owner", "", "only keys of this owner")
	fs.StringVar(&f.Team, "team", "", "only keys of this team")
	fs.StringVar(&f.Env, "env", "", "only keys of this environment")
	status := fs.String("status", "", "only keys with this status: active, clamped, disabled, revoked")
	fs.IntVar(&f.Limit, "limit", 0, "at most this many keys (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f.Status = keywatch.KeyStatus(*status)
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	keys, err := s.Keys(ctx, f)
	if err != nil {
		return err
	}
	if sf.json {
		if keys == nil {
			keys = []keywatch.StoredKey{}
		}
		return writeJSON(e.stdout, keys)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSERVICE\tENV\tOWNER\tEXPIRES\tLAST USED\tSECRET")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, orDash(string(k.Status)), orDash(k.Service), orDash(k.Env),
			orDash(k.Owner), dateOrDash(k.Expires), dateOrDash(k.LastUsed), secretHint(&k))
	}
	return tw.Flush()
}

func secretHint(k *keywatch.StoredKey) string {
	switch {
	case k.Last4 != "":
		return "..." + k.Last4
	case k.Redacted != "":
		return k.Redacted
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dateOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

func keysShow(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlags(e, "keys show", `
Usage: keywatch keys show [flags] ID

Shows one key in full (never a secret: only its fingerprint and last 4).

Example:
  keywatch keys show search-prod-1 --json
`)
	sf.register(fs)
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	k, err := s.Key(ctx, id)
	if err != nil {
		return err
	}
	if sf.json {
		return writeJSON(e.stdout, k)
	}
	b, _ := json.MarshalIndent(k, "", "  ")
	fmt.Fprintln(e.stdout, string(b))
	return nil
}

// parseWithID parses flags that may come before or after one positional id.
func parseWithID(fs interface {
	Parse([]string) error
	NArg() int
	Arg(int) string
	Args() []string
}, args []string) (string, error) {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlagsAny(fs, args); err != nil {
		return "", err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 || id == "" {
		return "", keywatch.Errorf(keywatch.EINVALID, "give exactly one key id")
	}
	return id, nil
}

func keysSetStatus(ctx context.Context, e *env, sub string, args []string) error {
	var sf storeFlags
	fs := newFlags(e, "keys "+sub, fmt.Sprintf(`
Usage: keywatch keys %[1]s [flags] ID

Marks a key %[1]sd in the inventory, recorded in the audit log with --reason.

Example:
  keywatch keys %[1]s search-prod-1 --reason "leaked in CI log, INC-123"
`, sub))
	sf.register(fs)
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	st := keywatch.KeyDisabled
	if sub == "enable" {
		st = keywatch.KeyActive
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetKeyStatus(ctx, id, st, sf.change()); err != nil {
		return err
	}
	if sf.json {
		return writeJSON(e.stdout, map[string]any{"key_id": id, "status": st})
	}
	fmt.Fprintf(e.stdout, "%s is now %s\n", id, st)
	return nil
}

func keysRotate(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlags(e, "keys rotate", `
Usage: keywatch keys rotate [flags] ID --secret-file PATH

Records that a key's secret was replaced: the new secret's fingerprint and
last 4 characters become current, and the old fingerprint stays findable so
that a leak of the old secret still maps to this key.

Example:
  keywatch keys rotate search-prod-1 --secret-file - < new-key.txt
`)
	sf.register(fs)
	secretFile := fs.String("secret-file", "", "read the new secret from `PATH` (- for stdin); required")
	pepperFile := fs.String("pepper-file", "", "pepper `file` for fingerprints")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	if *secretFile == "" {
		return keywatch.Errorf(keywatch.EINVALID, "--secret-file is required: the new secret, from a file or - for stdin")
	}
	fp, last4, err := fingerprintFile(e, *secretFile, *pepperFile)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.RotateKey(ctx, id, fp, last4, time.Now().UTC(), sf.change()); err != nil {
		return err
	}
	if sf.json {
		return writeJSON(e.stdout, map[string]any{"key_id": id, "fingerprint": fp, "last4": last4})
	}
	fmt.Fprintf(e.stdout, "%s rotated: secret ...%s is now current\n", id, last4)
	return nil
}

func keysAudit(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlags(e, "keys audit", `
Usage: keywatch keys audit [flags]

Checks every key for governance problems: missing owner or expiry, expired
but active, not rotated within --rotation-days, unused for --unused-days,
used in more than one environment, no on-call route, no quota, model access
broader than the key uses. Exits 1 when there are findings, so it can gate CI.

Example:
  keywatch keys audit
  keywatch keys audit --json --rotation-days 60
`)
	sf.register(fs)
	rotation := fs.Int("rotation-days", 90, "rotation limit in days")
	unused := fs.Int("unused-days", 30, "a key unused this many days is reported")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	keys, err := s.Keys(ctx, keywatch.KeyFilter{})
	if err != nil {
		return err
	}
	findings := inventory.Audit(keys, time.Now().UTC(), inventory.AuditOptions{
		RotationAge: time.Duration(*rotation) * 24 * time.Hour,
		UnusedAge:   time.Duration(*unused) * 24 * time.Hour,
	})
	if sf.json {
		if findings == nil {
			findings = []inventory.Finding{}
		}
		if err := writeJSON(e.stdout, map[string]any{"keys": len(keys), "findings": findings}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tCHECK\tSEVERITY\tDETAIL")
		for _, f := range findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.KeyID, f.Check, f.Severity, f.Detail)
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "\n%d findings on %d keys\n", len(findings), len(keys))
	}
	if len(findings) > 0 {
		return errFindings
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// redactURL drops a password from a store URL before it is shown.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			cred := rest[:at]
			if c := strings.Index(cred, ":"); c >= 0 {
				return u[:i+3] + cred[:c] + ":***" + rest[at:]
			}
		}
	}
	return u
}
