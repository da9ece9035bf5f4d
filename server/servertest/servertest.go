// Package servertest runs a keywatch server for tests in other packages.
package servertest

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/server"
)

// Start serves srv over HTTP for the test, with its Run loop, and makes a
// token in st for each of roles (named name-role), returned by role. stop
// stops the server and reports Run's error; it runs at the test's end if
// not before, and only once. Register st's Close before calling Start, so
// that the store outlives the server.
func Start(tb testing.TB, srv *server.Server, st keywatch.Store, name string, roles ...keywatch.Role) (hs *httptest.Server, tokens map[keywatch.Role]string, stop func()) {
	tb.Helper()
	ctx := context.Background()
	tokens = map[keywatch.Role]string{}
	for _, role := range roles {
		tok, sec, hash, err := server.NewToken(name+"-"+string(role), role, time.Now())
		if err != nil {
			tb.Fatal(err)
		}
		if err := st.CreateToken(ctx, tok, hash, keywatch.Change{Actor: "test"}); err != nil {
			tb.Fatal(err)
		}
		tokens[role] = sec
	}
	hs = httptest.NewServer(srv.Handler())
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			hs.Close()
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("server: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return hs, tokens, stop
}
