package hexdigit

import (
	"strconv"
	"testing"
)

// TestValue checks every byte against strconv's reading of it as a hex
// number.
func TestValue(t *testing.T) {
	for c := range 256 {
		want, err := strconv.ParseUint(string(rune(c)), 16, 8)
		got, ok := Value(byte(c))
		if ok != (err == nil) || (ok && uint64(got) != want) {
			t.Errorf("Value(%#x) = %d, %v; strconv reads %d, %v", c, got, ok, want, err)
		}
	}
}
