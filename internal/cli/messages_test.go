package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunInputErrors: a bad input is named as its flag, and with --json
// standard output is still a JSON array.
func TestRunInputErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		args       []string
		wantStderr string
		wantStdout string
	}{
		{"bad tag", []string{"--tag", "a:b:c", "ghcr.io/o/r:1"}, "error: --tag: parsing", ""},
		{"bad tag, json", []string{"--json", "--tag", "a:b:c", "ghcr.io/o/r:1"}, "error: --tag: parsing", "[]\n"},
		{"bad platform, json", []string{"--platform", "linux/amd65", "ghcr.io/o/r:1", "--json"}, "error: --platform: ", "[]\n"},
		{"no image, json", []string{"--json"}, "error: no image given", "[]\n"},
		{"unknown flag, json", []string{"--json", "--bogus", "ghcr.io/o/r:1"}, "flag provided but not defined", "[]\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			env := Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr, Transport: failTransport{t}}
			err := Run(context.Background(), tt.args, env)
			if err == nil || !strings.Contains(stderr.String(), tt.wantStderr) || strings.Contains(stderr.String(), "input ") {
				t.Errorf("Run(%q) = %v, stderr %q; want an error holding %q that names no input", tt.args, err, stderr.String(), tt.wantStderr)
			}
			if stdout.String() != tt.wantStdout {
				t.Errorf("Run(%q) stdout = %q, want %q", tt.args, stdout.String(), tt.wantStdout)
			}
		})
	}
}
