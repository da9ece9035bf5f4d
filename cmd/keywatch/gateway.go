package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/secret"
)

func init() {
	register(&command{name: "gateway", summary: "keywatch's OpenAI-compatible gateway: issue keys, run it alone", run: runGateway})
}

const gatewayUsage = `
Usage: keywatch gateway SUBCOMMAND [flags]

keywatch's OpenAI-compatible gateway: services call it with keywatch-issued
keys instead of provider keys. It runs inside serve (keywatch serve
--gateway, usage straight into detection) or alone (keywatch gateway run,
usage forwarded to a serve over HTTP), as many instances as needed.

Subcommands:
  issue    issue a gateway key (kwk_...) for a service; prints it once
  run      run a gateway instance alone, forwarding usage to keywatch serve

Example:
  keywatch gateway issue --id search-prod-gw --service search-api --env prod --models gpt-4o-mini --rpm 600
  OPENAI_API_KEY=sk-... ANTHROPIC_API_KEY=sk-ant-... keywatch serve --gateway --listen 127.0.0.1:8080
  KEYWATCH_TOKEN=kwt_... OPENAI_API_KEY=sk-... ANTHROPIC_API_KEY=sk-ant-... \
    keywatch gateway run --serve http://127.0.0.1:8080 --listen 127.0.0.1:8081
`

func runGateway(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, strings.TrimSpace(gatewayUsage))
		if len(args) == 0 {
			return keywatch.Errorf(keywatch.EINVALID, "name a subcommand")
		}
		return nil
	}
	switch args[0] {
	case "issue":
		return gatewayIssue(ctx, e, args[1:])
	case "run":
		return gatewayRun(ctx, e, args[1:])
	}
	return keywatch.Errorf(keywatch.EINVALID, "unknown subcommand %q (see keywatch gateway --help)", args[0])
}

func gatewayIssue(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlags(e, "gateway issue", `
Usage: keywatch gateway issue --id ID [flags]

Generates a gateway key (kwk_ and 32 random bytes), prints it once on
stdout, and stores only its fingerprint. A new id becomes an inventory key
of provider keywatch with the given fields; an existing gateway key is
rotated: its previous secret keeps working for the gateway's rotation
grace period.

Example:
  keywatch gateway issue --id search-prod-gw --service search-api --env prod \
    --owner dana@example.com --models gpt-4o-mini --rpm 600 --expires 2027-06-01
`)
	sf.register(fs)
	var k keywatch.Key
	fs.StringVar(&k.ID, "id", "", "key `id`; required")
	fs.StringVar(&k.Service, "service", "", "calling service")
	fs.StringVar(&k.Env, "env", "", "environment: prod, staging, dev")
	fs.StringVar(&k.Owner, "owner", "", "owner, for alerts and rotation notices")
	fs.StringVar(&k.Team, "team", "", "owning team")
	models := fs.String("models", "", "allowed models, comma-separated (default: any)")
	ops := fs.String("operations", "", "allowed operations, comma-separated: chat, embeddings, ... (default: any)")
	expires := fs.String("expires", "", "expiry `date` (YYYY-MM-DD)")
	fs.Int64Var(&k.Quotas.RPM, "rpm", 0, "requests per minute (0: no limit)")
	fs.Int64Var(&k.Quotas.TPM, "tpm", 0, "tokens per minute (0: no limit)")
	fs.Int64Var(&k.Quotas.TokensPerDay, "tokens-per-day", 0, "tokens per UTC day (0: no limit)")
	pepperFile := fs.String("pepper-file", "", "pepper `file` for fingerprints (default $KEYWATCH_PEPPER_FILE or ~/.config/keywatch/pepper)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if k.ID == "" {
		return keywatch.Errorf(keywatch.EINVALID, "--id is required")
	}
	if fs.NArg() > 0 {
		return keywatch.Errorf(keywatch.EINVALID, "unexpected argument %q", fs.Arg(0))
	}
	k.Models, k.Operations = splitList(*models), splitList(*ops)
	var err error
	if k.Expires, err = flagDate("expires", *expires); err != nil {
		return err
	}
	pepper, err := secret.LoadPepper(*pepperFile)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	sec, err := gateway.Issue(ctx, s, pepper, k, time.Now().UTC(), sf.change())
	if err != nil {
		return err
	}
	if sf.json {
		return writeJSON(e.stdout, map[string]any{"key_id": k.ID, "key": sec, "last4": secret.Last4([]byte(sec))})
	}
	fmt.Fprintln(e.stdout, sec)
	fmt.Fprintf(e.stderr, "issued gateway key %s (...%s); it is shown only now: store it in the service's secret manager\n",
		k.ID, secret.Last4([]byte(sec)))
	return nil
}
