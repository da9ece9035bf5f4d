package scan

import (
	"bytes"
	"math"
)

// A Rule detects one kind of key. Rules are values built once at package
// initialisation and never changed; a Scanner shares them between goroutines.
//
// A rule is either anchored or contextual. An anchored rule names literal
// Keywords that start its secret (or, as with OpenAI's marker, sit inside it)
// and a pattern of segments that the secret must match exactly from its
// first byte. A contextual rule (Mistral, Cohere, Azure OpenAI) has no
// prefix: its Keywords are provider words or hosts, and any token of the
// right shape within ContextWindow bytes of one is a candidate.
type Rule struct {
	// ID is the stable rule id, such as "openai-project-key"; it doubles as
	// the finding's kind and the SARIF ruleId.
	ID string
	// Provider is the provider name as the inventory spells it ("openai").
	Provider string
	// Description is one human sentence about what the rule finds.
	Description string
	// Format describes the accepted shape, for documentation and reports.
	Format string
	// Keywords are the literals the prefilter looks for, matched without
	// regard to ASCII case. For anchored rules the secret starts at the
	// keyword; for contextual rules the keyword only has to be near.
	Keywords []string
	// MinEntropy drops candidates whose Shannon entropy (bits per byte, over
	// the whole secret including its prefix) is at or below it.
	MinEntropy float64
	// Context, for an anchored rule, lists words (lower case) of which one
	// must occur within ContextWindow bytes of the secret (DeepSeek's
	// generic sk- keys). Empty means no context is needed.
	Context []string
	// Example is a template of a valid secret (see expand), used by tests
	// and the generated corpus; it never holds a real key.
	Example string
	// TP are lines on which the rule must find exactly one secret; "$KEY"
	// stands for a key generated from Example, and templates are expanded.
	TP []string
	// FP are lines on which no rule may find anything; templates are
	// expanded as in TP.
	FP []string

	segs       []seg             // anchored: the exact shape from the first byte
	token      *tokenShape       // contextual: the shape of a bare token
	tail       *[256]bool        // bytes that may not follow the secret
	valid      func([]byte) bool // optional extra check on the secret
	contextual bool
}

// tokenShape is the shape of a contextual rule's bare token: exactly n
// bytes of set, delimited by bytes outside wordSet.
type tokenShape struct {
	set       *[256]bool
	n         int
	mixedCase bool // require an upper- and a lower-case letter
	letterNum bool // require a letter and a digit
}

// seg is one piece of an anchored pattern: a literal, or a run of bytes
// from set whose length is one of lens (tried longest first) or, when lens
// is empty, any length in [min, max].
type seg struct {
	lit      string
	set      *[256]bool
	lens     []int
	min, max int
}

func lit(s string) seg                    { return seg{lit: s} }
func run(set *[256]bool, lens ...int) seg { return seg{set: set, lens: lens} }
func runRange(set *[256]bool, min, max int) seg {
	return seg{set: set, min: min, max: max}
}

// Character sets. wordSet is what a key can never be glued to.
var (
	alnum    = charset("A-Za-z0-9")
	lowerNum = charset("a-z0-9")
	hexLower = charset("0-9a-f")
	letters  = charset("A-Za-z")
	urlSafe  = charset("A-Za-z0-9_-")
	wordChr  = charset("A-Za-z0-9_")
	b64Std   = charset("A-Za-z0-9+/")
	b64Tail  = charset("A-Za-z0-9+/=_-")
	wordSet  = urlSafe
	equals   = charset("=")
)

// charset builds a byte set from a spec of single bytes and a-b ranges.
func charset(spec string) *[256]bool {
	var s [256]bool
	for i := 0; i < len(spec); i++ {
		if i+2 < len(spec) && spec[i+1] == '-' {
			for c := int(spec[i]); c <= int(spec[i+2]); c++ {
				s[c] = true
			}
			i += 2
			continue
		}
		s[spec[i]] = true
	}
	return &s
}

// matchAt matches r's segments at buf[i:] and returns the end of the
// secret, or -1. It checks the byte before i and the byte after the end.
func (r *Rule) matchAt(buf []byte, i int) int {
	if i > 0 && wordSet[buf[i-1]] {
		return -1
	}
	return r.matchSegs(buf, i, 0)
}

