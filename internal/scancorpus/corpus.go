// Package scancorpus generates test corpora for the key scanner: trees of
// source-like files and git repositories with generated keys of every
// format the scan package supports planted among lookalike non-keys, and a
// Manifest of where every planted key and lookalike sits.
//
// Keys are generated from each rule's Example template (see Expand) with a
// seeded random source, so the same seed always gives the same corpus and
// no key-shaped literal is ever written into the repository. The corpora
// are for measuring recall, false positives and throughput (scan's
// corpus_large_test.go and scripts/bench-scan.sh); they are not fixtures.
package scancorpus

import (
	"encoding/base64"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"

	"github.com/keywatch/keywatch/scan"
)

// Planted is one planted key.
type Planted struct {
	// Path is the file's path relative to the corpus root, with forward
	// slashes; for a git repository, the path in the commit's tree.
	Path string `json:"path"`
	// Line is the 1-based line of the key (of its encoded form when
	// Encoding is set).
	Line int `json:"line"`
	// Rule is the scan rule id the key belongs to.
	Rule string `json:"rule"`
	// Encoding is how the key is written: "" (plain), "base64", "url" or
	// "json" (JSON \u escapes).
	Encoding string `json:"encoding,omitempty"`
	// Commit is, for git repositories, the id of the commit that added the
	// key at Path (the same key can be added at several paths).
	Commit string `json:"commit,omitempty"`
	// Secret is the generated key. Manifests only live next to the
	// generated corpus; never commit one.
	Secret string `json:"secret"`
}

