package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/keywatch/keywatch"
)

// State holds what must change on the next request: live key status and
// quota counters. MemoryState serves one instance; RedisState lets several
// instances share both. Implementations are safe for concurrent use.
//
// Counters are fixed windows (the minute for RPM and TPM, the UTC day for
// tokens per day) and a refusal says when its window ends, which becomes
// Retry-After.
type State interface {
	// Admit reads key id's live status and, unless it is disabled or
	// revoked, admits one request estimated at tokens against q (or
	// against clamped when the live status is clamped), counting it only
	// when admitted.
	Admit(ctx context.Context, id string, q, clamped keywatch.Quotas, tokens int64, now time.Time) (Verdict, error)
	// Status reads key id's live status ("" when none is set) without
	// counting anything: for answers that consume no quota, such as
	// minting a gateway token.
	Status(ctx context.Context, id string) (keywatch.KeyStatus, error)
	// AddTokens corrects the token counters of the windows that held at
	// (the admission time) by delta, once the real count is known. Windows
	// that have ended are left alone.
	AddTokens(ctx context.Context, id string, delta int64, at time.Time) error
	// SetStatus sets key id's live status; KeyActive (or "") clears it.
	SetStatus(ctx context.Context, id string, st keywatch.KeyStatus) error
}

// Verdict is State.Admit's answer.
type Verdict struct {
	Status     keywatch.KeyStatus // live status; "" when none is set
	Limit      Limit              // which quota refused the request; LimitNone when admitted
	RetryAfter time.Duration      // until the refusing window ends
}

// Limit names a quota.
type Limit int

// Quotas that can refuse a request.
const (
	LimitNone Limit = iota
	LimitRPM
	LimitTPM
	LimitTokensPerDay
)

func (l Limit) String() string {
	return [...]string{"none", "requests per minute", "tokens per minute", "tokens per day"}[l]
}

// windows returns the minute and day windows holding t and when each ends.
func windows(t time.Time) (minute, day int64, minuteEnd, dayEnd time.Time) {
	t = t.UTC()
	m := t.Truncate(time.Minute)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return m.Unix() / 60, d.Unix() / 86400, m.Add(time.Minute), d.AddDate(0, 0, 1)
}

// MemoryState is the State of a single gateway instance. Its zero value
// is ready to use.
type MemoryState struct {
	mu   sync.Mutex
	keys map[string]*memKey
}

type memKey struct {
	status        keywatch.KeyStatus
	minute, day   int64 // current windows
	rpm, tpm, tpd int64
}

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState { return &MemoryState{} }

func (s *MemoryState) key(id string) *memKey {
	if s.keys == nil {
		s.keys = map[string]*memKey{}
	}
	k := s.keys[id]
	if k == nil {
		k = &memKey{}
		s.keys[id] = k
	}
	return k
}

// Admit implements State.
func (s *MemoryState) Admit(_ context.Context, id string, q, clamped keywatch.Quotas, tokens int64, now time.Time) (Verdict, error) {
	minute, day, minuteEnd, dayEnd := windows(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.key(id)
	v := Verdict{Status: k.status}
	switch k.status {
	case keywatch.KeyDisabled, keywatch.KeyRevoked:
		return v, nil
	case keywatch.KeyClamped:
		q = clamped
	}
	if k.minute != minute {
		k.minute, k.rpm, k.tpm = minute, 0, 0
	}
	if k.day != day {
		k.day, k.tpd = day, 0
	}
	switch {
	case q.RPM > 0 && k.rpm+1 > q.RPM:
		v.Limit, v.RetryAfter = LimitRPM, minuteEnd.Sub(now)
	case q.TPM > 0 && k.tpm+tokens > q.TPM:
		v.Limit, v.RetryAfter = LimitTPM, minuteEnd.Sub(now)
	case q.TokensPerDay > 0 && k.tpd+tokens > q.TokensPerDay:
		v.Limit, v.RetryAfter = LimitTokensPerDay, dayEnd.Sub(now)
	default:
		k.rpm++
		k.tpm += tokens
		k.tpd += tokens
	}
	return v, nil
}

// Status implements State.
func (s *MemoryState) Status(_ context.Context, id string) (keywatch.KeyStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[id]; k != nil {
		return k.status, nil
	}
	return "", nil
}

// AddTokens implements State.
func (s *MemoryState) AddTokens(_ context.Context, id string, delta int64, at time.Time) error {
	minute, day, _, _ := windows(at)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.key(id)
	if k.minute == minute {
		k.tpm = max(0, k.tpm+delta)
	}
	if k.day == day {
		k.tpd = max(0, k.tpd+delta)
	}
	return nil
}

// SetStatus implements State.
func (s *MemoryState) SetStatus(_ context.Context, id string, st keywatch.KeyStatus) error {
	if st == keywatch.KeyActive {
		st = ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key(id).status = st
	return nil
}
