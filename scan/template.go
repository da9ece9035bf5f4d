package scan

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// templateSets are the alphabets of ExpandTemplate: {a32} is 32 letters
// and digits, and so on.
var templateSets = map[byte]string{
	'a': "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	'u': "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
	'w': "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_",
	'b': "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	'h': "0123456789abcdef",
	'l': "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	'd': "abcdefghijklmnopqrstuvwxyz0123456789",
}

// ExpandTemplate replaces every {Xn} in tmpl with n random characters of
// set X: a (letters and digits), u (and _ -), w (and _), b (base64), h
// (lower hex), l (letters), d (lower case and digits); any other brace is
// kept. Rule.Example and the rules' samples are such templates: keys are
// generated rather than written out, so that no key-shaped literal sits
// in the repository for other scanners to report.
func ExpandTemplate(tmpl string, rng *rand.Rand) string {
	if strings.IndexByte(tmpl, '{') < 0 {
		return tmpl
	}
	var b strings.Builder
	for len(tmpl) > 0 {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			break
		}
		b.WriteString(tmpl[:i])
		tmpl = tmpl[i:]
		j := strings.IndexByte(tmpl, '}')
		set, ok := templateSets[tmpl[min(1, len(tmpl)-1)]]
		n, err := 0, error(nil)
		if j > 2 {
			n, err = strconv.Atoi(tmpl[2:j])
		}
		if !ok || j <= 2 || err != nil {
			b.WriteByte('{') // not a template: a literal brace
			tmpl = tmpl[1:]
			continue
		}
		for range n {
			b.WriteByte(set[rng.IntN(len(set))])
		}
		tmpl = tmpl[j+1:]
	}
	b.WriteString(tmpl)
	return b.String()
}
