package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

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

// TestTokenScrubbed runs against a token service whose registry echoes
// the bearer token bare in an error body: the token, obtained by the run
// and so never masked by the runner, appears nowhere the run writes.
func TestTokenScrubbed(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	reg.push(t, "app:1.0", packImage(t, 1))
	password := randomSecret(t)
	s := newTokenService(t, reg, "octo", password)
	var mu sync.Mutex
	var tokens []string
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			mu.Lock()
			tokens = append(tokens, tok)
			mu.Unlock()
			return http.StatusForbidden, http.Header{"Content-Type": {"application/json"}},
				`{"errors":[{"code":"DENIED","message":"token ` + tok + ` may not push"}]}`, true
		}
		return s.serve(r)
	})
	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "username": "octo", "password": password})
	expectExit(t, res, 1)
	expectErrorMentions(t, res, "may not push")
	if len(tokens) == 0 {
		t.Fatalf("no manifest PUT with a bearer token: %s", formatRequests(reg.proxy.requests()))
	}
	for _, tok := range tokens {
		for where, text := range map[string]string{"stdout": res.Stdout, "stderr": res.Stderr, "outputs": res.OutputFile, "summary": res.Summary} {
			if strings.Contains(text, tok) {
				t.Errorf("%s holds the bearer token the run obtained", where)
			}
		}
	}
}
