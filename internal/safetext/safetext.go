package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line returns s on one line with no control character: each C0 and C1
// control and DEL (newline, carriage return, tab and escape included), the
// Unicode line and paragraph separators and the bidirectional controls is
// written as a Go escape (\n, \r, \x1b, \u2028), and each byte that is not
// UTF-8 as \xNN. Everything else stands as it is.
func Line(s string) string {
	i := unsafeAt(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[i]>>4])
			b.WriteByte(hexDigits[s[i]&0xf])
		case Unsafe(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

// unsafeAt returns the index of the first rune of s that Line escapes, or -1.
func unsafeAt(s string) int {
	for i, r := range s {
		if Unsafe(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)) {
			return i
		}
	}
	return -1
}

// Unsafe reports whether Line escapes r: a control character, a line or
// paragraph separator, or a bidirectional control, which reorders what a
// terminal or a browser shows.
func Unsafe(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// cellEscapes are the characters that Markdown tables, inline Markdown and
// HTML give meaning to inside a cell. A backslash is doubled so that the
// escapes Line writes, and a pipe the text carries, stay what they are.
var cellEscapes = strings.NewReplacer(
	`\`, `\\`,
	"|", `\|`,
	"`", "\\`",
	"<", "&lt;",
	">", "&gt;",
	"&", "&amp;",
)

// Cell returns s for a cell of a Markdown table: Line, then the pipe that
// would end the cell, the backtick that would open code, and HTML escaped.
func Cell(s string) string {
	return cellEscapes.Replace(Line(s))
}
