// Package store opens a keywatch.Store by URL, the form --store takes:
// sqlite://PATH for the embedded database, postgres://... or
// postgresql://... for a shared PostgreSQL.
package store

import (
	"context"
	"strings"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/postgres"
	"github.com/keywatch/keywatch/sqlite"
)

// Open opens the store at url:
//
//   - sqlite://PATH: a SQLite file, created if missing; PATH is relative
//     (sqlite://keywatch.db) or absolute (sqlite:///var/lib/keywatch.db).
//   - postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS] (or postgresql://):
//     PostgreSQL through a pgx pool; PARAMS may set search_path.
//
// Either applies pending schema migrations. Errors never show a password.
func Open(ctx context.Context, url string) (keywatch.Store, error) {
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return s, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	scheme, _, ok := strings.Cut(url, "://")
	if !ok {
		scheme = "none"
	}
	return nil, keywatch.Errorf(keywatch.EINVALID,
		"open store: unknown scheme %q: want sqlite://PATH, postgres://... or postgresql://...", scheme)
}
