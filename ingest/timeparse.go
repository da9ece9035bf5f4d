package ingest

import (
	"encoding/binary"
	"time"
)

// minuteCache remembers the Unix time of the last "YYYY-MM-DDTHH:MM" prefix
// parsed: consecutive events mostly fall in the same minute, so the date
// need not be parsed and converted again. The zero value is empty.
type minuteCache struct {
	w0, w1 uint64 // the 16 prefix bytes
	sec    int64  // Unix seconds at the start of that minute
	ok     bool
}

// parseTime parses an RFC 3339 time and returns it in UTC. The common forms
// (2006-01-02T15:04:05[.fraction](Z|±hh:mm)) are parsed by hand, exactly as
// time.Parse parses them but without allocating; other forms fall back to
// time.Parse.
func parseTime(c *minuteCache, b []byte) (time.Time, bool) {
	if t, ok := parseRFC3339(c, b); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseRFC3339 mirrors the fast path of the time package's RFC 3339 parser.
// It computes Unix seconds directly instead of calling time.Date.
func parseRFC3339(c *minuteCache, s []byte) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return time.Time{}, false
	}
	var minute int64
	w0, w1 := binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])
	if c.ok && w0 == c.w0 && w1 == c.w1 {
		minute = c.sec
	} else {
		var ok bool
		if minute, ok = parseMinute(s); !ok {
			return time.Time{}, false
		}
		*c = minuteCache{w0: w0, w1: w1, sec: minute, ok: true}
	}
	sec, ok := num2(s[17], s[18], 59)
	if !ok || s[16] != ':' {
		return time.Time{}, false
	}
	unix := minute + int64(sec)
	s = s[19:]
	nsec := 0
	if len(s) >= 2 && s[0] == '.' && isDigit(s[1]) {
		n := 1
		for ; n < len(s) && isDigit(s[n]); n++ {
			if n <= 9 {
				nsec = nsec*10 + int(s[n]-'0')
			}
		}
		if n <= 9 {
			nsec *= pow10i[10-n]
		}
		s = s[n:]
	}
	if len(s) == 1 && s[0] == 'Z' {
		return time.Unix(unix, int64(nsec)).UTC(), true
	}
	if len(s) != len("-07:00") {
		return time.Time{}, false
	}
	hr, ok1 := num2(s[1], s[2], 23)
	mm, ok2 := num2(s[4], s[5], 59)
	if !ok1 || !ok2 || (s[0] != '-' && s[0] != '+') || s[3] != ':' {
		return time.Time{}, false
	}
	off := int64(hr*60+mm) * 60
	if s[0] == '-' {
		off = -off
	}
	return time.Unix(unix-off, int64(nsec)).UTC(), true
}

// pow10i[k] is 10**k.
var pow10i = [...]int{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// parseMinute parses and checks "YYYY-MM-DDTHH:MM" at the start of s (at
// least 16 bytes) and returns its Unix seconds.
func parseMinute(s []byte) (int64, bool) {
	y := 0
	for _, c := range s[:4] {
		if !isDigit(c) {
			return 0, false
		}
		y = y*10 + int(c-'0')
	}
	month, ok1 := num2(s[5], s[6], 12)
	day, ok2 := num2(s[8], s[9], 31)
	hour, ok3 := num2(s[11], s[12], 23)
	minute, ok4 := num2(s[14], s[15], 59)
	if !ok1 || !ok2 || !ok3 || !ok4 || month < 1 || day < 1 || day > daysIn(month, y) ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' {
		return 0, false
	}
	return daysFromCivil(y, month, day)*86400 + int64(hour*3600+minute*60), true
}

// num2 parses two decimal digits no greater than max.
func num2(a, b byte, max int) (int, bool) {
	if !isDigit(a) || !isDigit(b) {
		return 0, false
	}
	n := int(a-'0')*10 + int(b-'0')
	return n, n <= max
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (H. Hinnant's days_from_civil).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400 // [0, 399]
	mp := m - 3        // March-based month, [0, 11]
	if m <= 2 {
		mp = m + 9
	}
	doy := (153*mp+2)/5 + d - 1            // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return int64(era)*146097 + int64(doe) - 719468
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
