package profile

// Hour-of-week and hour-of-day slots. Slot 0 of the week is Monday 00:00 UTC.
const (
	WeekHours = 168
	DayHours  = 24
)

// Seasonal learns, for every hour of the week and every hour of the day, the
// busiest minute a key or service normally has (requests and tokens), and
// counts the current minute on a sliding window of six 10-second buckets.
//
// Peaks, not means, are learned: a spike detector compares the current
// minute with the busiest minute normally seen at that time, so Poisson noise
// and short legitimate bursts are part of the baseline. The learned value
// rises at once to a new high and decays towards lower ones (EWMA), so that a
// service's growth is followed and its old peaks are forgotten within weeks.
type Seasonal struct {
	Week     [WeekHours]Peak
	Day      [DayHours]Peak
	WeekSeen [3]uint64 // bit i: Week[i] has been learned at least once
	DaySeen  uint32    // bit i: Day[i] has been learned at least once

	// The hour being observed: its index (Unix hours) and busiest minute so far.
	Hour     int64
	HourPeak Peak
	// Poisoned marks the current hour as under alert: its peak is not learned.
	Poisoned bool

	// Sliding minute: six 10-second buckets; Tick is the Unix 10-second index
	// of the newest bucket.
	Tick    int64
	Buckets [6]Peak
}

// Peak is a number of requests and of tokens in one minute.
type Peak struct {
	Req, Tok float32
}

func (p Peak) max(q Peak) Peak {
	if q.Req > p.Req {
		p.Req = q.Req
	}
	if q.Tok > p.Tok {
		p.Tok = q.Tok
	}
	return p
}

// Alphas of the EWMA for hour-of-week slots (one sample a week) and
// hour-of-day slots (one a day).
const (
	weekAlpha = 0.4
	dayAlpha  = 0.2
)

// WeekSlot returns the hour-of-week slot of Unix second t (Monday 00:00 UTC
// is 0). The Unix epoch was a Thursday.
func WeekSlot(t int64) int { return int((floorDiv(t, 3600) + 72) % WeekHours) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Add counts one event of tok tokens at Unix second t and returns the
// sliding-minute totals including it. Events must come in nondecreasing time
// order per profile; a late event (up to a minute) is counted in the current
// window, an older one only in the learned peaks it can still reach.
func (s *Seasonal) Add(t int64, tok int64) Peak {
	hour := floorDiv(t, 3600)
	if hour != s.Hour {
		s.closeHour(hour)
	}
	tick := floorDiv(t, 10)
	if d := tick - s.Tick; d > 0 {
		if d >= int64(len(s.Buckets)) {
			s.Buckets = [6]Peak{}
		} else {
			for i := int64(1); i <= d; i++ {
				s.Buckets[(s.Tick+i)%6] = Peak{}
			}
		}
		s.Tick = tick
	}
	b := &s.Buckets[((tick%6)+6)%6]
	b.Req++
	b.Tok += float32(tok)
	m := s.Minute()
	s.HourPeak = s.HourPeak.max(m)
	return m
}

// Minute returns the requests and tokens of the sliding minute ending at the
// newest bucket.
func (s *Seasonal) Minute() Peak {
	var m Peak
	for _, b := range s.Buckets {
		m.Req += b.Req
		m.Tok += b.Tok
	}
	return m
}

// closeHour learns the finished hour (and any silent hours since it, as
// zero peaks) and starts the hour of Unix hour index next.
func (s *Seasonal) closeHour(next int64) {
	if s.Hour != 0 && next > s.Hour {
		gap := next - s.Hour
		if gap > WeekHours {
			gap = WeekHours
		}
		for i := int64(0); i < gap; i++ {
			h := s.Hour + i
			peak := Peak{}
			if i == 0 {
				peak = s.HourPeak
			}
			if !(i == 0 && s.Poisoned) {
				s.learn(h, peak)
			}
		}
	}
	s.Hour = next
	s.HourPeak = Peak{}
	s.Poisoned = false
}

func (s *Seasonal) learn(hour int64, p Peak) {
	w := int((hour + 72) % WeekHours)
	d := int(hour % DayHours)
	if s.WeekSeen[w/64]&(1<<(w%64)) == 0 {
		s.Week[w] = p
		s.WeekSeen[w/64] |= 1 << (w % 64)
	} else {
		s.Week[w] = ewmaUp(s.Week[w], p, weekAlpha)
	}
	if s.DaySeen&(1<<d) == 0 {
		s.Day[d] = p
		s.DaySeen |= 1 << d
	} else {
		s.Day[d] = ewmaUp(s.Day[d], p, dayAlpha)
	}
}

// ewmaUp moves old towards new by alpha, but jumps straight to a higher new.
func ewmaUp(old, new Peak, alpha float32) Peak {
	return Peak{Req: upd(old.Req, new.Req, alpha), Tok: upd(old.Tok, new.Tok, alpha)}
}

func upd(old, new, alpha float32) float32 {
	if new >= old {
		return new
	}
	return old + alpha*(new-old)
}

// Baseline returns the normal busiest minute for Unix second t: the largest
// learned peak of the hour of week containing t and its two neighbours (so
// that a nightly job starting a little early or late is still normal), each
// falling back to the hour of day where the week slot has not been learned
// yet. ok is false when nothing at all has been learned.
func (s *Seasonal) Baseline(t int64) (p Peak, ok bool) {
	hour := floorDiv(t, 3600)
	for h := hour - 1; h <= hour+1; h++ {
		w := int((h + 72) % WeekHours)
		d := int(h % DayHours)
		switch {
		case s.WeekSeen[w/64]&(1<<(w%64)) != 0:
			p = p.max(s.Week[w])
			ok = true
		case s.DaySeen&(1<<d) != 0:
			p = p.max(s.Day[d])
			ok = true
		}
	}
	return p, ok
}

// Poison marks the current hour so that its peak is not learned: traffic
// under alert must not become tomorrow's baseline.
func (s *Seasonal) Poison() { s.Poisoned = true }

// Learned reports how many hour-of-day slots have been learned.
func (s *Seasonal) Learned() int {
	n := 0
	for x := s.DaySeen; x != 0; x &= x - 1 {
		n++
	}
	return n
}
