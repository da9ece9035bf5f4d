package contain

import (
	"context"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/provider"
)

// Anthropic contains Anthropic API keys through the Admin API: disable
// sets the key inactive, which Revert (or enable) sets active again. Clamp
// and rotate are not supported: Anthropic's rate limits are per
// organization or workspace, and keys cannot be regenerated.
//
// The key is named by StoredKey.ProviderKeyID (apikey_...).
type Anthropic struct {
	Client *provider.Anthropic
}

// Apply sets k inactive (disable) or active (enable).
func (an *Anthropic) Apply(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	switch a.Kind {
	case KindDisable:
		return an.set(ctx, k, provider.AnthropicInactive)
	case KindEnable:
		return an.set(ctx, k, provider.AnthropicActive)
	}
	return Result{}, unsupported(TargetAnthropic, string(a.Kind))
}

// Revert sets a disabled key active again.
func (an *Anthropic) Revert(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	if a.Kind != KindDisable {
		return Result{}, unsupported(TargetAnthropic, "reverting "+string(a.Kind))
	}
	return an.set(ctx, k, provider.AnthropicActive)
}

func (an *Anthropic) set(ctx context.Context, k *keywatch.StoredKey, status string) (Result, error) {
	if k.ProviderKeyID == "" {
		return Result{}, keywatch.Errorf(keywatch.EINVALID, "anthropic: key %s has no provider_key_id", k.ID)
	}
	if err := an.Client.SetStatus(ctx, k.ProviderKeyID, status); err != nil {
		return Result{}, err
	}
	return Result{Changed: true, Detail: "status " + status}, nil
}
