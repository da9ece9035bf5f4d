// Package pipeline connects the stages of DESIGN.md for one stream of usage
// events: decode (ingest), enrich, then profile and detect. replay and demo
// run it over files; serve will run it over what arrives.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/detect"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/ingest"
)

// Pipeline runs events through enrichment and detection. Its zero value is
// not usable: set Engine. Not safe for concurrent use.
type Pipeline struct {
	Enricher *enrich.Enricher // nil: events are used as they come
	Engine   *detect.Engine
	// Emit receives every alert; nil drops them.
	Emit func(*keywatch.Alert)
	// BadLine is told of every line that could not be decoded; it never
	// stops the run.
	BadLine func(source string, err *ingest.LineError)
	// Progress, when set, is called about every 64Ki events.
	Progress func(Counts)
	// Usage, when set, collects what each key was used for.
	Usage *Usage

	counts Counts
	ev     keywatch.Event
}

// Counts says how much a Pipeline has processed.
type Counts struct {
	Events   int64 // decoded and processed
	BadLines int64 // skipped
}

// Counts returns the totals so far.
func (p *Pipeline) Counts() Counts { return p.counts }

// Feed decodes native JSON Lines from r (already decompressed) and processes
// every event. source names r in bad-line reports. It returns at the end of
// r, on a read error, or when ctx is done.
func (p *Pipeline) Feed(ctx context.Context, source string, r io.Reader) error {
	dec := ingest.NewNative(r)
	emit := p.Emit
	if emit == nil {
		emit = func(*keywatch.Alert) {}
	}
	for n := 0; ; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if p.Progress != nil && n > 0 {
				p.Progress(p.counts)
			}
		}
		err := dec.Next(&p.ev)
		if err != nil {
			var le *ingest.LineError
			switch {
			case errors.Is(err, io.EOF):
				return nil
			case errors.As(err, &le):
				p.counts.BadLines++
				if p.BadLine != nil {
					p.BadLine(source, le)
				}
				continue
			default:
				return fmt.Errorf("read %s: %w", source, err)
			}
		}
		p.Process(&p.ev, emit)
	}
}

// Process enriches and runs detection on one decoded event.
func (p *Pipeline) Process(ev *keywatch.Event, emit func(*keywatch.Alert)) {
	var key *keywatch.Key
	if p.Enricher != nil {
		key = p.Enricher.Enrich(ev)
	}
	p.counts.Events++
	if p.Usage != nil {
		p.Usage.Observe(ev)
	}
	p.Engine.Process(ev, key, emit)
}

// Usage collects what a run observed of each key, for the inventory's
// last-used times and audits. Not safe for concurrent use.
type Usage struct {
	keys map[string]*keywatch.KeyUse
}

// NewUsage returns an empty Usage.
func NewUsage() *Usage { return &Usage{keys: make(map[string]*keywatch.KeyUse)} }

// Observe records ev. Successful requests only: a refused request is not a
// use of the key.
func (u *Usage) Observe(ev *keywatch.Event) {
	if ev.Status >= 400 {
		return
	}
	k := u.keys[ev.KeyID]
	if k == nil {
		k = &keywatch.KeyUse{}
		u.keys[ev.KeyID] = k
	}
	if ev.Time.After(k.LastUsed) {
		k.LastUsed = ev.Time
	}
	addItem(&k.Envs, ev.Env)
	addItem(&k.Models, ev.Model)
	addItem(&k.Operations, ev.Operation)
}

func addItem(list *[]string, v string) {
	if v == "" || len(*list) >= keywatch.MaxUsageItems {
		return
	}
	for _, x := range *list {
		if x == v {
			return
		}
	}
	*list = append(*list, v)
}

// Keys returns the usage by key id.
func (u *Usage) Keys() map[string]keywatch.KeyUse {
	out := make(map[string]keywatch.KeyUse, len(u.keys))
	for id, k := range u.keys {
		out[id] = *k
	}
	return out
}
