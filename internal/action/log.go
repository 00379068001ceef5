package action

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/sethvargo/go-githubactions"
)

// logger writes engine logs as workflow commands.
type logger struct {
	gha *githubactions.Action
	w   io.Writer
}

func (l *logger) Group(title string) { l.gha.Group(oneLine(title)) }
func (l *logger) EndGroup()          { l.gha.EndGroup() }
func (l *logger) Notice(msg string)  { l.gha.Noticef("%s", msg) }
func (l *logger) Warning(msg string) { l.gha.Warningf("%s", msg) }
func (l *logger) Error(msg string)   { l.gha.Errorf("%s", msg) }

// Info prints plain lines; a line that would start a workflow command is
// defused so that text from inputs or registries cannot issue one.
func (l *logger) Info(msg string) {
	// The runner reads lines as .NET does: \r, \n and \r\n all end one.
	msg = strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\r", "\n")
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintln(l.w, Escape(line))
	}
}

// Escape keeps a plain log line from being read as a workflow command. The
// runner trims leading white space before it looks for "::", so indenting
// is not enough: the marker itself is broken up, visibly. The legacy "##["
// is found anywhere in a line (a quoted registry value puts it mid-line),
// so every one is broken up.
func Escape(line string) string {
	line = strings.ReplaceAll(line, "##[", "# #[")
	trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
	lead := line[:len(line)-len(trimmed)]
	if strings.HasPrefix(trimmed, "::") {
		return lead + ": :" + trimmed[2:]
	}
	return line
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
