// Command loadgen measures the latency the keywatch gateway adds to a
// request, against a direct call and against nginx, for
// scripts/bench-gateway.sh. Its modes:
//
//	loadgen upstream -listen ADDR
//	    a minimal OpenAI-compatible upstream: every request gets the same
//	    chat completion with usage.
//	loadgen gateway -listen ADDR -upstream URL -dir DIR [-nethttp] [-cpuprofile FILE]
//	    a keywatch gateway on a SQLite store in DIR with one issued key
//	    (written to DIR/key), MemoryState (or -redis URL) and a no-op sink,
//	    on its own server as keywatch gateway run serves it, or on
//	    net/http's with -nethttp, as serve does.
//	loadgen goproxy|fastproxy|gnetproxy -listen ADDR -upstream URL
//	    bare reverse proxies without keywatch's checks, on net/http, on
//	    fasthttp and on one gnet event loop: the floors of a Go proxy on
//	    each.
//	loadgen load -url URL -rate R -duration D -label NAME -out FILE
//	    a constant-rate, open-loop load: request i is due at start+i/R
//	    whatever happened to earlier ones, and its latency is measured
//	    from that due time, so a stall is charged to every request it
//	    delays (no coordinated omission). Appends one result line to FILE.
//	loadgen report FILE
//	    the table of percentiles, added latency over "direct" and the
//	    gateway/nginx ratio.
//
// It is a benchmark tool, never run in CI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen upstream|gateway|goproxy|fastproxy|gnetproxy|load|report [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "upstream":
		err = runUpstream(ctx, os.Args[2:])
	case "gateway":
		err = runGateway(ctx, os.Args[2:])
	case "goproxy":
		err = runGoProxy(ctx, os.Args[2:])
	case "fastproxy":
		err = runFastProxy(ctx, os.Args[2:])
	case "gnetproxy":
		err = runGnetProxy(ctx, os.Args[2:])
	case "load":
		err = runLoad(ctx, os.Args[2:])
	case "report":
		err = runReport(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q: want upstream, gateway, goproxy, fastproxy, gnetproxy, load or report", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}
