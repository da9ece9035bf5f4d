package contain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/keywatch/keywatch"
)

// Details of the actions the Engine records on alerts. The record of one
// (kind, target) pair moves pending → applied, or failed (tried again on
// the next Handle or Confirm), then reverted; Detail starts with one of
// these.
const (
	DetailPending  = "pending confirmation"
	DetailApplied  = "applied"
	DetailFailed   = "failed"
	DetailReverted = "reverted"
)

// Options configure an Engine. The zero value works: the default policy,
// no actuators but what the caller adds, the wall clock.
type Options struct {
	// Policy defaults to DefaultPolicy().
	Policy *Policy
	// Actuators by target. TargetGateway is usually a KeyStatusActuator on
	// the same store.
	Actuators map[Target]Actuator
	// Now is the clock; tests pass a fixed one.
	Now func() time.Time
	// OnEffective, when set, is called after each action takes effect, for
	// metrics (MTTR). It must not block.
	OnEffective func(Effect)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Effect is one action that took effect, reported to Options.OnEffective.
type Effect struct {
	AlertID, KeyID, Rule string
	Kind                 Kind
	Target               Target
	Actor                string
	At                   time.Time
	// MTTR is At minus the alert's DetectedAt: the time to contain.
	MTTR time.Duration
}

// Outcome is what the Engine did with one action on one target.
type Outcome struct {
	Kind   Kind
	Target Target
	Mode   Mode
	// State is the action's state after the call: DetailPending,
	// DetailApplied, DetailFailed, DetailReverted, or "skipped" when there
	// was nothing to do (already applied or reverted; a target of "all"
	// with no actuator or that cannot do the kind).
	State  string
	Result Result
	Err    error // set when State is failed; never holds a secret
}

// Engine decides containment for alerts by its policy and carries it out.
// Alerts must be in the store before the Engine sees them: actions are
// recorded on them with Store.UpdateAlert. Engine is safe for concurrent
// use; it handles one alert at a time, so an action is never taken twice
// by racing calls.
type Engine struct {
	store  keywatch.Store
	policy *Policy
	acts   map[Target]Actuator
	now    func() time.Time
	onEff  func(Effect)
	log    *slog.Logger
	mu     sync.Mutex
}

// NewEngine returns an Engine over s.
func NewEngine(s keywatch.Store, o Options) *Engine {
	e := &Engine{store: s, policy: o.Policy, acts: o.Actuators, now: o.Now, onEff: o.OnEffective, log: o.Logger}
	if e.policy == nil {
		e.policy = DefaultPolicy()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	return e
}

// Handle applies the policy to alert a: automatic actions run at once and
// actions that need confirmation are recorded as pending. Calling it again
// for the same alert does nothing more than retry failed actions.
func (e *Engine) Handle(ctx context.Context, a *keywatch.Alert) ([]Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur, err := e.store.Alert(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("contain alert %s: %w", a.ID, err)
	}
	return e.run(ctx, cur, ActorKeywatch, false)
}

// Confirm runs the actions of alert id that wait for confirmation, as
// actor. It returns an ECONFLICT error when none waits.
func (e *Engine) Confirm(ctx context.Context, alertID, actor string) ([]Outcome, error) {
	if actor == "" {
		return nil, keywatch.Errorf(keywatch.EINVALID, "confirm alert %s: no actor", alertID)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.store.Alert(ctx, alertID)
	if err != nil {
		return nil, fmt.Errorf("confirm alert %s: %w", alertID, err)
	}
	out, err := e.run(ctx, a, actor, true)
	if err == nil && len(out) == 0 {
		return nil, keywatch.Errorf(keywatch.ECONFLICT, "confirm alert %s: no action waits for confirmation", alertID)
	}
	return out, err
}

// Revert undoes the applied actions of alert id where their targets allow,
// as actor. Targets that cannot (a deleted OpenAI key) give failed
// outcomes wrapping errors.ErrUnsupported and keep their applied state.
func (e *Engine) Revert(ctx context.Context, alertID, actor string) ([]Outcome, error) {
	if actor == "" {
		return nil, keywatch.Errorf(keywatch.EINVALID, "revert alert %s: no actor", alertID)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.store.Alert(ctx, alertID)
	if err != nil {
		return nil, fmt.Errorf("revert alert %s: %w", alertID, err)
	}
	rule := e.policy.Decide(a)
	k := e.key(ctx, a)
	var out []Outcome
	for _, p := range appliedPairs(a.Actions) {
		o := Outcome{Kind: p.kind, Target: p.target}
		act := e.acts[p.target]
		if act == nil {
			o.State, o.Err = DetailFailed, keywatch.Errorf(keywatch.EINVALID, "no actuator for target %s", p.target)
			out = append(out, o)
			continue
		}
		req := Action{Kind: p.kind, Alert: a.ID, Actor: actor}
		if rule != nil {
			req.Rule = rule.Name
			if s := specFor(rule, p.kind); s != nil && p.kind == KindClamp {
				req.Limits = s.ClampLimits(a, k)
			}
		}
		o.Result, o.Err = act.Revert(ctx, req, k)
		if o.Err != nil {
			o.State = DetailFailed
			out = append(out, o)
			continue
		}
		o.State = DetailReverted
		if err := e.record(ctx, a, req, p.target, DetailReverted+": "+o.Result.Detail, "key.revert."+string(p.kind), o.Result); err != nil {
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

// run carries out the actions the policy gives a: the automatic ones, or
// with confirm the pending ones.
func (e *Engine) run(ctx context.Context, a *keywatch.Alert, actor string, confirm bool) ([]Outcome, error) {
	rule := e.policy.Decide(a)
	if rule == nil {
		return nil, nil
	}
	k := e.key(ctx, a)
	var out []Outcome
	for i := range rule.Actions {
		spec := &rule.Actions[i]
		switch {
		case spec.Mode == ModeConfirm && !confirm:
			o, err := e.pend(ctx, a, rule, spec, k)
			out = append(out, o...)
			if err != nil {
				return out, err
			}
			continue
		case spec.Mode == ModeAuto && confirm:
			continue
		}
		for _, t := range e.targets(spec, k) {
			o := Outcome{Kind: spec.Kind, Target: t, Mode: spec.Mode}
			st := state(a.Actions, spec.Kind, t)
			switch {
			case confirm && st != DetailPending:
				continue // not waiting: applied already, or added by a newer policy
			case st == DetailApplied || st == DetailReverted:
				o.State = "skipped"
			case e.acts[t] == nil:
				o.State = "skipped"
				if spec.Target != TargetAll {
					o.State, o.Err = DetailFailed, keywatch.Errorf(keywatch.EINVALID, "no actuator for target %s", t)
				}
			default:
				req := Action{Kind: spec.Kind, Alert: a.ID, Rule: rule.Name, Actor: actor}
				if spec.Kind == KindClamp {
					req.Limits = spec.ClampLimits(a, k)
				}
				var err error
				if o, err = e.apply(ctx, a, req, t, k, o, spec.Target == TargetAll); err != nil {
					return append(out, o), err
				}
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// pend records spec's actions as waiting for confirmation, once per
// target that has an actuator.
func (e *Engine) pend(ctx context.Context, a *keywatch.Alert, rule *Rule, spec *ActionSpec, k *keywatch.StoredKey) ([]Outcome, error) {
	var out []Outcome
	for _, t := range e.targets(spec, k) {
		o := Outcome{Kind: spec.Kind, Target: t, Mode: spec.Mode, State: DetailPending}
		switch st := state(a.Actions, spec.Kind, t); {
		case e.acts[t] == nil:
			continue
		case st == DetailPending:
		case st != "":
			o.State = "skipped"
		default:
			req := Action{Kind: spec.Kind, Alert: a.ID, Rule: rule.Name, Actor: ActorKeywatch}
			if err := e.record(ctx, a, req, t, DetailPending, "", Result{}); err != nil {
				return out, err
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// apply runs one action and records it on the alert, and in the audit log
// for targets outside keywatch (the gateway's KeyStatusActuator is audited
// by Store.SetKeyStatus).
//
// When the target came from "all" and cannot do the action (clamp on
// OpenAI), the outcome is skipped and nothing is recorded.
func (e *Engine) apply(ctx context.Context, a *keywatch.Alert, req Action, t Target, k *keywatch.StoredKey, o Outcome, fromAll bool) (Outcome, error) {
	res, err := e.acts[t].Apply(ctx, req, k)
	if err != nil && fromAll && IsUnsupported(err) {
		o.State, o.Err = "skipped", err
		return o, nil
	}
	if err != nil {
		o.State, o.Err = DetailFailed, err
		e.log.Warn("containment failed", "alert", a.ID, "key", k.ID, "kind", req.Kind, "target", t, "err", err)
		// The error is secret-free by the actuators' contract.
		return o, e.record(ctx, a, req, t, DetailFailed+": "+err.Error(), "", Result{})
	}
	o.State, o.Result = DetailApplied, res
	audit := "key." + string(req.Kind)
	if t == TargetGateway || req.Kind == KindNotify {
		audit = ""
	}
	if err := e.record(ctx, a, req, t, DetailApplied+": "+res.Detail, audit, res); err != nil {
		return o, err
	}
	if e.onEff != nil && req.Kind != KindNotify {
		at := e.now()
		e.onEff(Effect{AlertID: a.ID, KeyID: k.ID, Rule: req.Rule, Kind: req.Kind, Target: t, Actor: req.Actor,
			At: at, MTTR: at.Sub(a.DetectedAt)})
	}
	return o, nil
}

// record appends the action to the alert (and to a.Actions, so later steps
// see it) and, when audit is set, an audit entry on the key.
func (e *Engine) record(ctx context.Context, a *keywatch.Alert, req Action, t Target, detail, audit string, res Result) error {
	if audit != "" {
		d := map[string]any{"alert": a.ID, "rule": req.Rule, "target": string(t), "detail": res.Detail, "changed": res.Changed}
		if res.Irreversible {
			d["irreversible"] = true
		}
		if req.Kind == KindClamp {
			d["limits"] = req.Limits
		}
		if err := e.store.AppendAudit(ctx, audit, a.KeyID, d, req.Change()); err != nil {
			return fmt.Errorf("audit %s on key %s: %w", audit, a.KeyID, err)
		}
	}
	act := keywatch.Action{Kind: string(req.Kind), Target: string(t), Time: e.now().UTC(), Actor: req.Actor, Detail: detail}
	if err := e.store.UpdateAlert(ctx, a.ID, a.Status, &act, req.Change()); err != nil {
		return fmt.Errorf("record action on alert %s: %w", a.ID, err)
	}
	a.Actions = append(a.Actions, act)
	return nil
}

// key looks up the alert's key; a key missing from the inventory is
// contained by id only (the gateway and webhook can still act).
func (e *Engine) key(ctx context.Context, a *keywatch.Alert) *keywatch.StoredKey {
	k, err := e.store.Key(ctx, a.KeyID)
	if err != nil {
		if keywatch.ErrorCode(err) != keywatch.ENOTFOUND {
			e.log.Warn("contain: key lookup failed", "key", a.KeyID, "err", err)
		}
		return &keywatch.StoredKey{Key: keywatch.Key{ID: a.KeyID, Service: a.Service, Env: a.Env}}
	}
	return k
}

// targets expands spec's target for key k. "all" is the gateway, the
// key's provider (and LiteLLM when the key names a LiteLLM token) and the
// webhook; notify goes to the webhook only.
func (e *Engine) targets(spec *ActionSpec, k *keywatch.StoredKey) []Target {
	if spec.Target != TargetAll {
		return []Target{spec.Target}
	}
	if spec.Kind == KindNotify {
		return []Target{TargetWebhook}
	}
	ts := []Target{TargetGateway}
	switch p := Target(k.Provider); p {
	case TargetLiteLLM, TargetOpenAI, TargetAnthropic:
		ts = append(ts, p)
	}
	if k.Provider != string(TargetLiteLLM) && k.Labels[LabelLiteLLMToken] != "" {
		ts = append(ts, TargetLiteLLM)
	}
	return append(ts, TargetWebhook)
}

// state returns the latest state of (kind, target) among recorded
// actions: "", pending, applied, failed or reverted.
func state(acts []keywatch.Action, kind Kind, t Target) string {
	st := ""
	for _, a := range acts {
		if a.Kind != string(kind) || a.Target != string(t) {
			continue
		}
		for _, s := range []string{DetailPending, DetailApplied, DetailFailed, DetailReverted} {
			if strings.HasPrefix(a.Detail, s) {
				// A failure keeps a pending action pending.
				if s == DetailFailed && st == DetailPending {
					break
				}
				st = s
				break
			}
		}
	}
	return st
}

type pair struct {
	kind   Kind
	target Target
}

// appliedPairs lists the (kind, target) pairs whose latest state is
// applied, in the order first recorded.
func appliedPairs(acts []keywatch.Action) []pair {
	var ps []pair
	seen := map[pair]bool{}
	for _, a := range acts {
		p := pair{Kind(a.Kind), Target(a.Target)}
		if seen[p] || p.kind == KindNotify {
			continue
		}
		seen[p] = true
		if state(acts, p.kind, p.target) == DetailApplied {
			ps = append(ps, p)
		}
	}
	return ps
}

func specFor(r *Rule, k Kind) *ActionSpec {
	for i := range r.Actions {
		if r.Actions[i].Kind == k {
			return &r.Actions[i]
		}
	}
	return nil
}

// IsUnsupported reports whether err says a target cannot do an action.
func IsUnsupported(err error) bool { return errors.Is(err, errors.ErrUnsupported) }
