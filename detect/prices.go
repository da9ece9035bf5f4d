package detect

import "strings"

// Price is a model's list price in USD per million tokens.
type Price struct{ Input, Output float64 }

// prices holds list prices of common models, by name prefix; the longest
// matching prefix wins, so dated snapshots (gpt-4o-2024-08-06) price as
// their family. Unknown models price as zero and are judged by operation
// only.
var prices = map[string]Price{
	"gpt-4o":                 {2.5, 10},
	"gpt-4o-mini":            {0.15, 0.6},
	"gpt-4.1":                {2, 8},
	"gpt-4.1-mini":           {0.4, 1.6},
	"gpt-4.1-nano":           {0.1, 0.4},
	"gpt-4-turbo":            {10, 30},
	"gpt-4":                  {30, 60},
	"gpt-3.5-turbo":          {0.5, 1.5},
	"gpt-5":                  {1.25, 10},
	"gpt-5-mini":             {0.25, 2},
	"o1":                     {15, 60},
	"o1-mini":                {1.1, 4.4},
	"o3":                     {2, 8},
	"o3-mini":                {1.1, 4.4},
	"o4-mini":                {1.1, 4.4},
	"text-embedding-3-small": {0.02, 0},
	"text-embedding-3-large": {0.13, 0},
	"text-embedding-ada-002": {0.1, 0},
	"claude-3-haiku":         {0.25, 1.25},
	"claude-3-5-haiku":       {0.8, 4},
	"claude-haiku-4":         {1, 5},
	"claude-3-5-sonnet":      {3, 15},
	"claude-3-7-sonnet":      {3, 15},
	"claude-sonnet-4":        {3, 15},
	"claude-3-opus":          {15, 75},
	"claude-opus-4":          {15, 75},
	"gemini-1.5-flash":       {0.075, 0.3},
	"gemini-1.5-pro":         {1.25, 5},
	"gemini-2.0-flash":       {0.1, 0.4},
	"gemini-2.5-flash":       {0.3, 2.5},
	"gemini-2.5-pro":         {1.25, 10},
}

// ModelPrice returns the list price of model, matching the longest known
// prefix, and whether one matched.
func ModelPrice(model string) (Price, bool) {
	best, bestLen := Price{}, 0
	for name, p := range prices {
		if len(name) > bestLen && strings.HasPrefix(model, name) &&
			(len(model) == len(name) || model[len(name)] == '-' || model[len(name)] == '@' || model[len(name)] == ':') {
			best, bestLen = p, len(name)
		}
	}
	return best, bestLen > 0
}

// blended is the price used to compare models: input and output averaged
// with the 3:1 weighting that chat traffic typically has.
func (p Price) blended() float64 { return (3*p.Input + p.Output) / 4 }
