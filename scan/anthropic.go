package scan

// Anthropic keys end in "AA" after 93 characters of [A-Za-z0-9_-].

var anthropicAPI = (&Rule{
	ID:          "anthropic-api-key",
	Provider:    "anthropic",
	Description: "Anthropic API key.",
	Format:      "sk-ant-api03- + 93 [A-Za-z0-9_-] + AA (108)",
	Keywords:    []string{"sk-ant-api03-"},
	MinEntropy:  3.3,
	segs:        []seg{lit("sk-ant-api03-"), run(urlSafe, 93), lit("AA")},
	Example:     "sk-ant-api03-{u93}AA",
	TP:          []string{`ANTHROPIC_API_KEY=$KEY`, `x-api-key: $KEY`, `anthropic.Anthropic(api_key='$KEY')`},
	FP: []string{
		`model="claude-3-5-sonnet-20241022"`,
		`sk-ant-api03-{u93}AB`,
		`sk-ant-api03-{u92}AA`,
		`sk-ant-api03-{u93}AAA`,
		`ANTHROPIC_API_KEY=sk-ant-api03-...`,
	},
}).finish()

var anthropicAdmin = (&Rule{
	ID:          "anthropic-admin-key",
	Provider:    "anthropic",
	Description: "Anthropic Admin API key.",
	Format:      "sk-ant-admin01- + 93 [A-Za-z0-9_-] + AA (110)",
	Keywords:    []string{"sk-ant-admin01-"},
	MinEntropy:  3.3,
	segs:        []seg{lit("sk-ant-admin01-"), run(urlSafe, 93), lit("AA")},
	Example:     "sk-ant-admin01-{u93}AA",
	TP:          []string{`ANTHROPIC_ADMIN_KEY="$KEY"`},
	FP:          []string{`sk-ant-admin01-{u94}AA`, `sk-ant-admin02-{u93}AA`},
}).finish()
