package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/detect"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/pipeline"
	"github.com/keywatch/keywatch/wal"
)

// checkpointName names serve's snapshot in the store.
const checkpointName = "serve"

// checkpointBytes forces a checkpoint after this much input, whatever the
// interval, so that the log between checkpoints stays small.
const checkpointBytes = 256 << 20

// lag returns the bytes accepted into the log and not yet processed.
func (p *processor) lag() int64 { return p.appended.Load() - p.consumed.Load() }

// checkpoint is what serve saves to resume exactly where it stopped: the
// log position of the next batch to process, the profiles as of that
// position, and the recent request ids for duplicate dropping.
type checkpoint struct {
	Version  int
	Next     []byte // wal.Pos, text form
	Profiles []byte // detect.Engine.Save
	Seen     []string
	// Processed counts events run through detection since the first start.
	Processed int64
}

// processor is the single goroutine that owns detection: it reads accepted
// batches from the log in order and runs them through the pipeline.
type processor struct {
	s        *Server
	log      *wal.Log
	next     wal.Pos
	engine   *detect.Engine
	pipe     *pipeline.Pipeline
	enricher *enrich.Enricher
	seen     *recent
	resp     *responder
	dec      *ingest.Native // reused across batches: it owns a large buffer and intern tables
	// processed counts events run through detection since the first start,
	// restored from the checkpoint; read by the API with atomic loads.
	processed atomic.Int64
	// appended and consumed count log bytes since this start; their
	// difference is the lag ingest bounds.
	appended, consumed atomic.Int64
	sinceCheckpoint    int64 // bytes processed since the last checkpoint
	lastInv            time.Time
}

func newProcessor(ctx context.Context, s *Server, resp *responder) (*processor, error) {
	// The log keeps what came since the last checkpoint, processed or not;
	// its own bound is a disk cap well above the lag bound ingest enforces.
	log, err := wal.Open(wal.Options{Dir: filepath.Join(s.cfg.DataDir, "wal"), MaxPending: max(4*s.cfg.Ingest.MaxPending, 1<<30)})
	if err != nil {
		return nil, fmt.Errorf("open event log in %s: %w", s.cfg.DataDir, err)
	}
	p := &processor{s: s, log: log, engine: detect.New(s.cfg.Detection), seen: newRecent(s.cfg.Ingest.DedupWindow), resp: resp}
	p.engine.Clock = s.now
	p.dec = ingest.NewNative(bytes.NewReader(nil))
	p.enricher = &enrich.Enricher{}
	if s.cfg.GeoIP != "" {
		if p.enricher.Geo, err = enrich.OpenGeo(s.cfg.GeoIP); err != nil {
			log.Close()
			return nil, err
		}
	}
	if s.cfg.ASN != "" {
		if p.enricher.ASN, err = enrich.OpenASN(s.cfg.ASN); err != nil {
			log.Close()
			return nil, err
		}
	}
	if err := p.restore(ctx); err != nil {
		log.Close()
		return nil, err
	}
	if err := p.refreshInventory(ctx); err != nil {
		log.Close()
		return nil, err
	}
	p.pipe = &pipeline.Pipeline{Enricher: p.enricher, Engine: p.engine}
	return p, nil
}

// restore loads the last checkpoint, if any.
func (p *processor) restore(ctx context.Context) error {
	b, err := p.s.store.Snapshot(ctx, checkpointName)
	if keywatch.ErrorCode(err) == keywatch.ENOTFOUND {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	var c checkpoint
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&c); err != nil || c.Version != 1 {
		return keywatch.Errorf(keywatch.EINVALID, "checkpoint in store is damaged or from another version")
	}
	if err := p.next.UnmarshalText(c.Next); err != nil {
		return fmt.Errorf("checkpoint position: %w", err)
	}
	if err := p.engine.Load(bytes.NewReader(c.Profiles)); err != nil {
		return err
	}
	for _, id := range c.Seen {
		p.seen.add(id)
	}
	p.processed.Store(c.Processed)
	return nil
}

// refreshInventory reloads keys from the store, so that status changes
// (containment, keys disable) reach detection.
func (p *processor) refreshInventory(ctx context.Context) error {
	stored, err := p.s.store.Keys(ctx, keywatch.KeyFilter{})
	if err != nil {
		return fmt.Errorf("read inventory: %w", err)
	}
	keys := make([]keywatch.Key, len(stored))
	for i := range stored {
		keys[i] = stored[i].Key
	}
	ix := inventory.NewIndex(keys)
	p.enricher.Inventory = ix
	p.resp.setInventory(ix)
	p.lastInv = p.s.now()
	return nil
}

