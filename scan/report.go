package scan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// ReportVersion is the version of the JSON report's schema. Fields are
// added, never renamed or removed, within a version.
const ReportVersion = 1

// Report is what keywatch scan found, as the JSON, SARIF and table
// formats show it. It never holds a secret: each finding carries its
// redacted preview and its fingerprint.
type Report struct {
	Version int    `json:"version"`
	Tool    string `json:"tool"`
	// Findings are the findings left after suppression, sorted by path,
	// line, column and rule.
	Findings []Result `json:"findings"`
	// Suppressed counts findings dropped because the baseline knows them.
	Suppressed int `json:"suppressed"`
}

// Result is one finding in a report.
type Result struct {
	Rule     string `json:"rule"`
	Provider string `json:"provider"`
	// Path is the file the key was found in (for history findings, its
	// path in the first commit listed), relative to the scanned root where
	// it lies under it; "stdin" for standard input.
	Path string `json:"path"`
	// Line and Column (1-based, in bytes) locate the secret's first byte;
	// EndColumn is just past its last byte when it is on one line.
	Line      int `json:"line"`
	Column    int `json:"column"`
	EndColumn int `json:"end_column"`
	// Encoding is the chain of encodings the key was found under, empty for
	// plain text.
	Encoding string `json:"encoding,omitempty"`
	// Redacted is the first 8 and last 4 characters of the secret.
	Redacted string `json:"redacted"`
	// Fingerprint is the HMAC-SHA256 of the secret under the local pepper:
	// the same value the inventory keeps, and the baseline's key.
	Fingerprint string `json:"fingerprint"`
	// Commits that added the secret, for history findings; CommitCount is
	// how many there were in all when the list is cut short. keywatch scan
	// reports a key found at one path in many versions of history once:
	// at its place in the working tree if it is still there, else in the
	// oldest version, with the commits of every version (oldest first).
	Commits     []CommitRef `json:"commits,omitempty"`
	CommitCount int         `json:"commit_count,omitempty"`
	// Matches are the inventory keys the finding maps to (with --store).
	Matches []Match `json:"matches,omitempty"`
	// Verification is the provider's answer (with --verify).
	Verification *Verification `json:"verification,omitempty"`
}

// AddCommits adds to r the commits of another version of history where
// the same key sits at the same path, count of them in all (when cs is cut
// short): the oldest MaxCommits are listed, CommitCount counts them all.
// A commit sets a path to one blob, so versions share no commit.
func (r *Result) AddCommits(cs []Commit, count int) {
	total := max(r.CommitCount, len(r.Commits)) + max(count, len(cs))
	for _, c := range cs {
		if len(r.Commits) == MaxCommits && !c.AuthorDate.Before(r.Commits[MaxCommits-1].AuthorDate) {
			continue // newer than every commit listed: counted only
		}
		ref := CommitRef{SHA: c.SHA, Path: c.Path, Author: c.Author, AuthorDate: c.AuthorDate}
		i, _ := slices.BinarySearchFunc(r.Commits, ref, func(a, b CommitRef) int {
			return cmp.Or(a.AuthorDate.Compare(b.AuthorDate), strings.Compare(a.SHA, b.SHA))
		})
		r.Commits = slices.Insert(r.Commits, i, ref)
		r.Commits = r.Commits[:min(len(r.Commits), MaxCommits)]
	}
	r.CommitCount = 0
	if total > len(r.Commits) {
		r.CommitCount = total
	}
}

// CommitRef is one commit a history finding was seen in.
type CommitRef struct {
	SHA        string    `json:"sha"`
	Path       string    `json:"path,omitempty"`
	Author     string    `json:"author,omitempty"`
	AuthorDate time.Time `json:"author_date,omitzero"`
}

