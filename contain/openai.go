package contain

import (
	"context"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/provider"
)

// OpenAI contains OpenAI project API keys through the Admin API. OpenAI
// has no disabled state: disable deletes the key, which is irreversible
// (the service needs a new key), so policies should give it mode confirm.
// A key already deleted (404) counts as done. Clamp and rotate are not
// supported: OpenAI's rate limits are per project and model, not per key,
// and it has no key regeneration.
//
// The key is named by StoredKey.ProviderKeyID and the label project_id,
// as provider.OpenAI.ListKeys records them.
type OpenAI struct {
	Client *provider.OpenAI
}

// Apply deletes k for a disable.
func (o *OpenAI) Apply(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	if a.Kind != KindDisable {
		return Result{}, unsupported(TargetOpenAI, string(a.Kind))
	}
	project := k.Labels["project_id"]
	if project == "" || k.ProviderKeyID == "" {
		return Result{}, keywatch.Errorf(keywatch.EINVALID, "openai: key %s lacks provider_key_id or label project_id", k.ID)
	}
	err := o.Client.DeleteKey(ctx, project, k.ProviderKeyID)
	switch keywatch.ErrorCode(err) {
	case "":
		return Result{Changed: true, Irreversible: true, Detail: "deleted"}, nil
	case keywatch.ENOTFOUND:
		return Result{Irreversible: true, Detail: "already deleted"}, nil
	}
	return Result{}, err
}

// Revert is not supported: a deleted OpenAI key cannot be restored.
func (o *OpenAI) Revert(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	return Result{}, unsupported(TargetOpenAI, "reverting "+string(a.Kind)+" (deletion is final)")
}
