package scan

// Pinecone keys as observed in public code: "pcsk_", 6 letters or digits,
// "_", 63 letters or digits (75). 5 and 7 are accepted for the first part.

var pineconeKey = (&Rule{
	ID:          "pinecone-api-key",
	Provider:    "pinecone",
	Description: "Pinecone API key.",
	Format:      "pcsk_ + 5..7 [A-Za-z0-9] + _ + 63 [A-Za-z0-9] (75)",
	Keywords:    []string{"pcsk_"},
	MinEntropy:  3.5,
	segs:        []seg{lit("pcsk_"), run(alnum, 7, 6, 5), lit("_"), run(alnum, 63)},
	Example:     "pcsk_{a6}_{a63}",
	TP:          []string{`PINECONE_API_KEY=$KEY`, `Pinecone(api_key="$KEY")`},
	FP:          []string{`PINECONE_API_KEY=pcsk_...`, `pcsk_{a6}_{a62}`, `pcsk_{a6}{a63}`},
}).finish()
