package scan

// Amazon Bedrock API keys. Long-term keys are "ABSK" and base64 (of
// "BedrockAPIKey-<id>-at-<account>:<secret>"); short-term keys are
// "bedrock-api-key-" and the base64 of a presigned URL on
// bedrock.amazonaws.com. Lengths follow gitleaks; the short-term body is
// capped at 3000 characters to bound the scanner's overlap.

var bedrockLongTerm = (&Rule{
	ID:          "aws-bedrock-api-key",
	Provider:    "bedrock",
	Description: "Amazon Bedrock long-term API key.",
	Format:      "ABSK + 109..269 [A-Za-z0-9+/] + 0..2 =",
	Keywords:    []string{"ABSK"},
	MinEntropy:  3.0,
	segs:        []seg{lit("ABSK"), runRange(b64Std, 109, 269), runRange(equals, 0, 2)},
	tail:        b64Tail,
	Example:     "ABSKQmVkcm9ja0FQSUtleS1{b109}=",
	TP:          []string{`AWS_BEARER_TOKEN_BEDROCK=$KEY`},
	FP:          []string{`ABSK{b108}`, `ABSK{b270}`, `ABSKIP = true`},
}).finish()

var bedrockShortTerm = (&Rule{
	ID:          "aws-bedrock-short-term-key",
	Provider:    "bedrock",
	Description: "Amazon Bedrock short-term API key (presigned, up to 12 hours).",
	Format:      "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t + 100..3000 [A-Za-z0-9+/] + 0..2 =",
	Keywords:    []string{"bedrock-api-key-"},
	MinEntropy:  3.0,
	segs:        []seg{lit("bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t"), runRange(b64Std, 100, 3000), runRange(equals, 0, 2)},
	tail:        b64Tail,
	Example:     "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t{b400}",
	TP:          []string{`AWS_BEARER_TOKEN_BEDROCK=$KEY`},
	FP:          []string{`prefix = "bedrock-api-key-"`, `bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t{b99}`},
}).finish()
