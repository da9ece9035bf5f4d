package scan

// Mistral keys have no prefix: 32 letters and digits. A token of that
// shape counts only within ContextWindow bytes of the word "mistral", and
// only with both upper- and lower-case letters (which every random key of
// this length has, and hex digests and dash-less UUIDs do not).

var mistralKey = (&Rule{
	ID:          "mistral-api-key",
	Provider:    "mistral",
	Description: "Mistral AI API key (needs the word mistral nearby).",
	Format:      "32 [A-Za-z0-9] with upper and lower case, within ContextWindow bytes of \"mistral\"",
	Keywords:    []string{"mistral"},
	MinEntropy:  3.5,
	token:       &tokenShape{set: alnum, n: 32, mixedCase: true},
	Example:     "{a32}",
	TP: []string{
		`MISTRAL_API_KEY=$KEY`,
		`client = Mistral(api_key="$KEY")`,
		"mistral:\n  api_key: $KEY",
	},
	FP: []string{
		`MISTRAL_API_KEY={a31}`,
		`MISTRAL_API_KEY={a33}`,
		`model: mistral-large-latest sha={h32}`,
		`mistral uuid {h8}-{h4}-{h4}-{h4}-{h12}`,
		`OTHER_KEY={a32}`,
	},
}).finish()
