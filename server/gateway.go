package server

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/contain"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/gateway"
	"github.com/keywatch/keywatch/ingest"
)

// gatewayRoutes are the paths serve hands to its gateway when it runs one.
var gatewayRoutes = []string{"/v1/chat/", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/models", "/v1/messages", "/v1/gateway/"}

// startGateway builds the gateway that serve runs in-process: its usage
// goes into the same durable log as ingest, and containment on target
// gateway sets the live status it checks on the next request.
func (s *Server) startGateway(ctx context.Context, opt Options) error {
	s.batcher = &batcher{s: s}
	gw, closeState, err := NewGateway(ctx, s.cfg, gateway.Options{
		Store: s.store, Pepper: opt.Pepper, Logger: s.log, Now: s.now, Getenv: opt.Getenv, Sink: s.batcher.add,
	})
	if err != nil {
		return err
	}
	s.gw, s.gwClose = gw, closeState
	return nil
}

// NewGateway builds a gateway from cfg.Gateway as serve runs it, for serve
// and for gateway instances that run alone: a RedisState when
// gateway.redis.url is set (else a MemoryState) and, when cfg.GeoIP names
// a database, country lookups for keys with a country allow-list. It sets
// opt.State and opt.Geo and uses the rest of opt as given. close releases
// the Redis client once the gateway is no longer used.
func NewGateway(ctx context.Context, cfg Config, opt gateway.Options) (gw *gateway.Gateway, close func() error, err error) {
	if cfg.Gateway == nil {
		return nil, nil, keywatch.Errorf(keywatch.EINVALID, "gateway: the config has no gateway section")
	}
	if cfg.GeoIP != "" {
		g, err := enrich.OpenGeo(cfg.GeoIP)
		if err != nil {
			return nil, nil, err
		}
		opt.Geo = &lockedGeo{g: g}
	}
	state, closeState, err := gateway.OpenState(ctx, cfg.Gateway.Redis)
	if err != nil {
		return nil, nil, err
	}
	opt.State = state
	if gw, err = gateway.New(ctx, *cfg.Gateway, opt); err != nil {
		closeState()
		return nil, nil, err
	}
	return gw, closeState, nil
}

// lockedGeo serialises lookups: enrich.Geo's cache is not safe for
// concurrent use, and the gateway serves requests concurrently.
type lockedGeo struct {
	mu sync.Mutex
	g  *enrich.Geo
}

func (l *lockedGeo) Country(a netip.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.g.Country(a)
}

// batcher groups the gateway's usage events into log batches: a batch is
// appended when it holds batchEvents events or is batchDelay old, so
// detection sees gateway traffic within a tenth of a second.
type batcher struct {
	s   *Server
	mu  sync.Mutex
	buf []byte
	n   int
}

const (
	batchEvents = 512
	batchDelay  = 100 * time.Millisecond
)

// add is the gateway's Sink.
func (b *batcher) add(ev *keywatch.Event) {
	b.mu.Lock()
	if b.n == 0 {
		b.buf = b.s.newBatch()
	}
	b.buf = ingest.AppendNative(b.buf, ev)
	b.n++
	full := b.n >= batchEvents
	b.mu.Unlock()
	if full {
		b.flush(context.Background())
	}
}

func (b *batcher) flush(ctx context.Context) {
	b.mu.Lock()
	buf, n := b.buf, b.n
	b.buf, b.n = nil, 0
	b.mu.Unlock()
	if n == 0 {
		return
	}
	if err := b.s.append(ctx, buf); err != nil {
		b.s.m.eventsDropped.WithLabelValues("gateway").Add(float64(n))
		b.s.log.Error("gateway usage not recorded", "events", n, "err", err)
		return
	}
	b.s.m.eventsIn.WithLabelValues("gateway").Add(float64(n))
}

func (b *batcher) run(ctx context.Context) {
	t := time.NewTicker(batchDelay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			b.flush(context.Background())
			return
		case <-t.C:
			b.flush(ctx)
		}
	}
}

// gatewayActuator is containment's gateway target when serve runs the
// gateway: the inventory status (audited, for every later refresh and
// every instance's keyring) and then the live status every gateway
// instance checks on the next request.
type gatewayActuator struct {
	status contain.KeyStatusActuator
	gw     *gateway.Gateway
}

func (g *gatewayActuator) Apply(ctx context.Context, a contain.Action, k *keywatch.StoredKey) (contain.Result, error) {
	res, err := g.status.Apply(ctx, a, k)
	if err != nil {
		return res, err
	}
	return res, g.sync(ctx, k.ID)
}

func (g *gatewayActuator) Revert(ctx context.Context, a contain.Action, k *keywatch.StoredKey) (contain.Result, error) {
	res, err := g.status.Revert(ctx, a, k)
	if err != nil {
		return res, err
	}
	return res, g.sync(ctx, k.ID)
}

// sync copies the key's stored status to the gateway's live status.
func (g *gatewayActuator) sync(ctx context.Context, id string) error {
	k, err := g.status.Store.Key(ctx, id)
	if err != nil {
		return err
	}
	if err := g.gw.SetStatus(ctx, id, k.Status); err != nil {
		return fmt.Errorf("gateway live status of %s: %w", id, err)
	}
	return nil
}
