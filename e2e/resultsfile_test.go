package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResultsFileUnwritable: a workspace the results file cannot be
// written to costs that one output, with a warning. The tag has moved by
// then, so the other outputs and the step summary must still say so, and
// the step succeeds: failing it would report a write as not having
// happened.
func TestResultsFileUnwritable(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	old := reg.push(t, "app:1.0", packImage(t, 1))
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"workspace missing", []string{"GITHUB_WORKSPACE=" + missing}},
		{"workspace a file", []string{"GITHUB_WORKSPACE=" + notADir}},
		// Run by hand with GITHUB_ACTIONS set: the file goes to RUNNER_TEMP.
		{"no workspace, runner temp missing", []string{"GITHUB_WORKSPACE=", "RUNNER_TEMP=" + missing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := reg.digestOf(t, "app:1.0")
			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "overwrite": "true"},
				tc.env...)
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			got := reg.digestOf(t, "app:1.0")
			if before == old {
				expectOutputs(t, res, imageOutputs(reg.ref("app"), old, got, true, "linux/amd64"))
			} else {
				expectOutputs(t, res, imageOutputs(reg.ref("app"), before, got, false, "linux/amd64"))
			}
			if res.Outputs["results-file"] != "" {
				t.Errorf("results-file output = %q, want empty: no file was written", res.Outputs["results-file"])
			}
			var warned bool
			for _, l := range res.logLines() {
				warned = warned || strings.HasPrefix(l, "::warning::") && strings.Contains(l, "results file")
			}
			if !warned {
				t.Errorf("no ::warning:: about the results file in the log:\n%s", res.Stdout)
			}
			if !strings.Contains(res.Summary, got) {
				t.Errorf("step summary does not name %s:\n%s", got, res.Summary)
			}
		})
	}
}

// TestResultsFileUnusable writes the outputs and the summary of a run
// whose results file cannot be created: the tag was written, so the
// outputs must say so; the results file is a warning.
func TestResultsFileUnusable(t *testing.T) {
	t.Parallel()
	reg, old := newAppRegistry(t, registryOptions{}, packImage(t, 1))
	// A regular file where the results file's directory should be.
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"},
		"RUNNER_TEMP="+notDir, "GITHUB_WORKSPACE="+notDir)
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	newDigest := reg.digestOf(t, "app:1.0")
	if newDigest == old {
		t.Fatalf("app:1.0 still at %s", old)
	}
	expectOutputs(t, res, imageOutputs(reg.ref("app"), old, newDigest, true, "linux/amd64"))
	if res.Outputs["results"] == "" {
		t.Errorf("results output empty after a results-file failure")
	}
	if !anyContainsAll(res.commandLines("warning"), []string{"results file"}) {
		t.Errorf("no ::warning:: about the results file: %q", res.commandLines("warning"))
	}
	if !strings.Contains(res.Summary, newDigest) {
		t.Errorf("step summary does not name %s:\n%s", newDigest, res.Summary)
	}
}
