package scan

var langsmithPersonal = (&Rule{
	ID:          "langsmith-personal-token",
	Provider:    "langsmith",
	Description: "LangSmith personal access token.",
	Format:      "lsv2_pt_ + 32 [0-9a-f] + _ + 10 [0-9a-f] (51)",
	Keywords:    []string{"lsv2_pt_"},
	MinEntropy:  3.0,
	segs:        []seg{lit("lsv2_pt_"), run(hexLower, 32), lit("_"), run(hexLower, 10)},
	Example:     "lsv2_pt_{h32}_{h10}",
	TP:          []string{`LANGCHAIN_API_KEY=$KEY`, `LANGSMITH_API_KEY="$KEY"`},
	FP:          []string{`lsv2_pt_{h32}_{h11}`, `lsv2_pt_{h31}_{h10}`, `lsv2_pt_{h32}{h10}`},
}).finish()

var langsmithService = (&Rule{
	ID:          "langsmith-service-key",
	Provider:    "langsmith",
	Description: "LangSmith service key.",
	Format:      "lsv2_sk_ + 32 [0-9a-f] + _ + 10 [0-9a-f] (51)",
	Keywords:    []string{"lsv2_sk_"},
	MinEntropy:  3.0,
	segs:        []seg{lit("lsv2_sk_"), run(hexLower, 32), lit("_"), run(hexLower, 10)},
	Example:     "lsv2_sk_{h32}_{h10}",
	TP:          []string{`LANGSMITH_API_KEY=$KEY`},
	FP:          []string{`lsv2_sk_{a32}_{h10}`},
}).finish()
