package scan

import "bytes"

// Braintrust keys are a generic "sk-" and 48 letters and digits, so they
// need the word braintrust nearby (trufflehog's keyword). A legacy OpenAI
// key has the same length, and is left to the OpenAI rule.

var braintrustKey = (&Rule{
	ID:          "braintrust-api-key",
	Provider:    "braintrust",
	Description: "Braintrust API key (needs the word braintrust nearby).",
	Format:      "sk- + 48 [A-Za-z0-9] (51) without the OpenAI marker, within ContextWindow bytes of \"braintrust\"",
	Keywords:    []string{"sk-"},
	Context:     []string{"braintrust"},
	MinEntropy:  4.0,
	segs:        []seg{lit("sk-"), run(alnum, 48)},
	valid:       func(s []byte) bool { return !bytes.Contains(s, []byte(openaiMarker)) },
	Example:     "sk-{a48}",
	TP:          []string{`BRAINTRUST_API_KEY=$KEY`},
	FP:          []string{`API_KEY=sk-{a48}`, `BRAINTRUST_API_KEY=sk-{a47}`},
}).finish()
