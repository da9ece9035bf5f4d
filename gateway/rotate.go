package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/secret"
)

// Rotator rotates gateway keys past their age. For each key of provider
// keywatch, active or clamped, whose last rotation (else creation) is at
// least MaxAge before now, it makes a successor secret, hands it to Notify
// (the only time the secret exists outside the client), then records its
// fingerprint with Store.RotateKey. The old secret keeps working until
// rotation time + Grace, on every gateway instance, and is refused after:
// the keyring accepts a rotated-away fingerprint only within the grace, so
// no later store write is needed to revoke it.
type Rotator struct {
	Pepper []byte
	MaxAge time.Duration
	Grace  time.Duration // must match the gateways' Config.Rotation.Grace
	// Notify delivers the new secret to the key's owner (k.Owner,
	// k.OnCall). When it fails the key is not rotated and the next run
	// tries again.
	Notify func(ctx context.Context, k *keywatch.StoredKey, newSecret string, graceEnds time.Time) error
	Actor  string // for the audit log; "" means "keywatch"
}

// Rotated reports one rotation.
type Rotated struct {
	KeyID     string
	Last4     string    // of the new secret
	GraceEnds time.Time // when the old secret stops working
}

// Rotate rotates every due key and returns what it rotated. It goes on
// past a failing key and returns all failures joined.
func (r *Rotator) Rotate(ctx context.Context, s keywatch.KeyStore, now time.Time) ([]Rotated, error) {
	if r.MaxAge <= 0 || r.Notify == nil || len(r.Pepper) == 0 {
		return nil, keywatch.Errorf(keywatch.EINVALID, "rotate gateway keys: MaxAge, Notify and Pepper are required")
	}
	keys, err := s.Keys(ctx, keywatch.KeyFilter{Provider: ProviderKeywatch})
	if err != nil {
		return nil, fmt.Errorf("rotate gateway keys: %w", err)
	}
	actor := r.Actor
	if actor == "" {
		actor = "keywatch"
	}
	var done []Rotated
	var errs []error
	for i := range keys {
		k := &keys[i]
		last := k.Rotated
		if last.IsZero() {
			last = k.Created
		}
		if k.Status == keywatch.KeyDisabled || k.Status == keywatch.KeyRevoked || last.IsZero() || now.Sub(last) < r.MaxAge {
			continue
		}
		sec := NewKey()
		graceEnds := now.Add(r.Grace)
		if err := r.Notify(ctx, k, sec, graceEnds); err != nil {
			errs = append(errs, fmt.Errorf("rotate gateway key %s: notify owner: %w", k.ID, err))
			continue
		}
		last4 := secret.Last4([]byte(sec))
		c := keywatch.Change{Actor: actor, Reason: fmt.Sprintf("scheduled rotation: older than %v; old secret valid until %s", r.MaxAge, graceEnds.UTC().Format(time.RFC3339))}
		if err := s.RotateKey(ctx, k.ID, secret.Fingerprint(r.Pepper, []byte(sec)), last4, now, c); err != nil {
			errs = append(errs, fmt.Errorf("rotate gateway key %s: %w", k.ID, err))
			continue
		}
		done = append(done, Rotated{KeyID: k.ID, Last4: last4, GraceEnds: graceEnds})
	}
	return done, errors.Join(errs...)
}
