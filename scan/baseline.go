package scan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/keywatch/keywatch"
)

// BaselineVersion is the only baseline file version this package reads.
const BaselineVersion = 1

// Baseline is a set of known findings that a scan does not report again,
// each known by fingerprint, path and rule. Fingerprints are HMACs under the
// local pepper, so a baseline only suppresses findings fingerprinted with
// the same pepper (share the pepper file with CI as a secret). The file
// holds no secret and is meant to be committed.
type Baseline struct {
	Version  int             `json:"version"`
	Findings []BaselineEntry `json:"findings"`

	index map[BaselineEntry]bool
}

// BaselineEntry is one known finding.
type BaselineEntry struct {
	Fingerprint string `json:"fingerprint"`
	Path        string `json:"path"`
	Rule        string `json:"rule"`
}

// NewBaseline returns the baseline of results, sorted and without
// duplicates.
func NewBaseline(results []Result) *Baseline {
	b := &Baseline{Version: BaselineVersion, Findings: []BaselineEntry{}}
	for _, r := range results {
		b.Findings = append(b.Findings, entryOf(r))
	}
	slices.SortFunc(b.Findings, func(x, y BaselineEntry) int {
		return cmp.Or(cmp.Compare(x.Path, y.Path), cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.Fingerprint, y.Fingerprint))
	})
	b.Findings = slices.Compact(b.Findings)
	return b
}

func entryOf(r Result) BaselineEntry {
	return BaselineEntry{Fingerprint: r.Fingerprint, Path: r.Path, Rule: r.Rule}
}

// ReadBaseline decodes a baseline strictly: unknown fields, another version
// or an entry without a fingerprint are EINVALID errors.
func ReadBaseline(r io.Reader) (*Baseline, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Baseline
	if err := dec.Decode(&b); err != nil {
		return nil, keywatch.Errorf(keywatch.EINVALID, "read baseline: %v", err)
	}
	if b.Version != BaselineVersion {
		return nil, keywatch.Errorf(keywatch.EINVALID, "read baseline: version %d, want %d", b.Version, BaselineVersion)
	}
	for i, e := range b.Findings {
		if e.Fingerprint == "" {
			return nil, keywatch.Errorf(keywatch.EINVALID, "read baseline: findings[%d]: no fingerprint", i)
		}
	}
	return &b, nil
}

// Write encodes b as indented JSON.
func (b *Baseline) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}

// Contains reports whether r is a known finding. A nil Baseline contains
// nothing.
func (b *Baseline) Contains(r Result) bool {
	if b == nil {
		return false
	}
	if b.index == nil {
		b.index = make(map[BaselineEntry]bool, len(b.Findings))
		for _, e := range b.Findings {
			b.index[e] = true
		}
	}
	return b.index[entryOf(r)]
}
