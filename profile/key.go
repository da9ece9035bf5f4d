package profile

import "net/netip"

// Key is the behavioural profile of one key (or, aggregated, of one
// service). Its size is bounded: the sets are capped by the engine's
// configuration and the windows are fixed arrays.
type Key struct {
	First, Last int64 // Unix seconds of the first and latest event

	Volume     Seasonal
	Countries  Set
	ASNs       Set
	Models     Set // ids from the engine's symbol table
	Operations Set // ids from the engine's symbol table

	Fanout Fanout
	Auth   Failures

	// InputMean is an EWMA of input tokens per request, to judge whether a
	// newcomer's prompts are unusually long.
	InputMean float32
	// MaxPrice is the highest price (USD per million tokens, input and
	// output averaged) of an established model, decaying slowly.
	MaxPrice float32
}

// Age returns how long, in seconds, the profile has been observing at Unix
// second t.
func (k *Key) Age(t int64) int64 {
	if k.First == 0 {
		return 0
	}
	return t - k.First
}

// Touch records an event at Unix second t in the profile's lifetime.
func (k *Key) Touch(t int64) {
	if k.First == 0 || t < k.First {
		k.First = t
	}
	if t > k.Last {
		k.Last = t
	}
}

// ObserveInput folds one request's input tokens into InputMean.
func (k *Key) ObserveInput(in int64) {
	const alpha = 0.02
	if k.InputMean == 0 {
		k.InputMean = float32(in)
		return
	}
	k.InputMean += alpha * (float32(in) - k.InputMean)
}

// Fanout counts the distinct client addresses of a key in aligned 5-minute
// windows and learns the usual number.
type Fanout struct {
	Window int64    // Unix 5-minute index of the current window
	Hashes []uint32 // distinct address hashes seen in it, capped
	Peak   float32  // learned usual distinct count per window (EWMA-up)
}

// fanoutWindow is the width of a fan-out window in seconds.
const fanoutWindow = 300

// fanoutAlpha lets the learned fan-out forget a busier past over about a
// week of windows (288 a day), so quiet nights don't lower it before the
// next busy day.
const fanoutAlpha = 0.0005

// Add records addr at Unix second t and returns the distinct count of the
// current window. The count saturates at capacity, which callers set above
// their alert threshold.
func (f *Fanout) Add(t int64, addr netip.Addr, capacity int, poisoned bool) int {
	w := floorDiv(t, fanoutWindow)
	if w != f.Window {
		if f.Window != 0 && !poisoned {
			f.Peak = upd(f.Peak, float32(len(f.Hashes)), fanoutAlpha)
		}
		f.Window = w
		f.Hashes = f.Hashes[:0]
	}
	h := addrHash(addr)
	for _, x := range f.Hashes {
		if x == h {
			return len(f.Hashes)
		}
	}
	if len(f.Hashes) < capacity {
		f.Hashes = append(f.Hashes, h)
	}
	return len(f.Hashes)
}

func addrHash(a netip.Addr) uint32 {
	b := a.As16()
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// Failures counts auth failures (401, 403) on a sliding five minutes of
// one-minute buckets and learns the usual count.
type Failures struct {
	Minute  int64 // Unix minute of the newest bucket
	Buckets [5]uint16
	Peak    float32
}

// Add counts a failure at Unix second t and returns the five-minute total.
func (f *Failures) Add(t int64) int {
	m := floorDiv(t, 60)
	if d := m - f.Minute; d > 0 {
		total := f.total()
		if d >= 5 {
			f.Peak = upd(f.Peak, float32(total), 0.05)
			f.Buckets = [5]uint16{}
		} else {
			for i := int64(1); i <= d; i++ {
				f.Buckets[(f.Minute+i)%5] = 0
			}
		}
		f.Minute = m
	}
	b := &f.Buckets[((m%5)+5)%5]
	if *b < 1<<16-1 {
		*b++
	}
	return f.total()
}

func (f *Failures) total() int {
	n := 0
	for _, b := range f.Buckets {
		n += int(b)
	}
	return n
}
