package inventory

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/keywatch/keywatch"
)

// CSV columns: the inventory's field names, nested ones dotted. Lists are
// separated by ';', labels written as k=v;k2=v2.
var csvColumns = map[string]bool{
	"id": true, "provider": true, "name": true, "owner": true, "team": true, "service": true, "env": true,
	"created": true, "expires": true, "rotated": true, "status": true,
	"models": true, "operations": true, "countries": true, "cidrs": true, "labels": true,
	"oncall.slack": true, "oncall.pagerduty": true, "oncall.webhook": true, "oncall.email": true,
	"quotas.rpm": true, "quotas.tpm": true, "quotas.tokens_per_day": true, "quotas.monthly_budget_usd": true,
}

// ParseCSV reads an inventory CSV: a header row of field names (any order,
// only id required), then one key a row. Errors name the line and the
// column.
func ParseCSV(r io.Reader) ([]keywatch.Key, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "%v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !csvColumns[h] {
			return nil, keywatch.Errorf(keywatch.EINVALID, "line 1: unknown column %q", h)
		}
		if _, dup := col[h]; dup {
			return nil, keywatch.Errorf(keywatch.EINVALID, "line 1: column %q given twice", h)
		}
		col[h] = i
	}
	if _, ok := col["id"]; !ok {
		return nil, keywatch.Errorf(keywatch.EINVALID, "line 1: no id column")
	}
	var keys []keywatch.Key
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, keywatch.Errorf(keywatch.EINVALID, "%v", err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		r, err := csvRecord(get)
		if err == nil {
			var k keywatch.Key
			if k, err = r.key(); err == nil {
				if prev, dup := seen[k.ID]; dup {
					return nil, keywatch.Errorf(keywatch.EINVALID, "line %d: key %q already defined at line %d", line, k.ID, prev)
				}
				seen[k.ID] = line
				keys = append(keys, k)
				continue
			}
		}
		return nil, keywatch.Errorf(keywatch.EINVALID, "line %d: key %q: %v", line, get("id"), err)
	}
	return keys, nil
}

func csvRecord(get func(string) string) (*record, error) {
	r := &record{Created: get("created"), Expires: get("expires"), Rotated: get("rotated"), CIDRs: list(get("cidrs"))}
	k := &r.Key
	k.ID, k.Provider, k.Name, k.Owner = get("id"), get("provider"), get("name"), get("owner")
	k.Team, k.Service, k.Env = get("team"), get("service"), get("env")
	k.Status = keywatch.KeyStatus(get("status"))
	k.Models, k.Operations, k.Countries = list(get("models")), list(get("operations")), list(get("countries"))
	k.OnCall = keywatch.OnCall{Slack: get("oncall.slack"), PagerDuty: get("oncall.pagerduty"), Webhook: get("oncall.webhook"), Email: get("oncall.email")}
	var err error
	ints := []struct {
		col string
		dst *int64
	}{{"quotas.rpm", &k.Quotas.RPM}, {"quotas.tpm", &k.Quotas.TPM}, {"quotas.tokens_per_day", &k.Quotas.TokensPerDay}}
	for _, f := range ints {
		if v := get(f.col); v != "" {
			if *f.dst, err = strconv.ParseInt(v, 10, 64); err != nil || *f.dst < 0 {
				return nil, fmt.Errorf("field %s: %q is not a non-negative integer", f.col, v)
			}
		}
	}
	if v := get("quotas.monthly_budget_usd"); v != "" {
		if k.Quotas.MonthlyBudgetUSD, err = strconv.ParseFloat(v, 64); err != nil || k.Quotas.MonthlyBudgetUSD < 0 {
			return nil, fmt.Errorf("field quotas.monthly_budget_usd: %q is not a non-negative number", v)
		}
	}
	for _, kv := range list(get("labels")) {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("field labels: %q is not name=value", kv)
		}
		if k.Labels == nil {
			k.Labels = map[string]string{}
		}
		k.Labels[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return r, nil
}

// list splits a ';'-separated cell, dropping empty items.
func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// LoadAny reads an inventory file as CSV when its name ends in .csv, and as
// YAML otherwise.
func LoadAny(path string, r io.Reader) ([]keywatch.Key, error) {
	var keys []keywatch.Key
	var err error
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		keys, err = ParseCSV(r)
	} else {
		var b []byte
		if b, err = io.ReadAll(r); err == nil {
			keys, err = Parse(b)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("inventory %s: %w", path, err)
	}
	return keys, nil
}
