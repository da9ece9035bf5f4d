package contain

import (
	"context"
	"fmt"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/provider"
)

// LabelLiteLLMToken, on a key of another provider, names the LiteLLM
// virtual key (its hashed token) that fronts it, so that a LiteLLM
// actuator can contain it too.
const LabelLiteLLMToken = "litellm_token"

// LiteLLM contains keys through a LiteLLM proxy's key API, authenticated by
// the master key the provider.LiteLLM client holds.
//
// The key is named by its hashed token: StoredKey.ProviderKeyID for keys
// imported from LiteLLM (the token /key/list returns), else the label
// litellm_token. LiteLLM's /key/block, /key/unblock, /key/update and
// /key/regenerate hash a key that starts with "sk-" and take any other
// value as the hash itself (verified in BerriAI/litellm
// key_management_endpoints.py, see provider.LiteLLM.Block), so keywatch
// never sends a secret.
//
// Disable blocks (reverted by unblock); clamp sets rpm_limit and tpm_limit
// (reverted to the key's declared quotas, as the inventory last saw them);
// rotate regenerates the secret, which needs LiteLLM Enterprise and a
// Deliver function to hand the new secret over; without Deliver rotate is
// not supported.
type LiteLLM struct {
	Client *provider.LiteLLM
	// Deliver receives the new secret of a rotated key; it must store or
	// send it safely and never log it. Nil: rotate is not supported.
	Deliver func(ctx context.Context, k *keywatch.StoredKey, secret string) error
}

func (l *LiteLLM) token(k *keywatch.StoredKey) (string, error) {
	if t := k.Labels[LabelLiteLLMToken]; t != "" {
		return t, nil
	}
	if k.Provider == "litellm" && k.ProviderKeyID != "" {
		return k.ProviderKeyID, nil
	}
	return "", keywatch.Errorf(keywatch.EINVALID, "litellm: key %s has no LiteLLM token (provider_key_id or label %s)", k.ID, LabelLiteLLMToken)
}

// Apply blocks, clamps or rotates k on the proxy.
func (l *LiteLLM) Apply(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	tok, err := l.token(k)
	if err != nil {
		return Result{}, err
	}
	switch a.Kind {
	case KindDisable:
		if err := l.Client.Block(ctx, tok); err != nil {
			return Result{}, err
		}
		return Result{Changed: true, Detail: "blocked"}, nil
	case KindEnable:
		if err := l.Client.Unblock(ctx, tok); err != nil {
			return Result{}, err
		}
		return Result{Changed: true, Detail: "unblocked"}, nil
	case KindClamp:
		lim := provider.LiteLLMLimits{}
		if a.Limits.RPM > 0 {
			lim.RPM = &a.Limits.RPM
		}
		if a.Limits.TPM > 0 {
			lim.TPM = &a.Limits.TPM
		}
		if lim.RPM == nil && lim.TPM == nil {
			return Result{}, keywatch.Errorf(keywatch.EINVALID, "litellm: clamp of key %s without limits", k.ID)
		}
		if err := l.Client.UpdateLimits(ctx, tok, lim); err != nil {
			return Result{}, err
		}
		return Result{Changed: true, Detail: "limits " + limitsText(a.Limits)}, nil
	case KindRotate:
		if l.Deliver == nil {
			return Result{}, unsupported(TargetLiteLLM, "rotate without a secret delivery")
		}
		r, err := l.Client.Regenerate(ctx, tok)
		if err != nil {
			return Result{}, err
		}
		if err := l.Deliver(ctx, k, r.Key); err != nil {
			// The old secret is dead; say so without the new one.
			return Result{}, fmt.Errorf("litellm: key %s rotated to %s but delivery failed: %w", k.ID, r.KeyName, err)
		}
		return Result{Changed: true, Irreversible: true, Detail: "rotated to " + r.KeyName}, nil
	}
	return Result{}, unsupported(TargetLiteLLM, string(a.Kind))
}

// Revert unblocks a disabled key or restores a clamped key's declared
// quotas. A rotation cannot be reverted.
func (l *LiteLLM) Revert(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	tok, err := l.token(k)
	if err != nil {
		return Result{}, err
	}
	switch a.Kind {
	case KindDisable:
		if err := l.Client.Unblock(ctx, tok); err != nil {
			return Result{}, err
		}
		return Result{Changed: true, Detail: "unblocked"}, nil
	case KindClamp:
		// Only limits the clamp set are restored; a limit the key did not
		// declare is left at the clamp value, since /key/update cannot be
		// relied on to clear a limit (unverified whether null clears it).
		lim := provider.LiteLLMLimits{}
		if a.Limits.RPM > 0 && k.Quotas.RPM > 0 {
			lim.RPM = &k.Quotas.RPM
		}
		if a.Limits.TPM > 0 && k.Quotas.TPM > 0 {
			lim.TPM = &k.Quotas.TPM
		}
		if lim.RPM == nil && lim.TPM == nil {
			return Result{}, unsupported(TargetLiteLLM, "reverting a clamp of a key without declared quotas")
		}
		if err := l.Client.UpdateLimits(ctx, tok, lim); err != nil {
			return Result{}, err
		}
		return Result{Changed: true, Detail: "limits restored to " + limitsText(Limits{RPM: k.Quotas.RPM, TPM: k.Quotas.TPM})}, nil
	}
	return Result{}, unsupported(TargetLiteLLM, "reverting "+string(a.Kind))
}

func limitsText(l Limits) string {
	s := ""
	if l.RPM > 0 {
		s = fmt.Sprintf("rpm=%d", l.RPM)
	}
	if l.TPM > 0 {
		if s != "" {
			s += " "
		}
		s += fmt.Sprintf("tpm=%d", l.TPM)
	}
	return s
}
