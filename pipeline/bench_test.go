package pipeline_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/detect"
	"github.com/keywatch/keywatch/enrich"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/inventory"
	"github.com/keywatch/keywatch/pipeline"
	"github.com/keywatch/keywatch/sim"
)

// simData is a two-week default simulation, uncompressed in memory, shared
// by the benchmarks.
type simData struct {
	dir    string
	events []byte
	lines  int
}

var (
	simOnce sync.Once
	simRes  simData
	simErr  error
)

func loadSim(b *testing.B) simData {
	b.Helper()
	simOnce.Do(func() {
		dir, err := os.MkdirTemp("", "keywatch-bench-")
		if err != nil {
			simErr = err
			return
		}
		if _, err := sim.Run(context.Background(), dir, sim.Config{Days: 21, Seed: 1}); err != nil {
			simErr = err
			return
		}
		f, err := os.Open(filepath.Join(dir, "events.jsonl.gz"))
		if err != nil {
			simErr = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			simErr = err
			return
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			simErr = err
			return
		}
		simRes = simData{dir: dir, events: raw, lines: bytes.Count(raw, []byte{'\n'})}
	})
	if simErr != nil {
		b.Fatal(simErr)
	}
	return simRes
}

func newPipeline(b *testing.B, dir string) *pipeline.Pipeline {
	b.Helper()
	keys, err := inventory.Load(filepath.Join(dir, "inventory.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	geo, err := enrich.OpenGeo(filepath.Join(dir, "geoip.mmdb"))
	if err != nil {
		b.Fatal(err)
	}
	asn, err := enrich.OpenASN(filepath.Join(dir, "asn.mmdb"))
	if err != nil {
		b.Fatal(err)
	}
	return &pipeline.Pipeline{
		Enricher: &enrich.Enricher{Inventory: inventory.NewIndex(keys), Geo: geo, ASN: asn},
		Engine:   detect.New(detect.DefaultConfig()),
	}
}

// BenchmarkReplay measures the whole replay pipeline over uncompressed
// native JSON Lines: decode, enrich (inventory, GeoIP, ASN) and every
// detector, on three weeks of simulated traffic with its attacks. One
// iteration is one event; run with -cpu 1 for the one-core figure.
func BenchmarkReplay(b *testing.B) {
	d := loadSim(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(d.events) / d.lines))
	b.ResetTimer()
	done := 0
	for done < b.N {
		b.StopTimer()
		p := newPipeline(b, d.dir) // fresh profiles: the input's times start over
		n := min(b.N-done, d.lines)
		in := bytes.NewReader(d.events[:lineEnd(d.events, n)])
		b.StartTimer()
		if err := p.Feed(context.Background(), "bench", in); err != nil {
			b.Fatal(err)
		}
		done += int(p.Counts().Events)
		if p.Counts().Events == 0 {
			b.Fatal("no events decoded")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecode measures the native decoder alone on the same input.
func BenchmarkDecode(b *testing.B) {
	d := loadSim(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(d.events) / d.lines))
	b.ResetTimer()
	var ev keywatch.Event
	done := 0
	for done < b.N {
		n := min(b.N-done, d.lines)
		dec := ingest.NewNative(bytes.NewReader(d.events[:lineEnd(d.events, n)]))
		for {
			err := dec.Next(&ev)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			done++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// lineEnd returns the offset just past the n-th newline of b.
func lineEnd(b []byte, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(b[off:], '\n')
		if j < 0 {
			return len(b)
		}
		off += j + 1
	}
	return off
}
