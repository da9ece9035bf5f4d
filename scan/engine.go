package scan

import (
	"slices"
	"strings"
)

// ContextWindow is how far, in bytes either side, a provider word or host
// may be from a prefix-less token (Mistral, Cohere, Azure OpenAI) or from a
// generic key that needs context (DeepSeek, Braintrust). The window also
// stops at the line before and the line after, so that
//
//	mistral:
//	  api_key: ...
//
// counts as context but a provider word two lines away does not.
const ContextWindow = 128

// actionKind says what a prefilter hit means.
type actionKind uint8

const (
	actAnchor  actionKind = iota // a rule's secret starts at the keyword
	actContext                   // a contextual rule's word or host
	actBase64                    // a base64 rendering of a keyword
	actURL                       // a percent escape of a key byte
	actJSON                      // a backslash escape of a key byte
)

// action is what to do for one pattern; a pattern can carry several.
type action struct {
	kind actionKind
	rule int // index into Scanner.rules for actAnchor and actContext
	quad int // actBase64: the anchor's offset from a 4-character boundary
}

// hit is a finding before line numbers: offsets are in the top-level
// buffer of the current chunk.
type hit struct {
	rule       *Rule
	start, end int
	enc        string
	secret     []byte
}

// level is the per-depth state of one scan: depth 0 is the chunk itself,
// deeper levels are decoded regions of the level above.
type level struct {
	depth int
	orig  []int32 // orig[i]: top-level offset of byte i; nil at depth 0
	enc   string
	// The encoded region these bytes were decoded from, in the level
	// above: a provider word next to an escaped key is outside the key's
	// decoded bytes ("deepseek_key": "sk\u002d...").
	up         *level
	upBuf      []byte
	upLo, upHi int
	scannedTo  []int   // by contextual rule: end of the last token examined
	decodedTo  [5]int  // by decoder kind: end of the last region decoded
	dec        []byte  // scratch for the next level's bytes
	pos        []int32 // scratch for the next level's orig
}

func (lv *level) reset(nrules int) {
	if cap(lv.scannedTo) < nrules {
		lv.scannedTo = make([]int, nrules)
	}
	lv.scannedTo = lv.scannedTo[:nrules]
	clear(lv.scannedTo)
	lv.decodedTo = [5]int{}
}

// topOffset maps an offset in lv's bytes to the chunk buffer.
func (lv *level) topOffset(i int) int {
	if lv.orig == nil {
		return i
	}
	return int(lv.orig[i])
}

// state is one ScanReader call's mutable state; it is never shared.
type state struct {
	s      *Scanner
	levels []*level
	hits   []hit
}

func (s *Scanner) newState() *state {
	st := &state{s: s}
	for d := 0; d <= s.maxDepth; d++ {
		st.levels = append(st.levels, &level{depth: d})
	}
	return st
}

// scanLevel runs the prefilter over buf and verifies every candidate.
func (st *state) scanLevel(buf []byte, lv *level) {
	lv.reset(len(st.s.rules))
	a := st.s.ac
	delta := a.delta
	class := &a.class
	n := uint32(a.nclass)
	var s uint32
	for i := 0; i < len(buf); i++ {
		s = delta[s+uint32(class[buf[i]])]
		if s&acMatch != 0 {
			s &^= acMatch
			for _, p := range a.outputs[s/n] {
				st.dispatch(buf, i+1-a.lens[p], i+1, p, lv)
			}
		}
	}
}

// dispatch handles one occurrence of pattern p at buf[start:end].
func (st *state) dispatch(buf []byte, start, end, p int, lv *level) {
	for _, act := range st.s.actions[p] {
		switch act.kind {
		case actAnchor:
			r := st.s.rules[act.rule]
			e := r.matchAt(buf, start)
			if e < 0 || !r.accept(buf[start:e]) {
				continue
			}
			if len(r.Context) > 0 && !nearWord(buf, start, e, r.Context) && !lv.nearAbove(r.Context) {
				continue
			}
			st.record(r, buf, start, e, lv)
		case actContext:
			st.contextScan(buf, start, end, act.rule, lv)
		case actBase64, actURL, actJSON:
			if lv.depth < st.s.maxDepth && start >= lv.decodedTo[act.kind] {
				st.decode(buf, start, act, lv)
			}
		}
	}
}

