package inventory

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/keywatch/keywatch"
)

// Finding is one governance problem with a key.
type Finding struct {
	KeyID    string `json:"key_id"`
	Check    string `json:"check"` // stable id, e.g. missing-owner
	Severity string `json:"severity"`
	Detail   string `json:"detail"`
}

// Audit checks, with stable ids.
const (
	CheckMissingOwner   = "missing-owner"
	CheckMissingExpiry  = "missing-expiry"
	CheckExpiredActive  = "expired-active"
	CheckRotationDue    = "rotation-overdue"
	CheckUnused         = "unused"
	CheckMultiEnv       = "multi-env"
	CheckNoOnCall       = "no-oncall"
	CheckNoQuota        = "no-quota"
	CheckBroadModels    = "broad-model-access"
	defaultRotationDays = 90
	defaultUnusedDays   = 30
)

// AuditOptions tune Audit; zero values take the defaults.
type AuditOptions struct {
	RotationAge time.Duration // default 90 days
	UnusedAge   time.Duration // default 30 days
}

// Audit reports governance problems of keys at now: missing owner, missing
// expiry, expired but active, not rotated within the rotation age, unused
// for the unused age, seen in more than one environment, no on-call route,
// no quota, and model access broader than the key uses. Disabled and revoked
// keys are only checked for nothing: they can do no harm. Findings are
// ordered by key, then check.
func Audit(keys []keywatch.StoredKey, now time.Time, opt AuditOptions) []Finding {
	if opt.RotationAge <= 0 {
		opt.RotationAge = defaultRotationDays * 24 * time.Hour
	}
	if opt.UnusedAge <= 0 {
		opt.UnusedAge = defaultUnusedDays * 24 * time.Hour
	}
	var out []Finding
	add := func(k *keywatch.StoredKey, check, sev, format string, args ...any) {
		out = append(out, Finding{KeyID: k.ID, Check: check, Severity: sev, Detail: fmt.Sprintf(format, args...)})
	}
	days := func(d time.Duration) int { return int(d.Hours() / 24) }
	for i := range keys {
		k := &keys[i]
		if k.Status == keywatch.KeyDisabled || k.Status == keywatch.KeyRevoked {
			continue
		}
		if k.Owner == "" {
			add(k, CheckMissingOwner, "high", "no owner: nobody to call when it leaks")
		}
		switch {
		case k.Expires.IsZero():
			add(k, CheckMissingExpiry, "medium", "no expiry date")
		case !now.Before(k.Expires):
			add(k, CheckExpiredActive, "high", "expired %s but still %s", k.Expires.Format(time.DateOnly), statusName(k.Status))
		}
		last := k.Rotated
		if last.IsZero() {
			last = k.Created
		}
		if !last.IsZero() && now.Sub(last) > opt.RotationAge {
			add(k, CheckRotationDue, "medium", "last rotated %s, %d days ago (limit %d)", last.Format(time.DateOnly), days(now.Sub(last)), days(opt.RotationAge))
		}
		switch {
		case !k.LastUsed.IsZero() && now.Sub(k.LastUsed) > opt.UnusedAge:
			add(k, CheckUnused, "low", "last used %s, %d days ago: disable it", k.LastUsed.Format(time.DateOnly), days(now.Sub(k.LastUsed)))
		case k.LastUsed.IsZero() && !k.Created.IsZero() && now.Sub(k.Created) > opt.UnusedAge:
			add(k, CheckUnused, "low", "never seen in use since it was created %s", k.Created.Format(time.DateOnly))
		}
		if envs := k.Usage.Envs; len(envs) > 1 {
			add(k, CheckMultiEnv, "high", "used in %d environments (%s): one key should serve one", len(envs), join(envs))
		}
		if k.OnCall.IsZero() {
			add(k, CheckNoOnCall, "medium", "no on-call route: alerts have nowhere to go")
		}
		if k.Quotas.IsZero() {
			add(k, CheckNoQuota, "medium", "no quota: a stolen key can spend without limit")
		}
		switch {
		case len(k.Models) == 0 && len(k.Usage.Models) > 0:
			add(k, CheckBroadModels, "medium", "may call any model but uses only %s", join(k.Usage.Models))
		case len(k.Models) > 0 && len(k.Usage.Models) > 0:
			var unused []string
			for _, m := range k.Models {
				if !slices.Contains(k.Usage.Models, m) {
					unused = append(unused, m)
				}
			}
			if len(unused) > 0 {
				add(k, CheckBroadModels, "low", "allowed but never used: %s", join(unused))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].KeyID != out[j].KeyID {
			return out[i].KeyID < out[j].KeyID
		}
		return out[i].Check < out[j].Check
	})
	return out
}

func statusName(s keywatch.KeyStatus) string {
	if s == "" {
		return string(keywatch.KeyActive)
	}
	return string(s)
}

func join(s []string) string {
	c := slices.Clone(s)
	slices.Sort(c)
	out := ""
	for i, x := range c {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
