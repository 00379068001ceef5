package action

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/set-image-platform/set-image-platform/internal/safetext"
)

// logger writes engine logs as workflow commands. Every message may carry
// registry text: it is made one line first (safetext.Line), so that it can
// neither start a line of its own nor reach the runner as an escaped line
// break (%0A) inside a command.
type logger struct {
	gha *githubactions.Action
	w   io.Writer
}

func (l *logger) Group(title string) { l.gha.Group(safetext.Line(title)) }
func (l *logger) EndGroup()          { l.gha.EndGroup() }
func (l *logger) Notice(msg string)  { l.gha.Noticef("%s", safetext.Line(msg)) }
func (l *logger) Warning(msg string) { l.gha.Warningf("%s", safetext.Line(msg)) }
func (l *logger) Error(msg string)   { l.gha.Errorf("%s", safetext.Line(msg)) }

// Info prints a plain line, defused so that text from inputs or registries
// cannot issue a workflow command.
func (l *logger) Info(msg string) { fmt.Fprintln(l.w, Escape(safetext.Line(msg))) }

// Escape keeps a plain log line from being read as a workflow command. The
// runner trims leading white space before it looks for "::", and finds the
// legacy "##[" anywhere in a line, so indenting is not enough: the markers
// themselves are broken up, visibly.
func Escape(line string) string {
	line = strings.ReplaceAll(line, "##[", "# #[")
	trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
	if strings.HasPrefix(trimmed, "::") {
		lead := line[:len(line)-len(trimmed)]
		return lead + ": :" + trimmed[2:]
	}
	return line
}
