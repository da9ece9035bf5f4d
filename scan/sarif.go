package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// SARIF output: SARIF 2.1.0 in the shape GitHub code scanning ingests
// (docs.github.com, "SARIF support for code scanning"): one run, the tool's
// rules with a security-severity, and results whose partialFingerprints
// carry the key's fingerprint so that GitHub tracks one alert per leaked
// secret across commits. Snippets are the redacted preview, never the
// secret.

// SARIF constants.
const (
	SARIFSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	SARIFVersion = "2.1.0"
	// SARIFFingerprint is the partialFingerprints entry holding the key's
	// fingerprint.
	SARIFFingerprint = "keywatch/v1"
	// SARIFSecuritySeverity is every rule's security-severity: a working
	// LLM key is critical (GitHub: 9.0 and over).
	SARIFSecuritySeverity = "9.0"
	// InformationURI is the project's home, shown by SARIF viewers.
	InformationURI = "https://github.com/keywatch/keywatch"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	InformationURI  string      `json:"informationUri"`
	SemanticVersion string      `json:"semanticVersion"`
	Rules           []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	Help             sarifText      `json:"help"`
	DefaultConfig    map[string]any `json:"defaultConfiguration"`
	Properties       map[string]any `json:"properties"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int       `json:"startLine"`
	StartColumn int       `json:"startColumn"`
	EndLine     int       `json:"endLine,omitempty"`
	EndColumn   int       `json:"endColumn,omitempty"`
	Snippet     sarifText `json:"snippet"`
}

// WriteSARIF writes r as a SARIF 2.1.0 log. version is keywatch's semantic
// version ("dev" builds give "0.0.0-dev"). Every built-in rule is listed,
// sorted by id, so that code scanning can describe any rule it sees.
func (r *Report) WriteSARIF(w io.Writer, version string) error {
	rules := Rules()
	index := map[string]int{}
	driver := sarifDriver{Name: "keywatch", InformationURI: InformationURI, SemanticVersion: semver(version)}
	for i, rule := range rules {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, sarifRuleOf(rule))
	}
	results := []sarifResult{}
	for _, x := range r.Findings {
		i, ok := index[x.Rule]
		if !ok {
			return fmt.Errorf("write sarif: unknown rule %q", x.Rule)
		}
		results = append(results, sarifResultOf(x, i))
	}
	log := sarifLog{Schema: SARIFSchema, Version: SARIFVersion,
		Runs: []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// semver turns a build version into a SARIF semanticVersion: "v1.2.3"
// becomes "1.2.3", and an empty or non-numeric one "0.0.0-dev".
func semver(v string) string {
	v = strings.TrimPrefix(v, "v")
	if v == "" || v[0] < '0' || v[0] > '9' {
		return "0.0.0-dev"
	}
	return v
}

func sarifRuleOf(r *Rule) sarifRule {
	help := fmt.Sprintf("%s Expected format: %s.\n\nA leaked key must be revoked and replaced at %s: removing it from the file or rewriting history does not make it safe, since copies may exist. Then record the rotation (keywatch keys rotate) so that the old secret still maps to its key. For a known false positive, add `keywatch:allow` on the line or add the finding to the baseline (keywatch scan --write-baseline).",
		r.Description, r.Format, r.Provider)
	return sarifRule{
		ID:               r.ID,
		Name:             ruleName(r.ID),
		ShortDescription: sarifText{Text: r.Description},
		FullDescription:  sarifText{Text: r.Description + " Format: " + r.Format + "."},
		Help:             sarifText{Text: help, Markdown: help},
		DefaultConfig:    map[string]any{"level": "error"},
		Properties: map[string]any{
			"tags":              []string{"security", "secret", "llm", r.Provider},
			"security-severity": SARIFSecuritySeverity,
			"precision":         "high",
			"problem.severity":  "error",
		},
	}
}

// ruleName turns a rule id into the CamelCase name SARIF viewers show:
// "openai-project-key" → "OpenaiProjectKey".
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sarifResultOf(x Result, ruleIndex int) sarifResult {
	msg := fmt.Sprintf("%s key %s found", x.Provider, x.Redacted)
	if x.Encoding != "" {
		msg += " (" + x.Encoding + " encoded)"
	}
	if len(x.Commits) > 0 {
		msg += " in commit " + x.Commits[0].SHA[:min(len(x.Commits[0].SHA), 12)]
	}
	if len(x.Matches) > 0 {
		msg += "; " + matchCell(x.Matches)
	}
	msg += ". Revoke and rotate it."
	res := sarifResult{
		RuleID:    x.Rule,
		RuleIndex: ruleIndex,
		Level:     "error",
		Message:   sarifText{Text: msg},
		Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
			ArtifactLocation: sarifArtifact{URI: sarifURI(x.Path), URIBaseID: "%SRCROOT%"},
			Region: sarifRegion{
				StartLine: max(x.Line, 1), StartColumn: max(x.Column, 1),
				Snippet: sarifText{Text: x.Redacted},
			},
		}}},
		PartialFingerprints: map[string]string{SARIFFingerprint: x.Fingerprint},
	}
	if x.EndColumn > x.Column {
		res.Locations[0].PhysicalLocation.Region.EndLine = max(x.Line, 1)
		res.Locations[0].PhysicalLocation.Region.EndColumn = x.EndColumn
	}
	props := map[string]any{"provider": x.Provider}
	if len(x.Commits) > 0 {
		props["commits"] = x.Commits
	}
	if len(x.Matches) > 0 {
		props["inventory"] = x.Matches
	}
	if x.Verification != nil {
		props["verification"] = x.Verification
	}
	res.Properties = props
	return res
}

// sarifURI makes a report path a relative URI reference: forward slashes,
// and each segment percent-encoded where needed. An archive member's
// "outer.zip!inner" path stays as it is ("!" is allowed in URIs).
func sarifURI(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = escapeSegment(s)
	}
	return strings.Join(segs, "/")
}

func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
