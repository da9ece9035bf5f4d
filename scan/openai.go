package scan

// OpenAI keys carry "T3BlbkFJ" (base64 of "OpenAI") between two random
// halves: project, service-account and admin keys after a typed prefix,
// legacy user keys after a bare "sk-". Lengths are those of the gitleaks
// rule and of betterleaks' test vectors.

const openaiMarker = "T3BlbkFJ"

var openaiProject = (&Rule{
	ID:          "openai-project-key",
	Provider:    "openai",
	Description: "OpenAI project API key.",
	Format:      "sk-proj- + 74|58|20 [A-Za-z0-9_-] + T3BlbkFJ + 74|58|20 [A-Za-z0-9_-]",
	Keywords:    []string{"sk-proj-"},
	MinEntropy:  3.0,
	segs:        []seg{lit("sk-proj-"), run(urlSafe, 74, 58, 20), lit(openaiMarker), run(urlSafe, 74, 58, 20)},
	Example:     "sk-proj-{u74}T3BlbkFJ{u74}",
	TP: []string{
		`OPENAI_API_KEY=$KEY`,
		`client = OpenAI(api_key="$KEY")`,
		`{"key":"$KEY"}`,
		`Authorization: Bearer $KEY`,
		`sk-proj-{u20}T3BlbkFJ{u20}`,
		`sk-proj-{u58}T3BlbkFJ{u58}`,
	},
	FP: []string{
		`OPENAI_API_KEY=sk-proj-abc123`,
		`OPENAI_API_KEY=sk-proj-...xxxx`,
		`sk-proj-{u73}T3BlbkFJ{u74}`,
		`sk-proj-{u74}T3BlbkFJ{u75}`,
		`sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
		`model: gpt-4o-mini`,
	},
}).finish()

var openaiServiceAccount = (&Rule{
	ID:          "openai-service-account-key",
	Provider:    "openai",
	Description: "OpenAI service-account API key.",
	Format:      "sk-svcacct- + 74|58|20 [A-Za-z0-9_-] + T3BlbkFJ + 74|58|20 [A-Za-z0-9_-]",
	Keywords:    []string{"sk-svcacct-"},
	MinEntropy:  3.0,
	segs:        []seg{lit("sk-svcacct-"), run(urlSafe, 74, 58, 20), lit(openaiMarker), run(urlSafe, 74, 58, 20)},
	Example:     "sk-svcacct-{u74}T3BlbkFJ{u74}",
	TP:          []string{`export OPENAI_API_KEY='$KEY'`},
	FP:          []string{`sk-svcacct-{u74}T3BlbkFX{u74}`, `sk-svcacct-YOUR_KEY_HERE`},
}).finish()

var openaiAdmin = (&Rule{
	ID:          "openai-admin-key",
	Provider:    "openai",
	Description: "OpenAI organization admin API key.",
	Format:      "sk-admin- + 58|74 [A-Za-z0-9_-] + T3BlbkFJ + 58|74 [A-Za-z0-9_-]",
	Keywords:    []string{"sk-admin-"},
	MinEntropy:  3.0,
	segs:        []seg{lit("sk-admin-"), run(urlSafe, 74, 58), lit(openaiMarker), run(urlSafe, 74, 58)},
	Example:     "sk-admin-{u58}T3BlbkFJ{u58}",
	TP:          []string{`OPENAI_ADMIN_KEY: "$KEY"`},
	FP:          []string{`sk-admin-{u57}T3BlbkFJ{u58}`, `role: sk-admin-panel`},
}).finish()

var openaiLegacy = (&Rule{
	ID:          "openai-legacy-key",
	Provider:    "openai",
	Description: "OpenAI user API key in the pre-2024 format.",
	Format:      "sk- + 20 [A-Za-z0-9] + T3BlbkFJ + 20 [A-Za-z0-9]",
	Keywords:    []string{"sk-"},
	MinEntropy:  3.0,
	segs:        []seg{lit("sk-"), run(alnum, 20), lit(openaiMarker), run(alnum, 20)},
	Example:     "sk-{a20}T3BlbkFJ{a20}",
	TP:          []string{`openai.api_key = "$KEY"`, `key=$KEY;`},
	FP: []string{
		`task-{a20}T3BlbkFJ{a20}`,
		`sk-{a20}T3BlbkFJ{a21}`,
		`sk-{a19}T3BlbkFJ{a20}`,
		`sk-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`,
		`"model": "text-embedding-3-small"`,
	},
}).finish()
