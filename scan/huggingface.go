package scan

// Hugging Face user access tokens are "hf_" and 34 characters; gitleaks
// accepts letters only, trufflehog letters and digits, and so do we.

var huggingfaceToken = (&Rule{
	ID:          "huggingface-access-token",
	Provider:    "huggingface",
	Description: "Hugging Face user access token.",
	Format:      "hf_ + 34 [A-Za-z0-9] (37)",
	Keywords:    []string{"hf_"},
	MinEntropy:  3.0,
	segs:        []seg{lit("hf_"), run(alnum, 34)},
	Example:     "hf_{l34}",
	TP:          []string{`HF_TOKEN=$KEY`, `login(token="$KEY")`},
	FP:          []string{`from huggingface_hub import hf_hub_download`, `hf_{l33}`, `hf_{l35}`, `HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`},
}).finish()

var huggingfaceOrg = (&Rule{
	ID:          "huggingface-org-token",
	Provider:    "huggingface",
	Description: "Hugging Face organization API token (legacy).",
	Format:      "api_org_ + 34 [A-Za-z0-9] (42)",
	Keywords:    []string{"api_org_"},
	MinEntropy:  3.0,
	segs:        []seg{lit("api_org_"), run(alnum, 34)},
	Example:     "api_org_{l34}",
	TP:          []string{`token: $KEY`},
	FP:          []string{`def api_org_settings_for_user(self):`},
}).finish()
