package scan

// Cohere keys have no prefix: 40 letters and digits, found only near
// "cohere" or "CO_API_KEY" and only with mixed case (a SHA-1 hex digest is
// 40 characters too).

var cohereKey = (&Rule{
	ID:          "cohere-api-key",
	Provider:    "cohere",
	Description: "Cohere API key (needs cohere or CO_API_KEY nearby).",
	Format:      "40 [A-Za-z0-9] with upper and lower case, within ContextWindow bytes of \"cohere\" or \"co_api_key\"",
	Keywords:    []string{"cohere", "co_api_key"},
	MinEntropy:  4.0,
	token:       &tokenShape{set: alnum, n: 40, mixedCase: true},
	Example:     "{a40}",
	TP:          []string{`COHERE_API_KEY=$KEY`, `CO_API_KEY: "$KEY"`, `co = cohere.ClientV2("$KEY")`},
	FP: []string{
		`COHERE_API_KEY={a39}`,
		`cohere==5.0.0 # pinned at commit {h40}`,
		`model = "command-r-plus" # cohere`,
	},
}).finish()