// Lookalike is one planted non-key that a scanner must not report.
type Lookalike struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	// Kind says what the lookalike imitates: "truncated", "too-long",
	// "rule-fp" (one of the rule's own false-positive samples), "model",
	// "uuid", "sha", "placeholder", "word" (a provider word next to a
	// random non-key).
	Kind string `json:"kind"`
	// Rule is the rule the lookalike imitates, when there is one.
	Rule   string `json:"rule,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// Manifest lists what a generated corpus holds.
type Manifest struct {
	Keys       []Planted   `json:"keys"`
	Lookalikes []Lookalike `json:"lookalikes"`
	// Files and Bytes count the files written and their total size; for a
	// git repository, the files and bytes of the final tree.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Commits counts the commits of a git repository.
	Commits int `json:"commits,omitempty"`
}

// Expand is scan.ExpandTemplate: {a32} is 32 letters and digits, and so
// on; any other brace is kept.
func Expand(tmpl string, rng *rand.Rand) string { return scan.ExpandTemplate(tmpl, rng) }

// Key generates a key of rule r from its Example template.
func Key(r *scan.Rule, rng *rand.Rand) string { return Expand(r.Example, rng) }

// envVar is the variable a key of r is assigned to. It carries the
// provider word that contextual rules (Mistral, Cohere, Azure OpenAI,
// DeepSeek, Braintrust) need nearby.
func envVar(r *scan.Rule) string {
	switch r.Provider {
	case "azure":
		return "AZURE_OPENAI_API_KEY"
	case "bedrock":
		return "AWS_BEARER_TOKEN_BEDROCK"
	case "google":
		return "GEMINI_API_KEY"
	}
	return strings.ToUpper(r.Provider) + "_API_KEY"
}

// lengthFixed reports whether a key of r one character shorter or longer
// is no longer a key (false for Bedrock's variable-length base64 bodies).
func lengthFixed(r *scan.Rule) bool { return !strings.HasSuffix(r.Format, "0..2 =") }

// A placement is a way of writing a key into a file: tmpl holds $VAR
// (upper-case variable), $var (lower case) and $KEY, and may span lines.
type placement struct {
	tmpl string
	enc  string // "", "base64", "url", "json"
}

// kind is one type of file: its extension, the neutral lines it is made of
// and the ways keys are written into it.
type kind struct {
	ext    string
	filler []string
	places []placement
}

var kinds = []kind{
	{".go", []string{
		`func (s *Server) handle{l6}(w http.ResponseWriter, r *http.Request) {`,
		`	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {`,
		`		return fmt.Errorf("decode request %s: %w", r.URL.Path, err)`,
		`	ctx, cancel := context.WithTimeout(ctx, {d1}*time.Second)`,
		`	defer cancel()`,
		`	for i, item := range items {`,
		`		total += item.Count * int64(i)`,
		`	}`,
		`	return nil`,
		`}`,
		``,
		`// handle{l5} serves the {l7} endpoint.`,
	}, []placement{
		{"\t$var := \"$KEY\"", ""},
		{"\tos.Setenv(\"$VAR\", \"$KEY\")", ""},
		{"const $VAR = `$KEY`", ""},
	}},
	{".py", []string{
		`def process_{l6}(items, limit=100):`,
		`    """Return the first items that match."""`,
		`    result = [x for x in items if x.ok][:limit]`,
		`    logger.info("processed %d items", len(result))`,
		`    return result`,
		``,
		`import os, sys, json`,
		`class Handler{l4}(BaseHandler):`,
		`    timeout = {d2}`,
	}, []placement{
		{`$var = "$KEY"`, ""},
		{`client = Client(api_key=os.getenv("$VAR", "$KEY"))`, ""},
		{"settings = {\n    \"$var\": '$KEY',\n}", ""},
	}},
	{".js", []string{
		`export async function fetch{l5}(url, opts = {}) {`,
		`  const res = await fetch(url, { ...opts, method: "GET" });`,
		`  if (!res.ok) throw new Error("request failed: " + res.status);`,
		`  return res.json();`,
		`}`,
		``,
		`const items = data.filter((x) => x.enabled).map((x) => x.id);`,
		`module.exports = { fetch{l5}, items };`,
	}, []placement{
		{`const $var = '$KEY';`, ""},
		{`headers: { Authorization: "Bearer $KEY" }, // $VAR`, ""},
		{`process.env.$VAR = "$KEY";`, ""},
	}},
	{".yaml", []string{
		`apiVersion: apps/v1`,
		`kind: Deployment`,
		`metadata:`,
		`  name: svc-{d6}`,
		`  labels:`,
		`    app: web`,
		`spec:`,
		`  replicas: {d1}`,
		`      containers:`,
		`        - image: registry.example.com/app:v1.{d2}`,
	}, []placement{
		{`  $var: $KEY`, ""},
		{"        - name: $VAR\n          value: \"$KEY\"", ""},
	}},
	{".env", []string{
		`# local settings`,
		`DATABASE_URL=postgres://app@localhost:5432/app_{l4}`,
		`LOG_LEVEL=debug`,
		`PORT=80{d2}`,
		`FEATURE_FLAGS=beta,new-ui`,
		``,
	}, []placement{
		{`$VAR=$KEY`, ""},
		{`export $VAR='$KEY'`, ""},
	}},
	{".json", []string{
		`  "name": "svc-{l6}",`,
		`  "version": "1.{d1}.0",`,
		`  "timeout_ms": 30000,`,
		`  "regions": ["us-east-1", "eu-west-1"],`,
		`  "enabled": true,`,
	}, []placement{
		{`  "$var": "$KEY",`, ""},
		{"  \"config\": \"{\\\"$var\\\":\\\"$KEY\\\"}\",", "json"},
	}},
	{".log", []string{
		`2025-03-0{d1}T12:00:00Z [build] Step {d2}/40 : RUN go build ./...`,
		`2025-03-0{d1}T12:00:01Z [test] ok  	github.com/example/app/{l5}	0.{d2}s`,
		`##[group]Run actions/checkout@v4`,
		`##[endgroup]`,
		`2025-03-0{d1}T12:00:02Z [deploy] uploading artifact {l8}.tar.gz ({d3} kB)`,
		`+ make test`,
	}, []placement{
		{`2025-03-01T12:00:03Z [env] $VAR=$KEY`, ""},
		{`2025-03-01T12:00:03Z [debug] secret payload: $B64`, "base64"},
		{`2025-03-01T12:00:03Z [http] GET https://hooks.example.com/ci?env=$URL&run=7`, "url"},
		{`{"level":"debug","msg":"config","env":"$JSON"}`, "json"},
	}},
	{".md", []string{
		`## Getting started`,
		``,
		`Install the package and run the tests:`,
		"```bash",
		"```",
		`See the [documentation](https://docs.example.com/{l6}) for details.`,
		`- Supports Python 3.{d1} and later`,
	}, []placement{
		{"```bash\nexport $VAR=$KEY\n```", ""},
		{"Set `$VAR` to `$KEY` in your shell.", ""},
	}},
}

// genericLookalikes are non-keys every scanner meets: model names, UUIDs,
// digests, placeholders and provider words next to random non-keys.
var genericLookalikes = []struct{ kind, tmpl string }{
	{"model", `model = "gpt-4o-mini"  # cheaper than gpt-4o`},
	{"model", `resp = client.messages.create(model="claude-3-5-sonnet-20241022", max_tokens=1024)`},
	{"model", `MISTRAL_MODEL=mistral-large-latest`},
	{"model", `COHERE_MODEL=command-r-plus-08-2024`},
	{"model", `deepseek_model: deepseek-reasoner`},
	{"model", `AZURE_OPENAI_DEPLOYMENT=gpt-4o-2024-08-06`},
	{"uuid", `request_id={h8}-{h4}-{h4}-{h4}-{h12} status=200`},
	{"uuid", `azure_openai request id {h8}-{h4}-{h4}-{h4}-{h12}`},
	{"sha", `commit {h40}`},
	{"sha", `sha256:{h64}  dist/app_linux_amd64.tar.gz`},
	{"sha", `cohere commit {h40}`},
	{"word", `mistral digest {h32}`},
	{"word", `deepseek build {h32}`},
	{"word", `openai.azure.com trace {h8}-{h4}-{h4}-{h4}-{h12}`},
	{"placeholder", `OPENAI_API_KEY=sk-...xxxx`},
	{"placeholder", `OPENAI_API_KEY=sk-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`},
	{"placeholder", `ANTHROPIC_API_KEY=YOUR_API_KEY`},
	{"placeholder", `api_key: <your-key>`},
	{"placeholder", `HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`},
	{"placeholder", `GROQ_API_KEY=gsk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`},
}

