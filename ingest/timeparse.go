package ingest

import "time"

// parseTime parses an RFC 3339 time and returns it in UTC. The common forms
// (2006-01-02T15:04:05[.fraction](Z|±hh:mm)) are parsed by hand, exactly as
// time.Parse parses them but without allocating; other forms fall back to
// time.Parse.
func parseTime(b []byte) (time.Time, bool) {
	if t, ok := parseRFC3339(b); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseRFC3339 mirrors the fast path of the time package's RFC 3339 parser.
func parseRFC3339(s []byte) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return time.Time{}, false
	}
	ok := true
	num := func(b []byte, min, max int) int {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				ok = false
				return min
			}
			n = n*10 + int(c-'0')
		}
		if n < min || n > max {
			ok = false
			return min
		}
		return n
	}
	year := num(s[0:4], 0, 9999)
	month := num(s[5:7], 1, 12)
	day := num(s[8:10], 1, daysIn(month, year))
	hour := num(s[11:13], 0, 23)
	minute := num(s[14:16], 0, 59)
	sec := num(s[17:19], 0, 59)
	if !ok || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	s = s[19:]
	nsec := 0
	if len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
		n := 1
		for ; n < len(s) && isDigit(s[n]); n++ {
			if n <= 9 {
				nsec = nsec*10 + int(s[n]-'0')
			}
		}
		for k := n; k <= 9; k++ {
			nsec *= 10
		}
		s = s[n:]
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if len(s) == 1 && s[0] == 'Z' {
		return t, true
	}
	if len(s) != len("-07:00") {
		return time.Time{}, false
	}
	hr := num(s[1:3], 0, 23)
	mm := num(s[4:6], 0, 59)
	if !ok || (s[0] != '-' && s[0] != '+') || s[3] != ':' {
		return time.Time{}, false
	}
	off := time.Duration(hr*60+mm) * time.Minute
	if s[0] == '-' {
		off = -off
	}
	return t.Add(-off), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// daysIn returns the number of days in month of year.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
