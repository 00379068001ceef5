package action

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/version"
)

// TestRunLogsVersion: the version is logged once, after the masks and
// before the error of a run that stops at its inputs.
func TestRunLogsVersion(t *testing.T) {
	t.Parallel()
	env := map[string]string{"INPUT_PASSWORD": "hunter2", "INPUT_MODE": "fix"}
	var out bytes.Buffer
	err := Run(context.Background(), Env{Getenv: func(k string) string { return env[k] }, Stdout: &out})
	if err == nil {
		t.Fatalf("Run(mode fix) = nil, want an error")
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || lines[0] != "::add-mask::hunter2" || lines[1] != version.String() || !strings.HasPrefix(lines[2], "::error::") {
		t.Errorf("Run(mode fix) printed %q, want the mask, %q once, then the error", lines, version.String())
	}
}
