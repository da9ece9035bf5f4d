package scan

// Together AI's current keys look like "tgp_v1_" and 43 base64url
// characters. No public scanner has a rule for them; the shape comes from
// keys observed in public code (KEY-FORMATS.md). Older Together keys (64
// hex digits, no prefix) are not detected.

var togetherKey = (&Rule{
	ID:          "together-api-key",
	Provider:    "together",
	Description: "Together AI API key.",
	Format:      "tgp_v1_ + 43 [A-Za-z0-9_-] (50)",
	Keywords:    []string{"tgp_v1_"},
	MinEntropy:  3.5,
	segs:        []seg{lit("tgp_v1_"), run(urlSafe, 43)},
	Example:     "tgp_v1_{u43}",
	TP:          []string{`TOGETHER_API_KEY=$KEY`},
	FP:          []string{`tgp_v1_{u42}`, `tgp_v1_{u44}`},
}).finish()