// record keeps a verified secret, mapping it to top-level offsets.
func (st *state) record(r *Rule, buf []byte, start, end int, lv *level) {
	h := hit{rule: r, enc: lv.enc, secret: slices.Clone(buf[start:end])}
	h.start = lv.topOffset(start)
	h.end = lv.topOffset(end)
	st.hits = append(st.hits, h)
}

// contextScan examines the tokens within ContextWindow of a contextual
// rule's keyword at buf[ks:ke].
func (st *state) contextScan(buf []byte, ks, ke, ri int, lv *level) {
	r := st.s.rules[ri]
	t := r.token
	lo, hi := window(buf, ks, ke)
	lo = max(lo, lv.scannedTo[ri])
	for lo > 0 && wordSet[buf[lo-1]] {
		lo--
	}
	i := lo
	for i < hi {
		if !wordSet[buf[i]] {
			i++
			continue
		}
		j := i
		for j < len(buf) && wordSet[buf[j]] {
			j++
		}
		if j-i == t.n && all(buf[i:j], t.set) && r.accept(buf[i:j]) {
			st.record(r, buf, i, j, lv)
		}
		i = j
	}
	lv.scannedTo[ri] = max(lv.scannedTo[ri], i)
}

// window returns the context window around buf[start:end]: ContextWindow
// bytes either side, but no further than the previous and the next line.
func window(buf []byte, start, end int) (lo, hi int) {
	lo = max(0, start-ContextWindow)
	for i, n := start-1, 0; i >= lo; i-- {
		if buf[i] == '\n' {
			if n++; n == 2 {
				lo = i + 1
				break
			}
		}
	}
	hi = min(len(buf), end+ContextWindow)
	for i, n := end, 0; i < hi; i++ {
		if buf[i] == '\n' {
			if n++; n == 2 {
				hi = i
				break
			}
		}
	}
	return lo, hi
}

func all(b []byte, set *[256]bool) bool {
	for _, c := range b {
		if !set[c] {
			return false
		}
	}
	return true
}

// nearWord reports whether one of words (lower case) occurs, in any ASCII
// case, within ContextWindow bytes of buf[start:end].
func nearWord(buf []byte, start, end int, words []string) bool {
	lo, hi := window(buf, start, end)
	w := buf[lo:hi]
	for _, word := range words {
		for i := 0; i+len(word) <= len(w); i++ {
			if foldByte(w[i]) != word[0] {
				continue
			}
			if equalFold(w[i:i+len(word)], word) {
				return true
			}
		}
	}
	return false
}

// nearAbove reports whether one of words is near the encoded region lv
// was decoded from, in any level above.
func (lv *level) nearAbove(words []string) bool {
	for l := lv; l.up != nil; l = l.up {
		if nearWord(l.upBuf, l.upLo, l.upHi, words) {
			return true
		}
	}
	return false
}

func equalFold(b []byte, lower string) bool {
	for i := range len(lower) {
		if foldByte(b[i]) != lower[i] {
			return false
		}
	}
	return true
}

// dedupe sorts hits by offset and drops repeats of the same rule at the same
// offset, keeping the one found with the shortest encoding chain (plain
// text first).
func dedupe(hits []hit) []hit {
	slices.SortFunc(hits, func(a, b hit) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if c := strings.Compare(a.rule.ID, b.rule.ID); c != 0 {
			return c
		}
		return len(a.enc) - len(b.enc)
	})
	return slices.CompactFunc(hits, func(a, b hit) bool {
		return a.start == b.start && a.rule == b.rule
	})
}
