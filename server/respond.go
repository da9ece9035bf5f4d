package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/alert"
	"github.com/keywatch/keywatch/contain"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/provider"
)

// RoutingConfig says where alerts go when a key has no on-call route of
// its own. Webhook deliveries are signed with $KEYWATCH_WEBHOOK_SECRET.
type RoutingConfig struct {
	Default      keywatch.OnCall            `yaml:"default"`
	Services     map[string]keywatch.OnCall `yaml:"services"`
	Alertmanager string                     `yaml:"alertmanager"`  // base URL; "" for none
	PagerDutyURL string                     `yaml:"pagerduty_url"` // default: PagerDuty's public API
	ExternalURL  string                     `yaml:"external_url"`  // links back to keywatch in messages
}

// ContainmentConfig is the containment policy and the actuators it may
// use. Provider credentials come from the environment only:
// LITELLM_MASTER_KEY, OPENAI_ADMIN_KEY, ANTHROPIC_ADMIN_KEY and
// KEYWATCH_ACTION_WEBHOOK_SECRET.
type ContainmentConfig struct {
	Policy    *contain.Policy `yaml:"policy"` // nil: contain.DefaultPolicy
	LiteLLM   string          `yaml:"litellm_url"`
	OpenAI    string          `yaml:"openai_url"`
	Anthropic string          `yaml:"anthropic_url"`
	Webhook   string          `yaml:"webhook_url"`
}

// responder routes stored alerts to their owners and applies containment,
// off the detection goroutine: a slow receiver or provider API never
// delays detection.
type responder struct {
	s       *Server
	router  *alert.Router
	contain *contain.Engine
	queue   chan *keywatch.Alert
	wg      sync.WaitGroup

	mu   sync.RWMutex
	keys *inventory.Index
}

func newResponder(s *Server, env func(string) string) (*responder, error) {
	r := &responder{s: s, queue: make(chan *keywatch.Alert, 4096)}
	rc := s.cfg.Routing
	router, err := alert.NewRouter(alert.Config{
		Keys:          r.lookup,
		Services:      rc.Services,
		Default:       rc.Default,
		WebhookSecret: env("KEYWATCH_WEBHOOK_SECRET"),
		Alertmanager:  rc.Alertmanager,
		PagerDutyURL:  rc.PagerDutyURL,
		ExternalURL:   rc.ExternalURL,
		Logger:        s.log,
		OnDeliver: func(res alert.Result) {
			outcome := "delivered"
			switch {
			case res.Dropped:
				outcome = "dropped"
			case res.Err != nil:
				outcome = "failed"
			}
			s.m.notifications.WithLabelValues(string(res.Kind), outcome).Inc()
			if res.Err != nil && !errors.Is(res.Err, alert.ErrNoRoute) {
				s.log.Warn("alert notification not delivered", "alert", res.AlertID, "to", res.Destination, "attempts", res.Attempts, "err", res.Err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	r.router = router
	cc := s.cfg.Containment
	acts := map[contain.Target]contain.Actuator{contain.TargetGateway: &contain.KeyStatusActuator{Store: s.store}}
	if s.gw != nil {
		acts[contain.TargetGateway] = &gatewayActuator{status: contain.KeyStatusActuator{Store: s.store}, gw: s.gw}
	}
	if k := env("LITELLM_MASTER_KEY"); k != "" && cc.LiteLLM != "" {
		acts[contain.TargetLiteLLM] = &contain.LiteLLM{Client: provider.NewLiteLLM(cc.LiteLLM, k)}
	}
	if k := env("OPENAI_ADMIN_KEY"); k != "" {
		acts[contain.TargetOpenAI] = &contain.OpenAI{Client: provider.NewOpenAI(cc.OpenAI, k)}
	}
	if k := env("ANTHROPIC_ADMIN_KEY"); k != "" {
		acts[contain.TargetAnthropic] = &contain.Anthropic{Client: provider.NewAnthropic(cc.Anthropic, k)}
	}
	if cc.Webhook != "" {
		acts[contain.TargetWebhook] = &contain.Webhook{Name: "action-webhook", URL: cc.Webhook, Secret: []byte(env("KEYWATCH_ACTION_WEBHOOK_SECRET"))}
	}
	r.contain = contain.NewEngine(s.store, contain.Options{
		Policy:    cc.Policy,
		Actuators: acts,
		Now:       s.now,
		Logger:    s.log,
		OnEffective: func(e contain.Effect) {
			s.m.mttr.Observe(e.MTTR.Seconds())
		},
	})
	return r, nil
}

// lookup finds a key in the latest inventory; safe for concurrent use.
func (r *responder) lookup(id string) *keywatch.Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys.Lookup(id)
}

func (r *responder) setInventory(ix *inventory.Index) {
	r.mu.Lock()
	r.keys = ix
	r.mu.Unlock()
}

// enqueue hands a stored alert over; if the queue is full the alert is
// still stored and listed, and the miss is logged.
func (r *responder) enqueue(a *keywatch.Alert) {
	select {
	case r.queue <- a:
	default:
		r.s.log.Error("responder queue full: alert stored but not routed", "alert", a.ID)
	}
}

// start runs the responder until ctx is done.
func (r *responder) start(ctx context.Context) {
	r.wg.Add(1)
	go r.run(ctx)
}

func (r *responder) run(ctx context.Context) {
	defer r.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-r.queue:
			if err := r.router.Send(ctx, a, alert.Trigger); err != nil && !errors.Is(err, alert.ErrNoRoute) {
				r.s.log.Warn("route alert", "alert", a.ID, "err", err)
			}
			if _, err := r.contain.Handle(ctx, a); err != nil {
				r.s.log.Error("containment", "alert", a.ID, "err", err)
			}
		}
	}
}

// transition follows an operator's change of an alert's status.
func (r *responder) transition(ctx context.Context, a *keywatch.Alert, c keywatch.Change) error {
	switch a.Status {
	case keywatch.AlertConfirmed:
		if _, err := r.contain.Confirm(ctx, a.ID, c.Actor); err != nil && keywatch.ErrorCode(err) != keywatch.ECONFLICT {
			return err
		}
	case keywatch.AlertAcknowledged:
		return r.router.Send(ctx, a, alert.Acknowledge)
	case keywatch.AlertResolved, keywatch.AlertFalsePositive:
		return r.router.Send(ctx, a, alert.Resolve)
	}
	return nil
}

func (r *responder) close() {
	r.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.router.Close(ctx)
}
