package scan

// Azure OpenAI keys are 32 lower-case hex digits with no prefix, found only
// within ContextWindow bytes of an Azure OpenAI host or variable name, as
// trufflehog does. The newer 84-character keys (trufflehog #4389) are not
// detected yet: their alphabet and structure are not documented. The
// entropy floor is low because 32 random hex digits can score under 3.0.

var azureOpenAI = (&Rule{
	ID:          "azure-openai-key",
	Provider:    "azure",
	Description: "Azure OpenAI API key (needs an Azure OpenAI host or variable nearby).",
	Format:      "32 [0-9a-f] with a letter and a digit, within ContextWindow bytes of openai.azure.com, cognitiveservices.azure.com, azure_openai, azure-openai, azure.openai or azureopenai",
	Keywords: []string{
		"openai.azure.com", "cognitiveservices.azure.com",
		"azure_openai", "azure-openai", "azure.openai", "azureopenai",
	},
	MinEntropy: 2.5,
	token:      &tokenShape{set: hexLower, n: 32, letterNum: true},
	Example:    "{h32}",
	TP: []string{
		`AZURE_OPENAI_API_KEY=$KEY`,
		"AZURE_OPENAI_ENDPOINT=https://contoso.openai.azure.com/\nAZURE_OPENAI_API_KEY=$KEY",
		`AzureOpenAI(azure_endpoint="https://x.openai.azure.com", api_key="$KEY")`,
	},
	FP: []string{
		`AZURE_OPENAI_API_KEY={h31}`,
		`AZURE_OPENAI_DEPLOYMENT=gpt-4o # {h8}-{h4}-{h4}-{h4}-{h12}`,
		`AZURE_STORAGE_KEY={h32}`,
		`azure_openai: 00000000000000000000000000000000`,
	},
}).finish()
