package scan

var groqKey = (&Rule{
	ID:          "groq-api-key",
	Provider:    "groq",
	Description: "Groq API key.",
	Format:      "gsk_ + 52 [A-Za-z0-9] (56)",
	Keywords:    []string{"gsk_"},
	MinEntropy:  4.2,
	segs:        []seg{lit("gsk_"), run(alnum, 52)},
	Example:     "gsk_{a52}",
	TP:          []string{`GROQ_API_KEY=$KEY`, `Groq(api_key="$KEY")`},
	FP:          []string{`gsk_{a51}`, `gsk_{a53}`, `gsk_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`, `model: llama-3.1-8b-instant`},
}).finish()