// NewResult returns f as a report result with fingerprint fp. Path is f's
// source name; callers that know better (a path relative to a root) set
// it after.
func NewResult(f *Finding, fp string) Result {
	r := Result{
		Rule: f.Rule, Provider: f.Provider, Path: f.Source,
		Line: f.Line, Column: f.Column, Encoding: f.Encoding,
		Redacted: f.Redacted, Fingerprint: fp,
	}
	if f.End > f.Offset {
		r.EndColumn = f.Column + int(f.End-f.Offset)
	}
	fillSource(&r, f)
	return r
}

// Sort orders results by path, line, column, rule and fingerprint.
func Sort(rs []Result) {
	slices.SortStableFunc(rs, func(a, b Result) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
}

// WriteJSON writes r as JSON, one finding a line: as readable as fully
// indented JSON for a report of a few findings, and a fraction of its size
// and time for one of thousands (a history scan's commits).
func (r *Report) WriteJSON(w io.Writer) error {
	var b bytes.Buffer
	tool, err := json.Marshal(r.Tool)
	if err != nil {
		return err
	}
	fmt.Fprintf(&b, "{\n  \"version\": %d,\n  \"tool\": %s,\n  \"findings\": [", r.Version, tool)
	var line []byte
	for i := range r.Findings {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		if line, err = r.Findings[i].appendJSON(line[:0]); err != nil {
			return err
		}
		b.Write(line)
		if b.Len() >= 64<<10 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if len(r.Findings) > 0 {
		b.WriteString("\n  ")
	}
	fmt.Fprintf(&b, "],\n  \"suppressed\": %d\n}\n", r.Suppressed)
	_, err = w.Write(b.Bytes())
	return err
}

// appendJSON appends r as encoding/json encodes it without HTML escaping,
// field by field: a history report lists thousands of commits, and
// reflection was most of the time spent writing it. Matches and
// Verification, rare, go through encoding/json.
func (r *Result) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"rule":`...)
	b = appendJSONString(b, r.Rule)
	b = append(b, `,"provider":`...)
	b = appendJSONString(b, r.Provider)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, r.Path)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(r.Line), 10)
	b = append(b, `,"column":`...)
	b = strconv.AppendInt(b, int64(r.Column), 10)
	b = append(b, `,"end_column":`...)
	b = strconv.AppendInt(b, int64(r.EndColumn), 10)
	if r.Encoding != "" {
		b = append(b, `,"encoding":`...)
		b = appendJSONString(b, r.Encoding)
	}
	b = append(b, `,"redacted":`...)
	b = appendJSONString(b, r.Redacted)
	b = append(b, `,"fingerprint":`...)
	b = appendJSONString(b, r.Fingerprint)
	if len(r.Commits) > 0 {
		b = append(b, `,"commits":[`...)
		for i, c := range r.Commits {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"sha":`...)
			b = appendJSONString(b, c.SHA)
			if c.Path != "" {
				b = append(b, `,"path":`...)
				b = appendJSONString(b, c.Path)
			}
			if c.Author != "" {
				b = append(b, `,"author":`...)
				b = appendJSONString(b, c.Author)
			}
			if !c.AuthorDate.IsZero() {
				if y := c.AuthorDate.Year(); y < 0 || y > 9999 {
					return nil, fmt.Errorf("commit %s: author date year %d outside [0,9999]", c.SHA, y)
				}
				b = append(b, `,"author_date":"`...)
				b = c.AuthorDate.AppendFormat(b, time.RFC3339Nano)
				b = append(b, '"')
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if r.CommitCount != 0 {
		b = append(b, `,"commit_count":`...)
		b = strconv.AppendInt(b, int64(r.CommitCount), 10)
	}
	for _, f := range []struct {
		name string
		v    any
		omit bool
	}{{"matches", r.Matches, len(r.Matches) == 0}, {"verification", r.Verification, r.Verification == nil}} {
		if f.omit {
			continue
		}
		var e bytes.Buffer
		enc := json.NewEncoder(&e)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f.v); err != nil {
			return nil, err
		}
		b = append(append(append(b, `,"`...), f.name...), `":`...)
		b = append(b, bytes.TrimSuffix(e.Bytes(), []byte{'\n'})...)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string, as encoding/json writes
// it without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			var e bytes.Buffer
			enc := json.NewEncoder(&e)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			return append(b, bytes.TrimSuffix(e.Bytes(), []byte{'\n'})...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// WriteTable writes r as a table for people: one line a finding, then a
// summary line.
func (r *Report) WriteTable(w io.Writer) error {
	if len(r.Findings) == 0 {
		fmt.Fprintf(w, "no leaked keys found")
		if r.Suppressed > 0 {
			fmt.Fprintf(w, " (%d suppressed by the baseline)", r.Suppressed)
		}
		_, err := fmt.Fprintln(w)
		return err
	}
	verify := slices.ContainsFunc(r.Findings, func(x Result) bool { return x.Verification != nil })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "PROVIDER\tRULE\tLOCATION\tCOMMIT\tSECRET\tINVENTORY"
	if verify {
		head += "\tLIVE"
	}
	fmt.Fprintln(tw, head)
	matched := 0
	for _, x := range r.Findings {
		if len(x.Matches) > 0 {
			matched++
		}
		loc := fmt.Sprintf("%s:%d:%d", x.Path, x.Line, x.Column)
		if x.Encoding != "" {
			loc += " (" + x.Encoding + ")"
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", x.Provider, x.Rule, loc, commitCell(x), x.Redacted, matchCell(x.Matches))
		if verify {
			v := "-"
			if x.Verification != nil {
				v = string(x.Verification.Result)
				if x.Verification.HTTPStatus != 0 {
					v += fmt.Sprintf(" (%d)", x.Verification.HTTPStatus)
				}
			}
			line += "\t" + v
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d leaked keys found, %d matched to the inventory", len(r.Findings), matched)
	if r.Suppressed > 0 {
		fmt.Fprintf(w, ", %d suppressed by the baseline", r.Suppressed)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// commitCell is the first commit's short SHA and author date, and how many
// more there are.
func commitCell(x Result) string {
	if len(x.Commits) == 0 {
		return "-"
	}
	c := x.Commits[0]
	s := c.SHA[:min(len(c.SHA), 8)]
	if !c.AuthorDate.IsZero() {
		s += " " + c.AuthorDate.UTC().Format(time.DateOnly)
	}
	if n := max(x.CommitCount, len(x.Commits)); n > 1 {
		s += fmt.Sprintf(" +%d", n-1)
	}
	return s
}

// matchCell describes inventory matches: "k1 (current, owner, status)",
// or "probable: k1, k2" when only redacted forms matched.
func matchCell(ms []Match) string {
	if len(ms) == 0 {
		return "-"
	}
	if ms[0].Exact() {
		m := ms[0]
		parts := []string{string(m.Kind)}
		if m.Owner != "" {
			parts = append(parts, m.Owner)
		}
		if m.Status != "" {
			parts = append(parts, string(m.Status))
		}
		return m.KeyID + " (" + strings.Join(parts, ", ") + ")"
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.KeyID
	}
	s := "probable: " + strings.Join(ids, ", ")
	if len(ms) > 1 {
		s += " (ambiguous)"
	}
	return s
}

// fillSource sets r's path and commits from where f was found: f.Path when
// a source scan set it, and the commits of a history finding.
func fillSource(r *Result, f *Finding) {
	if f.Path != "" {
		r.Path = f.Path
	}
	for _, c := range f.Commits {
		r.Commits = append(r.Commits, CommitRef{SHA: c.SHA, Path: c.Path, Author: c.Author, AuthorDate: c.AuthorDate})
	}
	if f.CommitCount > len(f.Commits) {
		r.CommitCount = f.CommitCount
	}
	if len(r.Commits) > 0 && r.Commits[0].Path != "" {
		r.Path = r.Commits[0].Path
	}
}
