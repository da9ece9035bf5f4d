// Package inventory reads and writes the inventory file of DESIGN.md (YAML,
// or CSV with the same names as columns) and indexes keys by id for
// enrichment.
package inventory

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/keywatch/keywatch"
	"go.yaml.in/yaml/v3"
)

// file is the on-disk shape. Dates and CIDRs are strings so that errors can
// name the line and the field.
type file struct {
	Keys []yaml.Node `yaml:"keys"`
}

type record struct {
	keywatch.Key `yaml:",inline"`
	Created      string   `yaml:"created,omitempty"`
	Expires      string   `yaml:"expires,omitempty"`
	Rotated      string   `yaml:"rotated,omitempty"`
	CIDRs        []string `yaml:"cidrs,omitempty"`
}

// Load reads an inventory YAML file.
func Load(path string) ([]keywatch.Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	keys, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("inventory %s: %w", path, err)
	}
	return keys, nil
}

// Parse decodes inventory YAML. Unknown fields are errors, and every error
// names the line of the key it is about.
func Parse(b []byte) ([]keywatch.Key, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err != io.EOF {
		return nil, keywatch.Errorf(keywatch.EINVALID, "%v", err)
	}
	keys := make([]keywatch.Key, 0, len(f.Keys))
	seen := make(map[string]int, len(f.Keys))
	for i := range f.Keys {
		n := &f.Keys[i]
		if err := checkFields(n); err != nil {
			return nil, keywatch.Errorf(keywatch.EINVALID, "%v", err)
		}
		var r record
		if err := n.Decode(&r); err != nil {
			return nil, keywatch.Errorf(keywatch.EINVALID, "line %d: %v", n.Line, err)
		}
		k, err := r.key()
		if err != nil {
			return nil, keywatch.Errorf(keywatch.EINVALID, "line %d: key %q: %v", n.Line, r.ID, err)
		}
		if prev, dup := seen[k.ID]; dup {
			return nil, keywatch.Errorf(keywatch.EINVALID, "line %d: key %q already defined at line %d", n.Line, k.ID, prev)
		}
		seen[k.ID] = n.Line
		keys = append(keys, k)
	}
	return keys, nil
}

// fields are the names a key record may have; Node.Decode does not honour
// KnownFields, so checkFields enforces strictness itself.
var fields = map[string]bool{
	"id": true, "provider": true, "name": true, "owner": true, "team": true, "service": true,
	"env": true, "oncall": true, "created": true, "expires": true, "rotated": true, "status": true,
	"models": true, "operations": true, "countries": true, "cidrs": true, "quotas": true, "labels": true,
}

// nested are the names allowed inside the mapping fields.
var nested = map[string]map[string]bool{
	"oncall": {"slack": true, "pagerduty": true, "webhook": true, "email": true},
	"quotas": {"rpm": true, "tpm": true, "tokens_per_day": true, "monthly_budget_usd": true},
}

func checkFields(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a key must be a mapping of field names to values", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, val := n.Content[i].Value, n.Content[i+1]
		if !fields[name] {
			return fmt.Errorf("line %d: unknown field %q", n.Content[i].Line, name)
		}
		allowed, ok := nested[name]
		if !ok || val.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(val.Content); j += 2 {
			if sub := val.Content[j].Value; !allowed[sub] {
				return fmt.Errorf("line %d: unknown field %s.%s", val.Content[j].Line, name, sub)
			}
		}
	}
	return nil
}

func (r *record) key() (keywatch.Key, error) {
	k := r.Key
	if strings.TrimSpace(k.ID) == "" {
		return k, fmt.Errorf("field id: required")
	}
	var err error
	if k.Created, err = parseDate("created", r.Created); err != nil {
		return k, err
	}
	if k.Expires, err = parseDate("expires", r.Expires); err != nil {
		return k, err
	}
	if k.Rotated, err = parseDate("rotated", r.Rotated); err != nil {
		return k, err
	}
	for _, c := range r.CIDRs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return k, fmt.Errorf("field cidrs: %q is not a CIDR prefix", c)
		}
		k.CIDRs = append(k.CIDRs, p.Masked())
	}
	switch k.Status {
	case "", keywatch.KeyActive, keywatch.KeyClamped, keywatch.KeyDisabled, keywatch.KeyRevoked:
	default:
		return k, fmt.Errorf("field status: %q is not one of active, clamped, disabled, revoked", k.Status)
	}
	return k, nil
}

// parseDate accepts a date (2026-06-01, midnight UTC) or an RFC 3339 time.
func parseDate(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("field %s: %q is not a date (2006-01-02) or RFC 3339 time", field, s)
}

// Write encodes keys as inventory YAML that Parse reads back unchanged.
func Write(w io.Writer, keys []keywatch.Key) error {
	out := struct {
		Keys []record `yaml:"keys"`
	}{Keys: make([]record, len(keys))}
	for i, k := range keys {
		r := record{Key: k, Created: formatDate(k.Created), Expires: formatDate(k.Expires), Rotated: formatDate(k.Rotated)}
		for _, p := range k.CIDRs {
			r.CIDRs = append(r.CIDRs, p.String())
		}
		out.Keys[i] = r
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode inventory: %w", err)
	}
	return enc.Close()
}

func formatDate(t time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case t.Equal(t.Truncate(24 * time.Hour)):
		return t.UTC().Format(time.DateOnly)
	default:
		return t.UTC().Format(time.RFC3339)
	}
}

// Index finds keys by id. It is read-only after New and safe for concurrent
// use.
type Index struct {
	byID map[string]*keywatch.Key
}

// NewIndex indexes keys; the slice must not change afterwards.
func NewIndex(keys []keywatch.Key) *Index {
	ix := &Index{byID: make(map[string]*keywatch.Key, len(keys))}
	for i := range keys {
		ix.byID[keys[i].ID] = &keys[i]
	}
	return ix
}

// Lookup returns the key with the given id, or nil. A nil Index finds
// nothing.
func (ix *Index) Lookup(id string) *keywatch.Key {
	if ix == nil {
		return nil
	}
	return ix.byID[id]
}

// Len returns the number of keys.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.byID)
}
