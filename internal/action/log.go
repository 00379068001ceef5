package action

import (
	"fmt"
	"io"
	"strings"

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
// indented so that text from inputs or registries cannot issue one.
func (l *logger) Info(msg string) {
	for _, line := range strings.Split(msg, "\n") {
		fmt.Fprintln(l.w, Escape(line))
	}
}

// Escape keeps a plain log line from being read as a workflow command.
func Escape(line string) string {
	if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
		return " " + line
	}
	return line
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
