package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/server"
)

func init() {
	register(&command{name: "tokens", summary: "API tokens of keywatch serve: create, list, revoke", run: runTokens})
}

const tokensUsage = `
Usage: keywatch tokens SUBCOMMAND [flags]

Bearer tokens for keywatch serve's API. Roles: ingest (send usage), viewer
(read alerts and metrics), responder (viewer, plus acknowledge, confirm,
resolve), admin (everything). Only a token's hash is stored: the secret is
printed once, at creation.

Subcommands:
  create --role ROLE [--name NAME]   make a token and print its secret once
  list                               list tokens (never their secrets)
  revoke ID                          revoke a token

Example:
  keywatch tokens create --role ingest --name litellm-proxy --store sqlite://keywatch.db
`

func runTokens(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, strings.TrimSpace(tokensUsage))
		if len(args) == 0 {
			return keywatch.Errorf(keywatch.EINVALID, "name a subcommand")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	var sf storeFlags
	fs := newFlags(e, "tokens "+sub, tokensUsage)
	sf.register(fs)
	role := fs.String("role", "", "role of the new token: ingest, viewer, responder or admin")
	name := fs.String("name", "", "what the token is for")
	var id string
	var err error
	switch sub {
	case "create", "list":
		err = parseFlags(fs, args)
		if err == nil && fs.NArg() > 0 {
			err = keywatch.Errorf(keywatch.EINVALID, "unexpected argument %q", fs.Arg(0))
		}
	case "revoke":
		id, err = parseWithID(fs, args)
	default:
		return keywatch.Errorf(keywatch.EINVALID, "unknown subcommand %q (see keywatch tokens --help)", sub)
	}
	if err != nil {
		return err
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	switch sub {
	case "create":
		tok, secret, hash, err := server.NewToken(*name, keywatch.Role(*role), time.Now())
		if err != nil {
			return err
		}
		if err := s.CreateToken(ctx, tok, hash, sf.change()); err != nil {
			return err
		}
		if sf.json {
			return writeJSON(e.stdout, map[string]any{"token": tok, "secret": secret})
		}
		fmt.Fprintf(e.stderr, "created %s (%s); its secret is shown this once:\n", tok.ID, tok.Role)
		fmt.Fprintln(e.stdout, secret)
		return nil
	case "revoke":
		if err := s.RevokeToken(ctx, id, sf.change()); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s\n", id)
		return nil
	}
	toks, err := s.Tokens(ctx)
	if err != nil {
		return err
	}
	if sf.json {
		if toks == nil {
			toks = []keywatch.Token{}
		}
		return writeJSON(e.stdout, toks)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tREVOKED")
	for _, t := range toks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", t.ID, orDash(t.Name), t.Role, t.Created.Format(time.DateOnly), t.Revoked)
	}
	return tw.Flush()
}
