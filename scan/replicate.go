package scan

var replicateToken = (&Rule{
	ID:          "replicate-api-token",
	Provider:    "replicate",
	Description: "Replicate API token.",
	Format:      "r8_ + 37 [A-Za-z0-9_-] (40)",
	Keywords:    []string{"r8_"},
	MinEntropy:  3.5,
	segs:        []seg{lit("r8_"), run(urlSafe, 37)},
	Example:     "r8_{a37}",
	TP:          []string{`REPLICATE_API_TOKEN=$KEY`},
	FP:          []string{`r8_{a36}`, `r8_{a38}`, `register r8_ = 0x10`},
}).finish()
