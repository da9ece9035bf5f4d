package inventory_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/inventory"
)

func TestParseCSV(t *testing.T) {
	in := "id,owner,service,env,expires,models,quotas.rpm,oncall.slack,labels\n" +
		"search-prod-1,dana@example.com,search-api,prod,2027-06-01,gpt-4o-mini;text-embedding-3-small,600,https://hooks.slack.com/x,cost_center=cc-42\n" +
		"bare,,,,,,,,\n"
	keys, err := inventory.ParseCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []keywatch.Key{{
		ID: "search-prod-1", Owner: "dana@example.com", Service: "search-api", Env: "prod",
		Expires: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
		Models:  []string{"gpt-4o-mini", "text-embedding-3-small"},
		Quotas:  keywatch.Quotas{RPM: 600},
		OnCall:  keywatch.OnCall{Slack: "https://hooks.slack.com/x"},
		Labels:  map[string]string{"cost_center": "cc-42"},
	}, {ID: "bare"}}
	if diff := cmp.Diff(want, keys, prefixEq); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestParseCSVErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown column", "id,colour\na,red\n", `line 1: unknown column "colour"`},
		{"no id column", "owner\na\n", "no id column"},
		{"bad quota", "id,quotas.rpm\na,1\nb,lots\n", `line 3: key "b": field quotas.rpm`},
		{"bad date", "id,expires\na,soon\n", `line 2: key "a": field expires`},
		{"bad label", "id,labels\na,nolabel\n", "field labels"},
		{"missing id", "id,owner\n,me\n", "field id: required"},
		{"duplicate", "id\na\na\n", "already defined at line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inventory.ParseCSV(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) || keywatch.ErrorCode(err) != keywatch.EINVALID {
				t.Fatalf("error %v, want an invalid-input error containing %q", err, tt.want)
			}
		})
	}
}
