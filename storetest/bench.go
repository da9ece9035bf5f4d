package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
)

// benchKeys is the size of the benchmark inventory.
const benchKeys = 100_000

// BenchPutKeys100k measures importing 100,000 keys into an empty store.
func BenchPutKeys100k(b *testing.B, open Opener) {
	keys := ManyKeys(benchKeys)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s := open(b)
		b.StartTimer()
		if err := s.PutKeys(ctx, keys, who); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}

// loaded returns a store holding the benchmark inventory.
func loaded(b *testing.B, open Opener) (keywatch.Store, []keywatch.StoredKey) {
	keys := ManyKeys(benchKeys)
	s := open(b)
	if err := s.PutKeys(ctx, keys, who); err != nil {
		b.Fatal(err)
	}
	return s, keys
}

// BenchKeys measures listing all of 100,000 keys.
func BenchKeys(b *testing.B, open Opener) {
	s, keys := loaded(b, open)
	n := len(keys)
	b.ResetTimer()
	{ // the loop body
		b.ReportAllocs()
		for b.Loop() {
			got, err := s.Keys(ctx, keywatch.KeyFilter{})
			if err != nil || len(got) != n {
				b.Fatalf("%d keys, %v", len(got), err)
			}
		}
	}
}

// BenchKeyByFingerprint measures fingerprint lookups among 100,000 keys.
func BenchKeyByFingerprint(b *testing.B, open Opener) {
	s, keys := loaded(b, open)
	n := len(keys)
	b.ResetTimer()
	{ // the loop body
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k, _, err := s.KeyByFingerprint(ctx, keys[i%n].Fingerprint)
			if err != nil || k.ID != keys[i%n].ID {
				b.Fatal(err)
			}
			i += 7919
		}
	}
}

// BenchPutAlerts measures storing alerts in batches of 100.
func BenchPutAlerts(b *testing.B, open Opener) {
	s, keys := loaded(b, open)
	n := len(keys)
	b.ResetTimer()
	{ // the loop body
		b.ReportAllocs()
		batch := make([]*keywatch.Alert, 100)
		i := 0
		for b.Loop() {
			for j := range batch {
				batch[j] = alert(fmt.Sprintf("bench-%d", i), t0.Add(time.Duration(i)*time.Second), keys[i%n].ID, "volume-spike", "svc")
				i++
			}
			if err := s.PutAlerts(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/alert")
	}
}

// BenchTouchKeys measures raising the last-used time of 1,000 keys at once
// among 100,000.
func BenchTouchKeys(b *testing.B, open Opener) {
	s, keys := loaded(b, open)
	n := len(keys)
	b.ResetTimer()
	{ // the loop body
		b.ReportAllocs()
		touch := make(map[string]keywatch.KeyUse, 1000)
		at := t0
		i := 0
		for b.Loop() {
			clear(touch)
			at = at.Add(time.Second)
			for range 1000 {
				touch[keys[i%n].ID] = keywatch.KeyUse{LastUsed: at}
				i += 7919
			}
			if err := s.TouchKeys(ctx, touch); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchSnapshot measures saving and reading back a 4 MiB profile snapshot,
// as replay --store and serve's checkpoints do.
func BenchSnapshot(b *testing.B, open Opener) {
	s := open(b)
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PutSnapshot(ctx, "bench", data); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Snapshot(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
