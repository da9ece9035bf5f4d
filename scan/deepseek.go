package scan

// DeepSeek keys are a generic "sk-" and 32 lower-case hex digits, a shape
// other services share, so a finding needs "deepseek" within
// ContextWindow bytes (as in trufflehog). Kingfisher's entropy floor of 3.7
// would drop about half of all random 32-digit hex strings, so the floor
// here is 3.0 and the context carries the precision.

var deepseekKey = (&Rule{
	ID:          "deepseek-api-key",
	Provider:    "deepseek",
	Description: "DeepSeek API key (needs the word deepseek nearby).",
	Format:      "sk- + 32 [0-9a-f] (35), with \"deepseek\" within ContextWindow bytes",
	Keywords:    []string{"sk-"},
	Context:     []string{"deepseek"},
	MinEntropy:  3.0,
	segs:        []seg{lit("sk-"), run(hexLower, 32)},
	Example:     "sk-{h32}",
	TP: []string{
		`DEEPSEEK_API_KEY=$KEY`,
		`client = OpenAI(api_key="$KEY", base_url="https://api.deepseek.com")`,
	},
	FP: []string{
		`OTHER_API_KEY=sk-{h32}`,
		`DEEPSEEK_API_KEY=sk-{h31}`,
		`DEEPSEEK_API_KEY=sk-{h33}`,
		`DEEPSEEK_API_KEY=sk-{a32}X`,
		`model: deepseek-chat`,
	},
}).finish()
