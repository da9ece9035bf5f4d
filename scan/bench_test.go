package scan

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchText is about 8 MiB of source-like text: the module's own Go files
// (outside this package), repeated, with one key of each of a few formats.
func benchText(tb testing.TB) []byte {
	var src bytes.Buffer
	filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p != ".." && d.IsDir() && (d.Name() == "scan" || strings.HasPrefix(d.Name(), ".")) {
			return fs.SkipDir
		}
		if strings.HasSuffix(p, ".go") {
			b, _ := os.ReadFile(p)
			src.Write(b)
		}
		return nil
	})
	if src.Len() == 0 {
		tb.Skip("no Go source found")
	}
	var out bytes.Buffer
	for i := 0; out.Len() < 8<<20; i++ {
		out.Write(src.Bytes())
		if i < 6 {
			id := []string{"openai-project-key", "anthropic-api-key", "google-api-key", "groq-api-key", "mistral-api-key", "azure-openai-key"}[i]
			key := genKey(id, uint64(i))
			if id == "mistral-api-key" {
				key = "MISTRAL_API_KEY=" + key
			}
			if id == "azure-openai-key" {
				key = "AZURE_OPENAI_API_KEY=" + key
			}
			out.WriteString("\nconst k = \"" + key + "\"\n")
		}
	}
	return out.Bytes()
}

func BenchmarkScan(b *testing.B) {
	text := benchText(b)
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	s.ScanBytes("bench", text, func(Finding) { n++ })
	if n < 6 {
		b.Fatalf("%d findings in the benchmark text, want at least 6", n)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		s.ScanReader("bench", bytes.NewReader(text), func(Finding) {})
	}
}

func BenchmarkScanBytes(b *testing.B) {
	text := benchText(b)
	s, _ := New(Options{})
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		s.ScanBytes("bench", text, func(Finding) {})
	}
}
