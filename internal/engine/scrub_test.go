package engine

import (
	"errors"
	"testing"
)

func TestScrubber(t *testing.T) {
	t.Parallel()
	s := newScrubber(Credentials{Password: "hunter2-pass", GitHubToken: "ghs_abcdefghijkl"})
	tests := map[string]string{
		"denied for hunter2-pass":                         "denied for ***",
		"token ghs_abcdefghijkl rejected":                 "token *** rejected",
		"header Authorization: Bearer eyJhbGciOiJIUzI1Ni": "header Authorization: Bearer ***",
		"basic dXNlcjpwYXNzd29yZA== refused":              "basic *** refused",
		"GET https://user:pw@example.com/v2/":             "GET https://***@example.com/v2/",
		"nothing secret here":                             "nothing secret here",
	}
	for in, want := range tests {
		if got := s.text(in); got != want {
			t.Errorf("scrubber.text(%q) = %q, want %q", in, got, want)
		}
	}
	base := errors.New("registry said hunter2-pass")
	err := s.err(base)
	if err.Error() != "registry said ***" || !errors.Is(err, base) {
		t.Errorf("scrubber.err() = %q (is base: %t), want the scrubbed text, still wrapping", err, errors.Is(err, base))
	}
}
