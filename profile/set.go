package profile

// Minutes since the Unix epoch: profile times are kept to the minute in 32
// bits, which lasts until the year 10136 and halves the state per entry.
type Minute uint32

// MinuteOf returns the minute of Unix second t.
func MinuteOf(t int64) Minute {
	if t < 0 {
		return 0
	}
	return Minute(t / 60)
}

// Horizon is how long a profile remembers a country, network, model or
// operation it no longer sees: 30 days.
const Horizon Minute = 30 * 24 * 60

// Entry is one member of a Set: something a key has used (a country, an AS
// number, an interned model name's id), when it was first and last seen, and
// how much was used of it since it was first seen.
type Entry struct {
	ID          uint32
	First, Last Minute
	Count       uint32
	// Tokens counts tokens since the minute Since; detectors restart the
	// count to judge a newcomer over a sliding window.
	Tokens uint32
	Since  Minute
	// Established is set once the entry has been part of normal use long
	// enough to be baseline; newcomers are candidates until then.
	Established bool
}

// Set is a small bounded set of things a key uses, with novelty: a member
// becomes established (baseline) after it has been seen over a span of
// Promote minutes, or at once while the owner is still learning. When full,
// a candidate is evicted before any established member, so that a flood of
// newcomers (a leaked key used from hundreds of networks) cannot push the
// baseline out. Members unseen for the Horizon are forgotten.
type Set struct {
	Entries []Entry
}

// Promote is how long a newcomer must keep being seen before it becomes
// established: a day.
const Promote Minute = 24 * 60

// Observe records a use of id at minute now with tok tokens. learning says
// the owner is still learning its baseline, so a newcomer is established at
// once. It returns the member and whether it was new (absent before).
// max bounds the set's size.
func (s *Set) Observe(id uint32, now Minute, tok int64, learning bool, max int) (e *Entry, isNew bool) {
	for i := range s.Entries {
		e := &s.Entries[i]
		if e.ID != id {
			continue
		}
		if now > e.Last {
			e.Last = now
		}
		e.Count++
		e.Tokens = satAdd(e.Tokens, tok)
		if !e.Established && (learning || e.Last-e.First >= Promote) {
			e.Established = true
		}
		return e, false
	}
	ne := Entry{ID: id, First: now, Last: now, Since: now, Count: 1, Tokens: satAdd(0, tok), Established: learning}
	if len(s.Entries) < max {
		s.Entries = append(s.Entries, ne)
		return &s.Entries[len(s.Entries)-1], true
	}
	v := s.victim(now)
	s.Entries[v] = ne
	return &s.Entries[v], true
}

// victim picks the member to replace: one past the horizon, else the
// least recently seen candidate, else the least recently seen member.
func (s *Set) victim(now Minute) int {
	best, bestCand := -1, -1
	for i := range s.Entries {
		e := &s.Entries[i]
		if now-e.Last > Horizon {
			return i
		}
		if !e.Established && (bestCand < 0 || e.Last < s.Entries[bestCand].Last) {
			bestCand = i
		}
		if best < 0 || e.Last < s.Entries[best].Last {
			best = i
		}
	}
	if bestCand >= 0 {
		return bestCand
	}
	return best
}

// Known reports whether id is an established member seen within the horizon
// of now.
func (s *Set) Known(id uint32, now Minute) bool {
	for i := range s.Entries {
		e := &s.Entries[i]
		if e.ID == id {
			return e.Established && now-e.Last <= Horizon
		}
	}
	return false
}

// Get returns the member with the given id, or nil.
func (s *Set) Get(id uint32) *Entry {
	for i := range s.Entries {
		if s.Entries[i].ID == id {
			return &s.Entries[i]
		}
	}
	return nil
}

// EstablishedIDs appends the ids of established members to dst.
func (s *Set) EstablishedIDs(dst []uint32) []uint32 {
	for i := range s.Entries {
		if s.Entries[i].Established {
			dst = append(dst, s.Entries[i].ID)
		}
	}
	return dst
}

func satAdd(a uint32, b int64) uint32 {
	if b <= 0 {
		return a
	}
	s := int64(a) + b
	if s > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(s)
}

// CountryID packs an ISO 3166-1 alpha-2 code into a Set id.
func CountryID(code string) uint32 {
	if len(code) != 2 {
		return 0
	}
	return uint32(code[0])<<8 | uint32(code[1])
}

// CountryCode unpacks a CountryID.
func CountryCode(id uint32) string {
	if id == 0 {
		return ""
	}
	return string([]byte{byte(id >> 8), byte(id)})
}
