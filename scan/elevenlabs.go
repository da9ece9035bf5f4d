package scan

var elevenlabsKey = (&Rule{
	ID:          "elevenlabs-api-key",
	Provider:    "elevenlabs",
	Description: "ElevenLabs API key (v2 format).",
	Format:      "sk_ + 48 [0-9a-f] (51)",
	Keywords:    []string{"sk_"},
	MinEntropy:  3.0,
	segs:        []seg{lit("sk_"), run(hexLower, 48)},
	Example:     "sk_{h48}",
	TP:          []string{`ELEVENLABS_API_KEY=$KEY`, `xi-api-key: $KEY`},
	FP:          []string{`sk_live_{a24}`, `sk_{h47}`, `sk_{h49}`, `risk_{h48}`},
}).finish()
