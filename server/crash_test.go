package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/server"
	"github.com/keywatch/keywatch/store"
)

// TestMain lets the crash test re-run this binary as a server child.
func TestMain(m *testing.M) {
	if dir := os.Getenv("KW_SERVE_CHILD_DIR"); dir != "" {
		serveChild(dir)
		return
	}
	os.Exit(m.Run())
}

// serveChild runs a server over dir until it is killed, printing its
// address on stdout.
func serveChild(dir string) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "kw.db"))
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Checkpoint = server.Duration(100 * time.Millisecond)
	srv, err := server.New(ctx, cfg, server.Options{Store: st})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	go srv.Run(ctx)
	fmt.Println("ADDR", ln.Addr().String())
	http.Serve(ln, srv.Handler())
}

type child struct {
	cmd  *exec.Cmd
	addr string
}

func startChild(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KW_SERVE_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		cmd.Process.Kill()
		t.Fatalf("child: %q %v", line, err)
	}
	c := &child{cmd: cmd, addr: "http://" + strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))}
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	return c
}

// TestKill9ExactlyOnce kills serve with SIGKILL while a client sends
// events, restarts it, lets the client resend what was not acknowledged,
// and checks that detection processed every event exactly once: nothing
// acknowledged is lost, and nothing resent is counted twice.
func TestKill9ExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "kw.db"))
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, hash, _ := server.NewToken("crash", keywatch.RoleAdmin, time.Now())
	if err := st.CreateToken(ctx, tok, hash, keywatch.Change{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	const batches, perBatch = 60, 500
	at := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	body := func(b int) string {
		var sb strings.Builder
		for i := 0; i < perBatch; i++ {
			n := b*perBatch + i
			fmt.Fprintf(&sb, `{"time":%q,"key_id":"k%d","model":"gpt-4o-mini","input_tokens":100,"status":200,"request_id":"r-%d"}`+"\n",
				at.Add(time.Duration(n)*100*time.Millisecond).Format(time.RFC3339Nano), n%7, n)
		}
		return sb.String()
	}
	post := func(c *child, b int) error {
		req, _ := http.NewRequest("POST", c.addr+"/v1/events", strings.NewReader(body(b)))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}

	// The client sends batches one after another; after the 20th is
	// acknowledged the server is killed, while later batches are in flight.
	c := startChild(t, dir)
	acks := make(chan int, batches)
	go func() {
		defer close(acks)
		for b := 0; b < batches; b++ {
			if post(c, b) != nil {
				return
			}
			acks <- b
		}
	}()
	acked := map[int]bool{}
	for b := range acks {
		acked[b] = true
		if len(acked) == 20 {
			c.cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	c.cmd.Wait()
	t.Logf("%d batches acknowledged before SIGKILL", len(acked))
	if len(acked) < 20 || len(acked) == batches {
		t.Fatalf("the kill did not land mid-stream (%d of %d acknowledged)", len(acked), batches)
	}

	// Restart; the client resends everything, acknowledged or not, as an
	// at-least-once sender would.
	c = startChild(t, dir)
	for b := 0; b < batches; b++ {
		if err := post(c, b); err != nil {
			t.Fatalf("after restart, batch %d: %v", b, err)
		}
	}
	want := int64(batches * perBatch)
	var processed int64
	waitFor(t, "every event to be processed", func() bool {
		req, _ := http.NewRequest("GET", c.addr+"/api/stats", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var s struct{ Processed int64 }
		json.NewDecoder(resp.Body).Decode(&s)
		processed = s.Processed
		return processed >= want
	})
	time.Sleep(300 * time.Millisecond) // anything processed twice would show now
	if processed != want {
		t.Fatalf("processed %d events, want exactly %d", processed, want)
	}
}
