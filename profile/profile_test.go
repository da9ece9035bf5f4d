package profile_test

import (
	"testing"
	"time"

	"github.com/keywatch/keywatch/profile"
)

func TestWeekSlot(t *testing.T) {
	tests := []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC), 0},      // Monday
		{time.Date(2026, 9, 7, 13, 59, 0, 0, time.UTC), 13},   // Monday afternoon
		{time.Date(2026, 9, 13, 23, 0, 0, 0, time.UTC), 167},  // Sunday night
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 3 * 24}, // a Thursday
		{time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), 71},  // before the epoch
	}
	for _, tt := range tests {
		if got := profile.WeekSlot(tt.at.Unix()); got != tt.want {
			t.Errorf("WeekSlot(%s) = %d, want %d", tt.at, got, tt.want)
		}
	}
}

func TestSeasonalLearnsPeaksAndSkipsPoisonedHours(t *testing.T) {
	var s profile.Seasonal
	start := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC).Unix()
	// Day 0: 10 requests a minute at 02:00, 1 a minute otherwise.
	for m := int64(0); m < 24*60; m++ {
		n := 1
		if m/60 == 2 {
			n = 10
		}
		for i := 0; i < n; i++ {
			s.Add(start+m*60+int64(i), 100)
		}
	}
	if _, ok := s.Baseline(start); !ok {
		t.Fatal("nothing learned after a day")
	}
	next := start + 24*3600
	if p, _ := s.Baseline(next + 2*3600); p.Req < 10 {
		t.Errorf("baseline at 02:00 = %v, want the nightly peak of 10", p.Req)
	}
	if p, _ := s.Baseline(next + 12*3600); p.Req > 2 {
		t.Errorf("baseline at noon = %v, want about 1", p.Req)
	}
	if p, _ := s.Baseline(next + 3*3600); p.Req < 10 {
		t.Errorf("baseline at 03:00 = %v, want the neighbouring 02:00 peak", p.Req)
	}
	// An attack hour at noon on day 1, poisoned: not learned.
	for i := int64(0); i < 500; i++ {
		s.Add(next+12*3600+i/10, 100)
	}
	s.Poison()
	s.Add(next+13*3600, 100) // closes the hour
	if p, _ := s.Baseline(next + 24*3600 + 12*3600); p.Req > 2 {
		t.Errorf("poisoned hour was learned: baseline %v", p.Req)
	}
}

func TestSetNoveltyAndEviction(t *testing.T) {
	var s profile.Set
	const max = 4
	s.Observe(1, 0, 10, true, max) // learned while learning: established at once
	if !s.Known(1, 0) {
		t.Fatal("member observed while learning is not established")
	}
	e, isNew := s.Observe(2, 100, 10, false, max)
	if !isNew || e.Established || s.Known(2, 100) {
		t.Fatal("newcomer should be a new candidate")
	}
	s.Observe(2, 100+profile.Promote, 10, false, max)
	if !s.Known(2, 100+profile.Promote) {
		t.Fatal("newcomer seen for a day is not established")
	}
	// A flood of candidates evicts candidates, never the baseline.
	for id := uint32(10); id < 100; id++ {
		s.Observe(id, 5000, 1, false, max)
	}
	if !s.Known(1, 5000) || !s.Known(2, 5000) {
		t.Fatal("flood of newcomers evicted established members")
	}
	if len(s.Entries) != max {
		t.Fatalf("set grew to %d, bound %d", len(s.Entries), max)
	}
	// Past the horizon a member is forgotten.
	if s.Known(1, 5000+profile.Horizon+1) {
		t.Fatal("member unseen past the horizon is still known")
	}
}

func TestCountryID(t *testing.T) {
	for _, c := range []string{"US", "DE", "SG"} {
		if got := profile.CountryCode(profile.CountryID(c)); got != c {
			t.Errorf("round trip %q = %q", c, got)
		}
	}
	if profile.CountryID("USA") != 0 || profile.CountryCode(0) != "" {
		t.Error("bad codes must map to zero")
	}
}
