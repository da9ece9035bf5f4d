package scan

// Langfuse keys come in pairs: "pk-lf-" (public, not reported) and
// "sk-lf-" (secret), each followed by a UUID.

var langfuseSecret = (&Rule{
	ID:          "langfuse-secret-key",
	Provider:    "langfuse",
	Description: "Langfuse secret key.",
	Format:      "sk-lf- + UUID (8-4-4-4-12 [0-9a-f]) (42)",
	Keywords:    []string{"sk-lf-"},
	MinEntropy:  3.0,
	segs: []seg{lit("sk-lf-"), run(hexLower, 8), lit("-"), run(hexLower, 4), lit("-"),
		run(hexLower, 4), lit("-"), run(hexLower, 4), lit("-"), run(hexLower, 12)},
	Example: "sk-lf-{h8}-{h4}-{h4}-{h4}-{h12}",
	TP:      []string{`LANGFUSE_SECRET_KEY=$KEY`},
	FP:      []string{`LANGFUSE_PUBLIC_KEY=pk-lf-{h8}-{h4}-{h4}-{h4}-{h12}`, `sk-lf-{h8}-{h4}-{h4}-{h4}-{h13}`, `sk-lf-...`},
}).finish()