func (r *Rule) matchSegs(buf []byte, i, k int) int {
	if k == len(r.segs) {
		if i < len(buf) && r.tail[buf[i]] {
			return -1
		}
		return i
	}
	s := &r.segs[k]
	if s.set == nil {
		if len(buf)-i < len(s.lit) || string(buf[i:i+len(s.lit)]) != s.lit {
			return -1
		}
		return r.matchSegs(buf, i+len(s.lit), k+1)
	}
	hi := s.max
	for _, n := range s.lens {
		hi = max(hi, n)
	}
	m := 0 // longest run of set at i, capped at hi
	for m < hi && i+m < len(buf) && s.set[buf[i+m]] {
		m++
	}
	if len(s.lens) > 0 {
		for _, n := range s.lens {
			if n <= m {
				if e := r.matchSegs(buf, i+n, k+1); e >= 0 {
					return e
				}
			}
		}
		return -1
	}
	for n := m; n >= s.min; n-- {
		if e := r.matchSegs(buf, i+n, k+1); e >= 0 {
			return e
		}
	}
	return -1
}

// maxLen is the longest secret r can match.
func (r *Rule) maxLen() int {
	if r.token != nil {
		return r.token.n
	}
	n := 0
	for _, s := range r.segs {
		m := s.max
		for _, l := range s.lens {
			m = max(m, l)
		}
		n += len(s.lit) + m
	}
	return n
}

// accept applies the checks common to every rule to a candidate secret:
// entropy, placeholders and the rule's own validator.
func (r *Rule) accept(secret []byte) bool {
	if entropy(secret) <= r.MinEntropy {
		return false
	}
	if placeholder(secret) {
		return false
	}
	if t := r.token; t != nil {
		if t.mixedCase && !(hasRange(secret, 'a', 'z') && hasRange(secret, 'A', 'Z')) {
			return false
		}
		if t.letterNum && !(hasRange(secret, '0', '9') && (hasRange(secret, 'a', 'z') || hasRange(secret, 'A', 'Z'))) {
			return false
		}
	}
	return r.valid == nil || r.valid(secret)
}

func hasRange(b []byte, lo, hi byte) bool {
	for _, c := range b {
		if c >= lo && c <= hi {
			return true
		}
	}
	return false
}

// entropy returns the Shannon entropy of b in bits per byte.
func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	// H = log2(n) - (1/n) * sum over symbols of c*log2(c): one table lookup
	// per distinct symbol instead of a logarithm.
	var counts [256]uint32
	var syms [256]byte
	k := 0
	for _, c := range b {
		if counts[c] == 0 {
			syms[k] = c
			k++
		}
		counts[c]++
	}
	sum := 0.0
	for _, c := range syms[:k] {
		sum += cLog2c(counts[c])
	}
	n := float64(len(b))
	return math.Log2(n) - sum/n
}

// cLog2cTable holds c*log2(c) for the counts candidates usually have.
var cLog2cTable = func() (t [1024]float64) {
	for c := 1; c < len(t); c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

func cLog2c(c uint32) float64 {
	if int(c) < len(cLog2cTable) {
		return cLog2cTable[c]
	}
	return float64(c) * math.Log2(float64(c))
}

// placeholderWords mark documentation and test values rather than keys.
// Words of five or more characters count anywhere: a random key of 400
// characters holds one with a probability under one in a hundred thousand.
// Shorter words (xxxx, your, fake) turn up in long random keys far more
// often (about one 440-character key in 5,000), so they count only where
// placeholders put them: next to a separator or an end of the secret
// ("sk-your-key-here", "sk-xxxxxxxx").
var placeholderWords = [][]byte{
	[]byte("xxxx"), []byte("XXXX"), []byte("example"), []byte("EXAMPLE"),
	[]byte("your"), []byte("YOUR"), []byte("abcdef"), []byte("ABCDEF"),
	[]byte("123456"), []byte("fake"), []byte("FAKE"), []byte("dummy"),
	[]byte("DUMMY"), []byte("placeholder"), []byte("PLACEHOLDER"),
	[]byte("redacted"), []byte("REDACTED"), []byte("*****"),
}

// placeholder reports whether secret looks like a documentation value: it
// holds a placeholder word or a run of 8 equal bytes (a run of 5 is common
// in random hex: about one 64-digit string in a thousand has one).
func placeholder(secret []byte) bool {
	for _, w := range placeholderWords {
		if len(w) >= 5 {
			if bytes.Contains(secret, w) {
				return true
			}
			continue
		}
		for off := 0; ; {
			i := bytes.Index(secret[off:], w)
			if i < 0 {
				break
			}
			i += off
			end := i + len(w)
			if i == 0 || !isAlnum(secret[i-1]) || end == len(secret) || !isAlnum(secret[end]) {
				return true
			}
			off = i + 1
		}
	}
	run := 1
	for i := 1; i < len(secret); i++ {
		if secret[i] == secret[i-1] && secret[i] != '=' {
			run++
			if run >= 8 {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// finish fills in the derived fields of a rule; the provider files call it
// from their var blocks.
func (r *Rule) finish() *Rule {
	if r.tail == nil {
		r.tail = wordSet
	}
	r.contextual = r.token != nil
	return r
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
