package scan

import (
	"slices"
	"strings"
)

// allRules is every built-in rule, in the order of the provider files.
var allRules = []*Rule{
	openaiProject, openaiServiceAccount, openaiAdmin, openaiLegacy,
	anthropicAPI, anthropicAdmin,
	googleAPI,
	huggingfaceToken, huggingfaceOrg,
	groqKey, xaiKey, perplexityKey, replicateToken, openrouterKey,
	deepseekKey, mistralKey, cohereKey, togetherKey,
	langsmithPersonal, langsmithService,
	azureOpenAI, bedrockLongTerm, bedrockShortTerm, cerebrasKey,
	nvidiaKey, pineconeKey, elevenlabsKey, langfuseSecret, braintrustKey,
	keywatchGatewayKey, keywatchAPIToken,
}

// Rules returns the built-in rules sorted by id. The rules are shared and
// must not be modified.
func Rules() []*Rule {
	rs := slices.Clone(allRules)
	slices.SortFunc(rs, func(a, b *Rule) int { return strings.Compare(a.ID, b.ID) })
	return rs
}

// RuleByID returns the built-in rule with id, or nil.
func RuleByID(id string) *Rule {
	for _, r := range allRules {
		if r.ID == id {
			return r
		}
	}
	return nil
}
