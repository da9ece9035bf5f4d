package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/keywatch/keywatch"
)

func init() {
	register(&command{name: "audit", summary: "read and verify the hash-chained audit log", run: runAudit})
}

const auditUsage = `
Usage: keywatch audit SUBCOMMAND [flags]

The append-only audit log: every change to keys and alerts, who made it,
when and why. Entries are hash-chained, so editing or deleting one breaks
the chain from there on.

Subcommands:
  verify   check the whole chain; exit 1 and name the first broken entry
  list     print entries (--after SEQ, --limit N)

Example:
  keywatch audit verify --store sqlite://keywatch.db
  keywatch audit list --limit 20 --json
`

func runAudit(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, strings.TrimSpace(auditUsage))
		if len(args) == 0 {
			return keywatch.Errorf(keywatch.EINVALID, "name a subcommand")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	var sf storeFlags
	fs := newFlags(e, "audit "+sub, auditUsage)
	sf.register(fs)
	after := fs.Int64("after", 0, "list entries after this sequence number")
	limit := fs.Int("limit", 0, "list at most this many entries (0: all)")
	if sub != "verify" && sub != "list" {
		return keywatch.Errorf(keywatch.EINVALID, "unknown subcommand %q (see keywatch audit --help)", sub)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := openStore(ctx, sf.url)
	if err != nil {
		return err
	}
	defer s.Close()
	if sub == "list" {
		entries, err := s.Audit(ctx, *after, *limit)
		if err != nil {
			return err
		}
		if sf.json {
			if entries == nil {
				entries = []keywatch.AuditEntry{}
			}
			return writeJSON(e.stdout, entries)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tSUBJECT\tREASON")
		for _, a := range entries {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.Seq, a.Time.UTC().Format("2006-01-02 15:04:05"), a.Actor, a.Action, a.Subject, a.Reason)
		}
		return tw.Flush()
	}
	entries, err := s.Audit(ctx, 0, 0)
	if err != nil {
		return err
	}
	verr := keywatch.VerifyAuditChain(entries)
	if sf.json {
		res := map[string]any{"entries": len(entries), "ok": verr == nil}
		if verr != nil {
			res["error"] = verr.Error()
		}
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
	} else if verr == nil {
		fmt.Fprintf(e.stdout, "audit log intact: %d entries, chain verified\n", len(entries))
	} else {
		fmt.Fprintf(e.stdout, "audit log TAMPERED: %v\n", verr)
	}
	if verr != nil {
		return errFindings
	}
	return nil
}
