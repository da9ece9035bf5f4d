package scan

// Fireworks AI: no detector, on purpose. No established key format was
// found (gitleaks, trufflehog, Kingfisher and betterleaks have no rule; see
// KEY-FORMATS.md), and a context-only rule ("fireworks" near any long
// token) would fire on model paths such as
// accounts/fireworks/models/llama-v3p1-8b-instruct. Add a rule here once
// the provider documents a prefix.
