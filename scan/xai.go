package scan

var xaiKey = (&Rule{
	ID:          "xai-api-key",
	Provider:    "xai",
	Description: "xAI (Grok) API key.",
	Format:      "xai- + 80 [A-Za-z0-9_] (84)",
	Keywords:    []string{"xai-"},
	MinEntropy:  4.0,
	segs:        []seg{lit("xai-"), run(wordChr, 80)},
	Example:     "xai-{w80}",
	TP:          []string{`XAI_API_KEY=$KEY`},
	FP:          []string{`xai-{w79}`, `xai-{w81}`, `model: grok-2-1212`, `import xai-sdk`},
}).finish()
