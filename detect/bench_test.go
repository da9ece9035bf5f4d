package detect_test

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/detect"
)

// BenchmarkEngine measures detection alone over realistic benign traffic of
// 200 keys that have learned their baselines.
func BenchmarkEngine(b *testing.B) {
	var evs []keywatch.Event
	for k := 0; k < 20; k++ {
		for _, ev := range benign(fmt.Sprintf("key-%d", k), 9, uint64(k)) {
			evs = append(evs, ev)
		}
	}
	sortEvents(evs)
	e := detect.New(detect.DefaultConfig())
	emit := func(*keywatch.Alert) {}
	for i := range evs { // learn
		e.Process(&evs[i], nil, emit)
	}
	// Replay the last day again, shifted forward a week, as steady state.
	shift := 7 * 24 * time.Hour
	day := evs[len(evs)*8/9:]
	for i := range day {
		day[i].Time = day[i].Time.Add(shift)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &day[i%len(day)]
		e.Process(ev, nil, emit)
		if i%len(day) == len(day)-1 {
			b.StopTimer()
			for j := range day {
				day[j].Time = day[j].Time.Add(shift)
			}
			b.StartTimer()
		}
	}
}

// BenchmarkProfileMemory loads 100,000 keys, each with a day of traffic from
// three countries, networks and models, and reports the heap held per key.
func BenchmarkProfileMemory(b *testing.B) {
	const keys = 100_000
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e := detect.New(detect.DefaultConfig())
		emit := func(*keywatch.Alert) {}
		ev := keywatch.Event{Service: "svc", Operation: "chat", InputTokens: 500, OutputTokens: 100, Status: 200}
		countries := []string{"US", "IE", "SG"}
		models := []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1"}
		names := make([]string, keys)
		for k := range names {
			names[k] = fmt.Sprintf("key-%06d", k)
		}
		for h := 0; h < 30; h++ {
			for k := 0; k < keys; k++ {
				ev.KeyID = names[k]
				ev.Time = t0.Add(time.Duration(h) * time.Hour).Add(time.Duration(k%3600) * time.Second)
				ev.Country = countries[h%3]
				ev.ASN = uint32(14618 + h%3)
				ev.Model = models[(h+k)%3]
				ev.ClientIP = netip.AddrFrom4([4]byte{3, 80, byte(k >> 8), byte(h % 8)})
				e.Process(&ev, nil, emit)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/keys, "bytes/key")
		runtime.KeepAlive(e)
	}
}
