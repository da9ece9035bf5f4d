package wal_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keywatch/keywatch/wal"
)

const crashDirEnv = "WAL_CRASH_CHILD_DIR"

// crashPayload is record id of the kill -9 test: the id followed by a
// deterministic filler of varying length.
func crashPayload(id uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, id)
	for i := range int(id % 5000) {
		b = append(b, byte(id)+byte(i))
	}
	return b
}

// TestCrashChild is the child of TestKill9. It appends from several
// goroutines until killed, printing "id segment:offset" for each
// acknowledged record.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as the child of TestKill9")
	}
	l, err := wal.Open(wal.Options{Dir: dir, SegmentSize: 256 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := uint64(0); i < 1e6; i++ {
				id := uint64(w)<<32 | i
				p, err := l.Append(context.Background(), crashPayload(id))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %v\n", id, p)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestKill9 runs TestCrashChild in a subprocess, SIGKILLs it mid-stream,
// reopens the log and checks that every acknowledged record is present,
// intact and where Append said it was.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	dir := t.TempDir()
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[uint64]wal.Pos{}
		sc := bufio.NewScanner(stdout)
		killAt := 200 + 150*round
		killed := false
		for sc.Scan() {
			var id uint64
			var ps string
			if _, err := fmt.Sscan(sc.Text(), &id, &ps); err != nil {
				t.Fatalf("child line %q: %v", sc.Text(), err)
			}
			var p wal.Pos
			if err := p.UnmarshalText([]byte(ps)); err != nil {
				t.Fatal(err)
			}
			acked[id] = p
			if !killed && len(acked) >= killAt {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed {
			t.Fatalf("child exited before %d acks: %v", killAt, err)
		}

		l, err := wal.Open(wal.Options{Dir: dir, SegmentSize: 256 << 10})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		t.Logf("round %d: %d acknowledged; recovery %+v", round, len(acked), l.Recovery())
		got := map[wal.Pos][]byte{}
		r := l.Reader(wal.Pos{})
		for r.Pos() != l.End() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			rec, err := r.Next(ctx)
			cancel()
			if err != nil {
				t.Fatalf("round %d: read at %v: %v", round, r.Pos(), err)
			}
			got[rec.Pos] = append([]byte(nil), rec.Data...)
		}
		r.Close()
		for id, p := range acked {
			data, ok := got[p]
			if !ok {
				t.Fatalf("round %d: acknowledged record %x at %v missing", round, id, p)
			}
			if string(data) != string(crashPayload(id)) {
				t.Fatalf("round %d: acknowledged record %x at %v damaged", round, id, p)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
