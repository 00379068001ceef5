package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCLIJSON(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := packImage(t, 2)
	old := reg.push(t, "app:1.0", im)
	ref := reg.ref("app:1.0")

	res := runCLI(t, "--platform", "linux/amd64", "--json", ref)
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)

	newDigest := reg.digestOf(t, "app:1.0")
	var got []resultObject
	// Unmarshal refuses anything after the array but white space: stdout
	// must be the array alone.
	if err := json.Unmarshal([]byte(res.Stdout), &got); err != nil {
		t.Fatalf("stdout is not just a JSON array: %v\n%s", err, res.Stdout)
	}
	want := []resultObject{{
		"source": ref, "target": ref, "previous-digest": old, "digest": newDigest, "changed": true, "platform": "linux/amd64",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--json output mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(res.Stderr, old) || !strings.Contains(res.Stderr, newDigest) {
		t.Errorf("stderr lacks the summary line with %s -> %s:\n%s", old, newDigest, res.Stderr)
	}
	expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux", "amd64", "", ""), nil)
	expectLayersUntouched(t, reg.proxy, im)
}

func TestCLIDemo(t *testing.T) {
	t.Parallel()
	res := runCLI(t, "--demo")
	expectExit(t, res, 0)
	out := res.Stdout + res.Stderr
	if !strings.Contains(out, "linux/? -> linux/amd64") && !strings.Contains(out, "(none) -> linux/amd64") {
		t.Errorf("--demo output does not show the empty architecture becoming linux/amd64:\n%s", out)
	}
}