// run processes batches until ctx is done.
func (p *processor) run(ctx context.Context) error {
	defer p.log.Close()
	r := p.log.Reader(p.next)
	lastCheckpoint := time.Now()
	every := time.Duration(p.s.cfg.Checkpoint)
	for {
		rec, err := r.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				// Shutting down: save progress with a fresh context.
				cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				return p.checkpoint(cctx)
			}
			return fmt.Errorf("read event log: %w", err)
		}
		p.process(ctx, rec.Data)
		p.next = rec.Next
		p.consumed.Add(int64(len(rec.Data)))
		p.sinceCheckpoint += int64(len(rec.Data))
		// Checkpoint on time, or sooner under load so that the log on disk
		// stays bounded.
		if time.Since(lastCheckpoint) >= every || p.sinceCheckpoint >= checkpointBytes {
			p.sinceCheckpoint = 0
			if err := p.checkpoint(ctx); err != nil {
				p.s.log.Error("checkpoint failed", "err", err)
			}
			lastCheckpoint = time.Now()
		}
		if p.s.now().Sub(p.lastInv) > 10*time.Second {
			if err := p.refreshInventory(ctx); err != nil {
				p.s.log.Error("inventory refresh failed", "err", err)
			}
		}
	}
}

// process runs one batch through detection and hands its alerts on.
func (p *processor) process(ctx context.Context, rec []byte) {
	if len(rec) < batchHeader {
		p.s.log.Error("damaged batch in event log", "len", len(rec))
		return
	}
	received := time.Unix(0, int64(binary.BigEndian.Uint64(rec)))
	var alerts []*keywatch.Alert
	emit := func(a *keywatch.Alert) { alerts = append(alerts, a) }
	dec := p.dec
	dec.Reset(bytes.NewReader(rec[batchHeader:]))
	var ev keywatch.Event
	processed := 0
	for {
		err := dec.Next(&ev)
		if err != nil {
			var le *ingest.LineError
			if errors.As(err, &le) {
				continue // validated at ingest; cannot happen unless the log was edited
			}
			break
		}
		if ev.RequestID != "" && !p.seen.add(ev.RequestID) {
			p.s.m.eventsDropped.WithLabelValues("duplicate").Inc()
			continue
		}
		p.pipe.Process(&ev, emit)
		processed++
	}
	p.s.m.processed.Add(float64(processed))
	p.processed.Add(int64(processed))
	if len(alerts) == 0 {
		return
	}
	if err := p.s.store.PutAlerts(ctx, alerts); err != nil {
		p.s.log.Error("store alerts", "err", err, "alerts", len(alerts))
	}
	stored := p.s.now()
	for _, a := range alerts {
		p.s.m.alerts.WithLabelValues(a.Rule, string(a.Severity)).Inc()
		p.s.m.detection.Observe(stored.Sub(received).Seconds())
		p.s.m.mttd.Observe(a.Time.Sub(a.FirstSeen).Seconds())
		p.s.log.Info("alert", "id", a.ID, "rule", a.Rule, "key", a.KeyID, "severity", a.Severity)
		p.resp.enqueue(a)
	}
}

// checkpoint saves the position, profiles and recent ids, then lets the log
// drop what is before the position.
func (p *processor) checkpoint(ctx context.Context) error {
	var prof bytes.Buffer
	if err := p.engine.Save(&prof); err != nil {
		return err
	}
	pos, err := p.next.MarshalText()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(checkpoint{Version: 1, Next: pos, Profiles: prof.Bytes(), Seen: p.seen.list(), Processed: p.processed.Load()}); err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := p.s.store.PutSnapshot(ctx, checkpointName, b.Bytes()); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return p.log.Release(p.next)
}

// recent remembers the last n request ids, for duplicate dropping.
type recent struct {
	n    int
	ring []string
	at   int
	set  map[string]struct{}
}

func newRecent(n int) *recent { return &recent{n: n, set: make(map[string]struct{})} }

// add records id and reports whether it was new.
func (r *recent) add(id string) bool {
	if r.n == 0 {
		return true
	}
	if _, dup := r.set[id]; dup {
		return false
	}
	id = string([]byte(id)) // the decoder's bytes are reused
	if len(r.ring) < r.n {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.at])
		r.ring[r.at] = id
		r.at = (r.at + 1) % r.n
	}
	r.set[id] = struct{}{}
	return true
}

// list returns the ids oldest first.
func (r *recent) list() []string {
	if len(r.ring) < r.n {
		return append([]string(nil), r.ring...)
	}
	return append(append([]string(nil), r.ring[r.at:]...), r.ring[:r.at]...)
}
