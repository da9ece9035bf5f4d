package scan

var cerebrasKey = (&Rule{
	ID:          "cerebras-api-key",
	Provider:    "cerebras",
	Description: "Cerebras API key.",
	Format:      "csk- + 48 [A-Za-z0-9] (52)",
	Keywords:    []string{"csk-"},
	MinEntropy:  3.0,
	segs:        []seg{lit("csk-"), run(alnum, 48)},
	Example:     "csk-{d48}",
	TP:          []string{`CEREBRAS_API_KEY=$KEY`},
	FP:          []string{`csk-{d47}`, `csk-{d49}`, `disk-{d48}`},
}).finish()
