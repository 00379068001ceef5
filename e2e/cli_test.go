package e2e

import (
	"strings"
	"testing"
)

func TestCLIJSON(t *testing.T) {
	t.Parallel()
	im := packImage(t, 2)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	ref := reg.ref("app:1.0")

	res := runCLI(t, "--platform", "linux/amd64", "--json", ref)
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)

	newDigest := reg.digestOf(t, "app:1.0")
	expectJSONStdout(t, res, []resultObject{imageResult(ref, ref, old, newDigest, true, "linux/amd64")})
	if !strings.Contains(res.Stderr, old) || !strings.Contains(res.Stderr, newDigest) {
		t.Errorf("stderr lacks the summary line with %s -> %s:\n%s", old, newDigest, res.Stderr)
	}
	expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), nil)
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
