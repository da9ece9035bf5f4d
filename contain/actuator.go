package contain

import (
	"context"
	"errors"
	"fmt"

	"github.com/keywatch/keywatch"
)

// Actuator carries out containment on one target. Implementations are
// idempotent: applying an action twice has the effect of applying it once
// and is not an error. They never put a secret in an error or a Result.
type Actuator interface {
	// Apply takes action a on key k.
	Apply(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error)
	// Revert undoes a (a disable is reverted by enabling, a clamp by
	// restoring the key's declared quotas). It returns an error wrapping
	// errors.ErrUnsupported when the target cannot undo a.
	Revert(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error)
}

// Action is one containment request to an Actuator.
type Action struct {
	Kind   Kind
	Limits Limits // for KindClamp
	// Alert and Rule say why: the alert id and the policy rule's name.
	Alert, Rule string
	// Actor is who takes the action: "keywatch" for automatic actions, or
	// the person who confirmed it.
	Actor string
}

// Change returns the store Change that records a's who and why.
func (a Action) Change() keywatch.Change {
	return keywatch.Change{Actor: a.Actor, Reason: a.Reason()}
}

// Reason is the audit reason of a: "alert <id> rule <name>".
func (a Action) Reason() string {
	return fmt.Sprintf("alert %s rule %s", a.Alert, a.Rule)
}

// Result says what an Actuator did.
type Result struct {
	// Changed is false when the target was known to be in the wanted state
	// already (a blocked key, a deleted key). Actuators that cannot tell
	// report true.
	Changed bool
	// Irreversible is set when the effect cannot be reverted (an OpenAI key
	// deletion).
	Irreversible bool
	// Detail describes the effect for the alert's action record; it never
	// holds a secret.
	Detail string
}

// ActorKeywatch is the actor of automatic actions.
const ActorKeywatch = "keywatch"

// unsupported returns an error wrapping errors.ErrUnsupported.
func unsupported(target Target, what string) error {
	return &keywatch.Error{Code: keywatch.EINVALID,
		Message: fmt.Sprintf("%s: %s is not supported", target, what), Err: errors.ErrUnsupported}
}

// KeyStatusActuator contains a key in keywatch's own inventory: it sets the
// key's status (disabled, clamped, active) through Store.SetKeyStatus,
// which audits the change with the action's who and why. The gateway reads
// the status on each request, so the effect is immediate there; clamp
// limits themselves are the gateway's own (it applies the key's quotas, or
// its clamp configuration, to clamped keys).
type KeyStatusActuator struct {
	Store keywatch.KeyStore
}

// Apply sets k's status for a: disable → disabled, clamp → clamped,
// enable → active. A key already in that status is left alone, so no audit
// entry is written twice.
func (s *KeyStatusActuator) Apply(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	var st keywatch.KeyStatus
	switch a.Kind {
	case KindDisable:
		st = keywatch.KeyDisabled
	case KindClamp:
		st = keywatch.KeyClamped
	case KindEnable:
		st = keywatch.KeyActive
	default:
		return Result{}, unsupported(TargetGateway, string(a.Kind))
	}
	return s.set(ctx, a, k.ID, st, "")
}

// Revert sets the key active again after a disable or clamp. A revoked key
// stays revoked.
func (s *KeyStatusActuator) Revert(ctx context.Context, a Action, k *keywatch.StoredKey) (Result, error) {
	switch a.Kind {
	case KindDisable:
		return s.set(ctx, a, k.ID, keywatch.KeyActive, keywatch.KeyDisabled)
	case KindClamp:
		// Only a clamped key is released: a key disabled since stays so.
		return s.set(ctx, a, k.ID, keywatch.KeyActive, keywatch.KeyClamped)
	}
	return Result{}, unsupported(TargetGateway, "reverting "+string(a.Kind))
}

// set moves key id to st; when from is set, only from that status.
func (s *KeyStatusActuator) set(ctx context.Context, a Action, id string, st, from keywatch.KeyStatus) (Result, error) {
	cur, err := s.Store.Key(ctx, id)
	if err != nil {
		return Result{}, fmt.Errorf("gateway: %w", err)
	}
	prev := cur.Status
	if prev == "" {
		prev = keywatch.KeyActive
	}
	if prev == keywatch.KeyRevoked {
		return Result{Detail: "key is revoked"}, nil
	}
	if from != "" && prev != from && prev != st {
		return Result{Detail: "status is " + string(prev) + ", left as is"}, nil
	}
	// A disabled key is not loosened to clamped.
	if prev == st || (st == keywatch.KeyClamped && prev == keywatch.KeyDisabled) {
		return Result{Detail: "status already " + string(prev)}, nil
	}
	if err := s.Store.SetKeyStatus(ctx, id, st, a.Change()); err != nil {
		return Result{}, fmt.Errorf("gateway: %w", err)
	}
	return Result{Changed: true, Detail: fmt.Sprintf("status %s -> %s", prev, st)}, nil
}
