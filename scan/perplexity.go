package scan

var perplexityKey = (&Rule{
	ID:          "perplexity-api-key",
	Provider:    "perplexity",
	Description: "Perplexity API key.",
	Format:      "pplx- + 48 [A-Za-z0-9] (53)",
	Keywords:    []string{"pplx-"},
	MinEntropy:  3.8,
	segs:        []seg{lit("pplx-"), run(alnum, 48)},
	Example:     "pplx-{a48}",
	TP:          []string{`PERPLEXITY_API_KEY="$KEY"`},
	FP:          []string{`pplx-{a47}`, `pplx-{a49}`, `model: pplx-70b-online`},
}).finish()
