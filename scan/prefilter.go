package scan

// automaton is an Aho-Corasick automaton over ASCII-case-folded bytes,
// compiled to a dense DFA. Bytes that occur in no pattern share one class,
// so the transition table is states x classes and stays in L1/L2 cache.
//
// Each transition stores the next state premultiplied by the number of
// classes, with the high bit set when that state ends at least one
// pattern. The scan loop is then one table load and one add per byte.
type automaton struct {
	class   [256]uint8
	nclass  int
	delta   []uint32
	outputs [][]int // by state index: the patterns that end there
	lens    []int   // by pattern
}

const acMatch = 1 << 31

func foldByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// newAutomaton compiles patterns; pattern i is reported as i.
func newAutomaton(patterns []string) *automaton {
	a := &automaton{lens: make([]int, len(patterns))}
	// Byte classes: class 0 for bytes in no pattern.
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[foldByte(p[i])] = true
		}
	}
	n := 1
	for c := 0; c < 256; c++ {
		if used[c] {
			a.class[c] = uint8(n)
			n++
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	a.nclass = n

	// Trie.
	type node struct {
		next []int32
		fail int
		out  []int
	}
	nodes := []node{{next: make([]int32, n)}}
	for pi, p := range patterns {
		a.lens[pi] = len(p)
		s := 0
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			if nodes[s].next[c] == 0 {
				nodes = append(nodes, node{next: make([]int32, n)})
				nodes[s].next[c] = int32(len(nodes) - 1)
			}
			s = int(nodes[s].next[c])
		}
		nodes[s].out = append(nodes[s].out, pi)
	}
	// Failure links breadth first, completing the DFA as we go.
	queue := []int{}
	for c := 0; c < n; c++ {
		if t := nodes[0].next[c]; t != 0 {
			nodes[t].fail = 0
			queue = append(queue, int(t))
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < n; c++ {
			t := nodes[s].next[c]
			if t == 0 {
				nodes[s].next[c] = nodes[f].next[c]
				continue
			}
			nodes[t].fail = int(nodes[f].next[c])
			queue = append(queue, int(t))
		}
	}
	a.delta = make([]uint32, len(nodes)*n)
	a.outputs = make([][]int, len(nodes))
	for s := range nodes {
		a.outputs[s] = nodes[s].out
		for c := 0; c < n; c++ {
			t := int(nodes[s].next[c])
			v := uint32(t * n)
			if len(nodes[t].out) > 0 {
				v |= acMatch
			}
			a.delta[s*n+c] = v
		}
	}
	return a
}

// scan runs the automaton over buf and calls hit with the end (exclusive)
// of every pattern occurrence and the state's pattern list. The loop does
// no allocation.
func (a *automaton) scan(buf []byte, hit func(end int, pats []int)) {
	delta := a.delta
	class := &a.class
	n := uint32(a.nclass)
	var s uint32
	for i, c := range buf {
		s = delta[s+uint32(class[c])]
		if s&acMatch != 0 {
			s &^= acMatch
			hit(i+1, a.outputs[s/n])
		}
	}
}
