package core_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMERecipesAreExamples checks that every code block of the README
// marked "<!-- example: FILE -->" is made of lines of FILE, in order, so
// that the README quotes tested code. Indentation and blank lines aside,
// each line of the block must be a line of the file, after the previous
// one.
func TestREADMERecipesAreExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- example: "
	blocks := 0
	rest := string(readme)
	for {
		i := strings.Index(rest, marker)
		if i < 0 {
			break
		}
		rest = rest[i+len(marker):]
		name, after, ok := strings.Cut(rest, " -->\n```go\n")
		if !ok {
			t.Fatalf("a marker not followed by a go block: %.60q", rest)
		}
		code, tail, ok := strings.Cut(after, "\n```")
		if !ok {
			t.Fatalf("unterminated block after %s", name)
		}
		rest = tail
		src, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatalf("README quotes %s: %v", name, err)
		}
		lines := strings.Split(string(src), "\n")
		at := 0
		for _, want := range strings.Split(code, "\n") {
			want = strings.TrimSpace(want)
			if want == "" {
				continue
			}
			for at < len(lines) && strings.TrimSpace(lines[at]) != want {
				at++
			}
			if at == len(lines) {
				t.Errorf("README block from %s: %q is not in the file (or not in this order)", name, want)
				break
			}
			at++
		}
		blocks++
	}
	if blocks == 0 {
		t.Fatal("the README quotes no example")
	}
}
