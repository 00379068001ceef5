package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		wantImages []string
		wantPlat   string
		wantJSON   bool
	}{
		{[]string{"--platform", "linux/amd64", "a:1"}, []string{"a:1"}, "linux/amd64", false},
		{[]string{"a:1", "--platform=linux/arm64", "b:2", "--json"}, []string{"a:1", "b:2"}, "linux/arm64", true},
		{[]string{"--json", "--", "--odd-name"}, []string{"--odd-name"}, "", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			plat := fs.String("platform", "", "")
			asJSON := fs.Bool("json", false, "")
			got, err := parseInterspersed(fs, tt.args)
			if err != nil {
				t.Fatalf("parseInterspersed(%q) = %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.wantImages, got); diff != "" {
				t.Errorf("parseInterspersed(%q) images (-want +got):\n%s", tt.args, diff)
			}
			if *plat != tt.wantPlat || *asJSON != tt.wantJSON {
				t.Errorf("parseInterspersed(%q) = platform %q json %t, want %q %t", tt.args, *plat, *asJSON, tt.wantPlat, tt.wantJSON)
			}
		})
	}
}

func TestReadPassword(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"s3cret\n": "s3cret", "s3cret\r\n": "s3cret", "s3cret": "s3cret", "a b\nrest": "a b"} {
		got, err := readPassword(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("readPassword(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := readPassword(strings.NewReader("\n")); err == nil {
		t.Errorf("readPassword(empty line) = nil error, want one")
	}
}

func TestRunRefusesBadInputBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	env := Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr, Transport: failTransport{t}}
	err := Run(context.Background(), []string{"--platform", "linux/amd65", "ghcr.io/o/r:1"}, env)
	if err == nil || !strings.Contains(stderr.String(), `"linux/amd64"`) {
		t.Errorf("Run(linux/amd65) = %v, stderr %q; want an error suggesting linux/amd64", err, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("Run(linux/amd65) printed %q on stdout, want nothing", stdout.String())
	}
}

// failTransport fails the test on any request.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	return nil, io.EOF
}
