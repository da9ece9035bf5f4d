package schema_test

import (
	"strings"
	"testing"

	"github.com/keywatch/keywatch/store/schema"
)

func TestMigrationsPerDialect(t *testing.T) {
	for d, want := range map[schema.Dialect]string{schema.SQLite: "BLOB", schema.Postgres: "BYTEA"} {
		ms, err := schema.Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) < 3 || ms[0].Version != 1 {
			t.Fatalf("dialect %d: migrations %v", d, ms)
		}
		all := ""
		for _, m := range ms {
			all += m.SQL
		}
		if strings.Contains(all, "{{") || !strings.Contains(all, want+" NOT NULL") {
			t.Errorf("dialect %d: placeholders not replaced with %s", d, want)
		}
	}
}
