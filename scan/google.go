package scan

// Google API keys (AI Studio / Gemini and every other Google API) are
// "AIza" and 35 more characters. Which API a key unlocks is only known by
// calling generativelanguage.googleapis.com (see KEY-FORMATS.md 1b).

var googleAPI = (&Rule{
	ID:          "google-api-key",
	Provider:    "google",
	Description: "Google API key (Gemini / AI Studio and other Google APIs).",
	Format:      "AIza + 35 [A-Za-z0-9_-] (39)",
	Keywords:    []string{"AIza"},
	MinEntropy:  4.0,
	segs:        []seg{lit("AIza"), run(urlSafe, 35)},
	Example:     "AIzaSy{u33}",
	TP:          []string{`GEMINI_API_KEY=$KEY`, `genai.configure(api_key="$KEY")`, `https://generativelanguage.googleapis.com/v1/models?key=$KEY&alt=json`},
	FP: []string{
		`AIzaSy{u32}`,
		`AIzaSy{u34}`,
		`GOOGLE_API_KEY=AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`,
		`model: gemini-1.5-flash-002`,
	},
}).finish()
