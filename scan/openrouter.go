package scan

var openrouterKey = (&Rule{
	ID:          "openrouter-api-key",
	Provider:    "openrouter",
	Description: "OpenRouter API key.",
	Format:      "sk-or-v1- + 64 [0-9a-f] (73)",
	Keywords:    []string{"sk-or-v1-"},
	MinEntropy:  3.5,
	segs:        []seg{lit("sk-or-v1-"), run(hexLower, 64)},
	Example:     "sk-or-v1-{h64}",
	TP:          []string{`OPENROUTER_API_KEY=$KEY`, `ChatOpenAI(base_url="https://openrouter.ai/api/v1", api_key="$KEY")`},
	FP:          []string{`sk-or-v1-{h63}`, `sk-or-v1-{h65}`, `sk-or-v1-{a64}`, `sk-or-v1-0000000000000000000000000000000000000000000000000000000000000000`},
}).finish()
