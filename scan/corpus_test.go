package scan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// fillerLines look like the code, configuration and logs keys leak into,
// and hold every kind of lookalike: model names, UUIDs, digests,
// placeholders, provider words next to non-keys.
var fillerLines = []string{
	`func (s *Server) handle(w http.ResponseWriter, r *http.Request) {`,
	`	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {`,
	`		return fmt.Errorf("decode request %s: %w", r.URL.Path, err)`,
	`model = "gpt-4o-mini"  # cheaper than gpt-4o`,
	`resp = client.messages.create(model="claude-3-5-sonnet-20241022", max_tokens=1024)`,
	`emb = client.embeddings.create(model="text-embedding-3-small", input=texts)`,
	`MISTRAL_MODEL=mistral-large-latest`,
	`COHERE_MODEL=command-r-plus-08-2024`,
	`AZURE_OPENAI_API_VERSION=2024-02-15-preview`,
	`AZURE_OPENAI_DEPLOYMENT=gpt-4o-2024-08-06`,
	`deepseek_model: deepseek-reasoner`,
	`2025-01-01T00:00:00Z INFO request_id={h8}-{h4}-{h4}-{h4}-{h12} status=200`,
	`commit {h40}`,
	`Merge: {h7} {h7}`,
	`sha256:{h64}  dist/keywatch_linux_amd64.tar.gz`,
	`mistral digest {h32}`,
	`cohere commit {h40}`,
	`azure_openai request id {h8}-{h4}-{h4}-{h4}-{h12}`,
	`openai.azure.com trace {h8}-{h4}-{h4}-{h4}-{h12}`,
	`OPENAI_API_KEY=sk-...xxxx`,
	`OPENAI_API_KEY=sk-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`,
	`ANTHROPIC_API_KEY=YOUR_API_KEY`,
	`api_key: <your-key>`,
	`OPENAI_API_KEY=sk-proj-abc123`,
	`GROQ_API_KEY=gsk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`,
	`HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
	`const risk_level = task_queue.disk_size - mask_bits`,
	`<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">`,
	`https://example.com/search?q=hello%20world&lang=en-US&path=%2Fhome%2Fuser`,
	`{"message":"\u003cb\u003ebold\u003c/b\u003e","path":"a\/b\/c"}`,
	`	return nil`,
	`}`,
	``,
}

// corpus builds source-like text of about n lines with keys planted, and
// returns it with the planted keys' rule and secret in order.
func corpus(rng *rand.Rand, n int, perRule int) (string, []planted) {
	type entry struct {
		line string
		key  *planted
	}
	var entries []entry
	for i := 0; i < n; i++ {
		entries = append(entries, entry{line: expand(fillerLines[rng.IntN(len(fillerLines))], rng)})
	}
	for _, r := range Rules() {
		for k := 0; k < perRule; k++ {
			line := r.TP[k%len(r.TP)]
			if !strings.Contains(line, "$KEY") {
				continue
			}
			text, key := sample(r, line, rng)
			entries = append(entries, entry{line: text, key: &planted{rule: r.ID, secret: key}})
			// Lookalikes: the same key one character short and one too long.
			if !lengthRange(r) {
				short := strings.Replace(text, key, key[:len(key)-1], 1)
				long := strings.Replace(text, key, key+"a", 1)
				entries = append(entries, entry{line: short}, entry{line: long})
			}
		}
	}
	rng.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	var b strings.Builder
	var keys []planted
	for _, e := range entries {
		if e.key != nil {
			keys = append(keys, *e.key)
		}
		// A provider word on the line before or after a lookalike is
		// context by design (see ContextWindow); keep such lines apart.
		sep := hasContextWord(e.line)
		if sep {
			b.WriteString("//\n")
		}
		b.WriteString(e.line)
		b.WriteString("\n")
		if sep {
			b.WriteString("//\n")
		}
	}
	return b.String(), keys
}

type planted struct{ rule, secret string }

// lengthRange reports whether r accepts a range of lengths, for which a key
// one character shorter or longer is still valid.
func lengthRange(r *Rule) bool {
	for _, s := range r.segs {
		if s.set != nil && len(s.lens) == 0 {
			return true
		}
	}
	return false
}

// TestCorpus plants generated keys of every format among lookalikes and
// wants all of them back and nothing else.
func TestCorpus(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 42))
		text, want := corpus(rng, 3000, 20)
		var got []planted
		s.ScanBytes("corpus", []byte(text), func(f Finding) {
			got = append(got, planted{rule: f.Rule, secret: string(f.secret)})
		})
		if !slices.Equal(got, want) {
			missing, extra := diffPlanted(want, got)
			t.Errorf("seed %d: %d planted, %d found; missing %v; unexpected %v", seed, len(want), len(got), missing, extra)
		}
	}
}

func diffPlanted(want, got []planted) (missing, extra []string) {
	count := map[planted]int{}
	for _, p := range got {
		count[p]++
	}
	for _, p := range want {
		if count[p] > 0 {
			count[p]--
		} else {
			missing = append(missing, fmt.Sprintf("%s:%s", p.rule, redact([]byte(p.secret))))
		}
	}
	for p, n := range count {
		for range n {
			extra = append(extra, fmt.Sprintf("%s:%s", p.rule, redact([]byte(p.secret))))
		}
	}
	return missing, extra
}

// TestEntropyMargin checks that generated keys sit well above each rule's
// entropy floor, so that recall does not hang on the seed.
func TestEntropyMargin(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, r := range Rules() {
		lowest := 99.0
		for range 2000 {
			lowest = min(lowest, entropy([]byte(expand(r.Example, rng))))
		}
		if lowest-r.MinEntropy < 0.2 {
			t.Errorf("%s: lowest entropy of 2000 generated keys %.2f, floor %.2f", r.ID, lowest, r.MinEntropy)
		}
	}
}

func hasContextWord(line string) bool {
	l := strings.ToLower(line)
	for _, r := range Rules() {
		for _, w := range append(slices.Clone(r.Keywords), r.Context...) {
			if (r.token != nil || len(r.Context) > 0) && strings.Contains(l, w) {
				return true
			}
		}
	}
	return false
}
