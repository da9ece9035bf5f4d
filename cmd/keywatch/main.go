// Command keywatch detects and contains LLM API key theft and token abuse.
// This package holds only wiring: one file per subcommand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/keywatch/keywatch"
)

// command is one subcommand. Run gets the arguments after the subcommand's
// name and returns an error; errors with code EINVALID exit 2, others 1.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch of the process, so that tests can run
// commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// interactive is true when stderr is a terminal: commands then show
	// progress.
	interactive bool
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// errFindings makes a check command exit 1 without printing an error.
var errFindings = errors.New("findings")

func main() {
	// SIGTERM too: service managers stop serve with it, and serve then
	// checkpoints before it exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, interactive: isTerminal(os.Stderr)}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run dispatches to a subcommand and maps its error to an exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "keywatch: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFindings):
		return 1
	}
	fmt.Fprintf(e.stderr, "keywatch %s: %v\n", c.name, err)
	if keywatch.ErrorCode(err) == keywatch.EINVALID {
		return 2
	}
	return 1
}

func usage(w io.Writer) {
	fmt.Fprint(w, `keywatch detects and contains LLM API key theft and token abuse.

Usage: keywatch COMMAND [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Run 'keywatch COMMAND --help' for a command's flags and an example.
Start here: keywatch demo
`)
}

// newFlags returns a flag set whose --help prints usageText (which should
// carry an example) followed by the flags. Parse errors become EINVALID.
func newFlags(e *env, name, usageText string) *flag.FlagSet {
	fs := flag.NewFlagSet("keywatch "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, strings.TrimSpace(usageText))
		fmt.Fprintln(e.stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args with fs, so that a usage error exits 2 and --help 0.
func parseFlags(fs *flag.FlagSet, args []string) error { return parseFlagsAny(fs, args) }

func parseFlagsAny(fs interface{ Parse([]string) error }, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &keywatch.Error{Code: keywatch.EINVALID, Message: "usage", Err: err}
	}
	return nil
}
