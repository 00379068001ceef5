package safetext

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "linux/amd64", "linux/amd64"},
		{"empty", "", ""},
		{"carriage returns and a heading", "amd64\r\r## All images passed", `amd64\r\r## All images passed`},
		{"newline and a command", "arm64\n::error::evil", `arm64\n::error::evil`},
		{"ansi colour and cursor", "\x1b[1A\x1b[2K\x1b[32mok\x1b[0m", `\x1b[1A\x1b[2K\x1b[32mok\x1b[0m`},
		{"osc title and bell", "\x1b]0;done\x07", `\x1b]0;done\a`},
		{"backspace, tab, nul, del", "a\b\t\x00\x7f", `a\b\t\x00\x7f`},
		{"c1 control", "a\u009bb", `a\u009bb`},
		{"line separator", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"bidi override", "abc\u202edef\u2066", `abc\u202edef\u2066`},
		{"invalid utf-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"replacement character kept", "a\ufffdb", "a\ufffdb"},
		{"printable unicode and backslash kept", `ä ü 中 \n`, `ä ü 中 \n`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Line(tc.in); got != tc.want {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCell(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "ghcr.io/o/app:1.0", "ghcr.io/o/app:1.0"},
		{"heading after carriage returns", "amd64\r\r## All images passed", `amd64\\r\\r## All images passed`},
		{"pipe", "a|b", `a\|b`},
		{"escaped pipe stays escaped", `a\|b`, `a\\\|b`},
		{"html", `<img src=x onerror="y">&amp;`, `&lt;img src=x onerror="y"&gt;&amp;amp;`},
		{"backtick", "a`b", "a\\`b"},
		{"newline", "a\nb", `a\\nb`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Cell(tc.in); got != tc.want {
				t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLineAllocatesNothingForSafeText(t *testing.T) {
	s := strings.Repeat("linux/amd64 ", 10)
	if n := testing.AllocsPerRun(100, func() { _ = Line(s) }); n != 0 {
		t.Errorf("Line(safe text) allocates %v times, want 0", n)
	}
}

// unescapedPipe matches a pipe after an even number of backslashes: one
// that ends a table cell.
var unescapedPipe = regexp.MustCompile(`(^|[^\\])(\\\\)*\|`)

func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "linux/amd64", "amd64\r\r## x", "\x1b[2K\r\b", "a|b<c>&`", "\xff\u2028\u202e", `\|`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := Line(s)
		if !utf8.ValidString(line) {
			t.Errorf("Line(%q) = %q, not UTF-8", s, line)
		}
		for _, r := range line {
			if Unsafe(r) {
				t.Fatalf("Line(%q) = %q, holds %U", s, line, r)
			}
		}
		if again := Line(line); again != line {
			t.Errorf("Line(Line(%q)) = %q, want %q", s, again, line)
		}
		if line == s != (unsafeAt(s) < 0) {
			t.Errorf("Line(%q) = %q: changed %v, yet unsafeAt = %d", s, line, line != s, unsafeAt(s))
		}
		cell := Cell(s)
		for _, r := range cell {
			if Unsafe(r) {
				t.Fatalf("Cell(%q) = %q, holds %U", s, cell, r)
			}
		}
		if strings.ContainsAny(cell, "<>") || unescapedPipe.MatchString(cell) {
			t.Errorf("Cell(%q) = %q, holds HTML or a pipe that ends the cell", s, cell)
		}
	})
}
