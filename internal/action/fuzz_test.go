package action

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// readRunnerOutputs parses a GITHUB_OUTPUT file as the runner does on
// Linux: the file is read as UTF-8 text; lines end at \n; empty lines
// between entries are skipped; a line is "NAME=VALUE" when "=" comes before
// any "<<", else "NAME<<DELIMITER" followed by the value up to a line that
// is DELIMITER (the \n before it not part of the value). A name set twice
// is an error here: WriteOutputs writes each once.
func readRunnerOutputs(text string) (map[string]string, error) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	out := map[string]string{}
	set := func(name, value string) error {
		if _, dup := out[name]; dup {
			return errors.New("output " + name + " set twice")
		}
		out[name] = value
		return nil
	}
	rest := text
	next := func() (string, bool) {
		if rest == "" {
			return "", false
		}
		line, after, found := strings.Cut(rest, "\n")
		if !found {
			rest = ""
			return line, true
		}
		rest = after
		return line, true
	}
	for {
		line, ok := next()
		if !ok {
			return out, nil
		}
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			if err := set(line[:eq], line[eq+1:]); err != nil {
				return nil, err
			}
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, errors.New("empty name or delimiter in " + line)
			}
			var value []string
			closed := false
			for {
				l, ok := next()
				if !ok {
					break
				}
				if l == delim {
					closed = true
					break
				}
				value = append(value, l)
			}
			if !closed {
				return nil, errors.New("no closing delimiter for " + name)
			}
			if err := set(name, strings.Join(value, "\n")); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New("invalid line " + line)
		}
	}
}

// validName turns any string into a valid output name, keeping what it
// can; the prefix keeps it apart from the names the test sets itself.
func validName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return "n_" + b.String()
}

// FuzzWriteOutputs: for any map of valid names to any (UTF-8) values,
// reading the written file back as the runner does gives exactly the map,
// whatever the values hold: newlines, "name=value" lines, "name<<DELIM"
// lines, delimiters of the fixed form go-githubactions uses. An invalid
// name is refused and nothing is written.
func FuzzWriteOutputs(f *testing.F) {
	seeds := []struct{ n1, v1, n2, v2, v3 string }{
		{"digest", "sha256:abc", "results", `[{"changed":true}]`, "linux/amd64"},
		{"digest", "", "image", "", ""},
		{"digest", "a\nb\n", "platform", "\n", "\n\n"},
		{"digest", "x\nghadelimiter_0123456789abcdef0123456789abcdef\nevil=1", "changed", "true", "x"},
		{"digest", "x\nevil<<EOF\n1\nEOF", "image", "y\n::set-output name=digest::evil", "z"},
		{"digest", "ghadelimiter_", "digest<<x", "x=y<<z", "=\n<<\n"},
		{"a", "\r\n\r", "b", "\x00", "é\u2028\u2029"},
		{"1bad", "v", "ok", "v", "v"},
		{"bad name", "v", "ok", "v", "v"},
		{"-x", "v", "", "v", "v"},
	}
	for _, s := range seeds {
		f.Add(s.n1, s.v1, s.n2, s.v2, s.v3)
	}
	// One directory for every input, which is faster than one each.
	dir := f.TempDir()
	var count atomic.Int64
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, v3 string) {
		path := filepath.Join(dir, fmt.Sprint(count.Add(1)))
		defer os.Remove(path)

		// An invalid name is refused, and nothing is written.
		if !outputName.MatchString(n1) {
			if err := WriteOutputs(path, map[string]string{n1: "v"}); err == nil {
				t.Fatalf("WriteOutputs(%q) = nil, want an error for the invalid name", n1)
			}
			if b, err := os.ReadFile(path); err == nil && len(b) != 0 {
				t.Fatalf("WriteOutputs(%q) refused the name but wrote %q", n1, b)
			}
		}

		// The runner reads text: values are taken as UTF-8.
		valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		want := map[string]string{
			validName(n1): valid(v1),
			validName(n2): valid(v2),
			// A third, fixed name after the others in sorted order.
			"zz_last": valid(v3),
		}
		for name, v := range want {
			if !utf8.ValidString(v) {
				t.Fatalf("value of %s not UTF-8 after cleaning", name)
			}
		}
		// The file may hold earlier outputs; ours are appended.
		if err := os.WriteFile(path, []byte("earlier<<EOF\nkept\nEOF\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := WriteOutputs(path, want); err != nil {
			t.Fatalf("WriteOutputs(%q) = %v", want, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readRunnerOutputs(string(b))
		if err != nil {
			t.Fatalf("the runner would reject the file: %v\n%q", err, b)
		}
		want["earlier"] = "kept"
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("outputs read back (-want +got):\n%s\nfile:\n%q", diff, b)
		}
	})
}