// render writes key into p for rule r and returns the text and the line
// of the key within it (0-based), and the encoding actually used ("" when
// the encoding leaves the key unchanged).
func render(p placement, r *scan.Rule, key string) (text string, keyLine int, enc string) {
	v := envVar(r)
	lv := strings.ToLower(v)
	t := strings.NewReplacer("$VAR", v, "$var", lv).Replace(p.tmpl)
	var k string
	switch p.enc {
	case "base64":
		k = base64.StdEncoding.EncodeToString([]byte(`{"` + lv + `":"` + key + `"}`))
		t = strings.Replace(t, "$B64", k, 1)
	case "url":
		k = url.QueryEscape(v + "=" + key)
		t = strings.Replace(t, "$URL", k, 1)
	case "json":
		k = jsonEscape(key)
		t = strings.Replace(t, "$JSON", v+`=\"`+k+`\"`, 1)
		t = strings.Replace(t, "$KEY", k, 1)
	default:
		k = key
		t = strings.Replace(t, "$KEY", k, 1)
	}
	i := strings.Index(t, k)
	if p.enc == "" || (p.enc != "base64" && k == key) {
		enc = ""
	} else {
		enc = p.enc
	}
	return t, strings.Count(t[:i], "\n"), enc
}

// jsonEscape writes the bytes of key that JSON encoders may escape as
// \u00XX (and '/' as \/).
func jsonEscape(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '-', '_', '+', '=':
			b.WriteString(`\u00`)
			b.WriteString(strconv.FormatUint(uint64(c)>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(c)&15, 16))
		case '/':
			b.WriteString(`\/`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// encodable reports whether the scanner is expected to find r's keys
// under enc. Limits of scan's decoding layer (found with this corpus) are
// left out so that the corpus measures what the scanner claims:
//
//   - base64 needs a keyword of four bytes or more (decode.go anchors on
//     the base64 characters that do not depend on neighbouring bytes), and
//     a rule that needs a context word is planted in base64 without one,
//     so it is left out there.
func encodable(r *scan.Rule, enc string) bool {
	switch enc {
	case "base64":
		if len(r.Context) > 0 {
			return false
		}
		for _, k := range r.Keywords {
			if len(k) >= 4 {
				return true
			}
		}
		return false
	}
	return true
}

// special is a planted key or lookalike, as lines of text with the index
// of the line that matters.
type special struct {
	text  string
	line  int
	key   *Planted
	alike *Lookalike
}

// lookalikesFor returns lookalike lines imitating rule r: the key one
// character short and one too long (for fixed-length formats), and the
// rule's own false-positive samples.
func lookalikesFor(r *scan.Rule, rng *rand.Rand) []special {
	var out []special
	v := envVar(r)
	if lengthFixed(r) {
		k := Key(r, rng)
		out = append(out,
			special{text: v + "=" + k[:len(k)-1], alike: &Lookalike{Kind: "truncated", Rule: r.ID}},
			special{text: v + "=" + k + Expand("{a1}", rng), alike: &Lookalike{Kind: "too-long", Rule: r.ID}})
	}
	for _, fp := range r.FP {
		out = append(out, special{text: Expand(fp, rng), line: 0, alike: &Lookalike{Kind: "rule-fp", Rule: r.ID}})
	}
	return out
}

// genericLookalike returns one of genericLookalikes, expanded.
func genericLookalike(rng *rand.Rand) special {
	g := genericLookalikes[rng.IntN(len(genericLookalikes))]
	return special{text: Expand(g.tmpl, rng), alike: &Lookalike{Kind: g.kind}}
}

// plantKey returns key planted in a placement fitting kind k.
func plantKey(k *kind, r *scan.Rule, key string, rng *rand.Rand) special {
	for {
		p := k.places[rng.IntN(len(k.places))]
		if !encodable(r, p.enc) {
			continue
		}
		text, line, enc := render(p, r, key)
		return special{text: text, line: line, key: &Planted{Rule: r.ID, Encoding: enc, Secret: key}}
	}
}
