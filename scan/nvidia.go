package scan

var nvidiaKey = (&Rule{
	ID:          "nvidia-api-key",
	Provider:    "nvidia",
	Description: "NVIDIA NGC / build.nvidia.com API key.",
	Format:      "nvapi- + 64 [A-Za-z0-9_-] (70)",
	Keywords:    []string{"nvapi-"},
	MinEntropy:  3.5,
	segs:        []seg{lit("nvapi-"), run(urlSafe, 64)},
	Example:     "nvapi-{u64}",
	TP:          []string{`NVIDIA_API_KEY=$KEY`},
	FP:          []string{`nvapi-{u63}`, `nvapi-{u65}`},
}).finish()
