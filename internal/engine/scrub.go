package engine

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// authHeader matches credentials a registry may echo in an error body.
var authHeader = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)

// urlUser matches user:password@ in URLs.
var urlUser = regexp.MustCompile(`://[^/@\s:]+:[^/@\s]+@`)

// scrubber removes secrets from text that leaves the run: the inputs'
// password and token, the bearer tokens the run obtained (which the
// runner cannot mask: it never saw them), and anything shaped like an
// Authorization value.
type scrubber struct {
	secrets []string
	tokens  *tokenSet
}

func newScrubber(c Credentials) scrubber {
	s := scrubber{tokens: &tokenSet{}}
	for _, v := range []string{c.Password, c.GitHubToken} {
		if len(v) >= 3 {
			s.secrets = append(s.secrets, v)
		}
	}
	return s
}

// tokenSet holds the bearer tokens seen so far; requests add to it while
// messages are scrubbed.
type tokenSet struct {
	mu   sync.Mutex
	list []string
}

// add notes token, once.
func (ts *tokenSet) add(token string) {
	if len(token) < 8 {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !slices.Contains(ts.list, token) {
		ts.list = append(ts.list, token)
	}
}

func (ts *tokenSet) all() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.list)
}

func (s scrubber) text(t string) string {
	for _, v := range s.secrets {
		t = strings.ReplaceAll(t, v, "***")
	}
	if s.tokens != nil {
		for _, v := range s.tokens.all() {
			t = strings.ReplaceAll(t, v, "***")
		}
	}
	t = authHeader.ReplaceAllString(t, "$1 ***")
	t = urlUser.ReplaceAllString(t, "://***@")
	// Cut long registry text only now: a cut made before scrubbing could
	// split a secret and leave its first part unmatched.
	if len(t) > maxMessage {
		t = strings.ToValidUTF8(t[:maxMessage], "") + "…"
	}
	return t
}

// maxMessage bounds one message of registry text.
const maxMessage = 1000

// err returns err with a scrubbed message, still unwrapping to err.
func (s scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	msg := s.text(err.Error())
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubLogger scrubs every message before the front door sees it.
type scrubLogger struct {
	Logger
	s scrubber
}

func (l scrubLogger) Group(t string)   { l.Logger.Group(l.s.text(t)) }
func (l scrubLogger) Info(m string)    { l.Logger.Info(l.s.text(m)) }
func (l scrubLogger) Notice(m string)  { l.Logger.Notice(l.s.text(m)) }
func (l scrubLogger) Warning(m string) { l.Logger.Warning(l.s.text(m)) }
func (l scrubLogger) Error(m string)   { l.Logger.Error(l.s.text(m)) }
