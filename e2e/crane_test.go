package e2e

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAgainstCrane runs `crane mutate --set-platform` and the binary on
// identical images in two fresh registries and compares what each did on
// the wire and to the config.
func TestAgainstCrane(t *testing.T) {
	t.Parallel()
	im := buildxImage(t, 5)
	ours := newRegistry(t, registryOptions{})
	theirs := newRegistry(t, registryOptions{})
	ours.push(t, "app:1.0", im)
	theirs.push(t, "app:1.0", im)

	res := runAction(t, map[string]string{"image": ours.ref("app:1.0"), "platform": "linux/amd64"})
	expectExit(t, res, 0)
	runCrane(t, "mutate", "--set-platform", "linux/amd64", theirs.ref("app:1.0"))

	ours.proxy.log(t, "set-image-platform")
	theirs.proxy.log(t, "crane mutate --set-platform linux/amd64")
	oursReqs, craneReqs := ours.proxy.requests(), theirs.proxy.requests()
	t.Logf("requests: set-image-platform %d, crane %d", len(oursReqs), len(craneReqs))
	if len(oursReqs) >= len(craneReqs) {
		t.Errorf("set-image-platform made %d requests, crane %d; want fewer", len(oursReqs), len(craneReqs))
	}
	expectLayersUntouched(t, ours.proxy, im)
	// crane checks every layer (HEAD, or GET when it reads them).
	for _, d := range im.layerDigests() {
		checked := false
		for _, r := range theirs.proxy.naming(d) {
			if r.Method == "HEAD" || r.Method == "GET" {
				checked = true
			}
		}
		if !checked {
			t.Errorf("crane neither HEADed nor GOT layer %s; the comparison no longer shows what it claims", d)
		}
	}
	t.Logf("crane's requests naming a layer:\n%s", formatRequests(theirs.proxy.naming(im.layerDigests()...)))

	// What each did to the config.
	oldMembers := mustMembers(t, "old config", im.config.data)
	oursCfg := expectPatched(t, ours, "app", "app:1.0", im, platformMembers("linux/amd64"), nil)
	craneCfg := theirs.config(t, "app", theirs.get(t, "app:1.0"))
	craneMembers := mustMembers(t, "crane's config", craneCfg)
	t.Logf("config before:\n%s\nafter set-image-platform:\n%s\nafter crane:\n%s", im.config.data, oursCfg, craneCfg)
	diff := cmp.Diff(without(oldMembers, platformKeys), without(craneMembers, platformKeys))
	if diff == "" {
		t.Errorf("crane kept every config member; the comparison no longer shows what it claims")
	}
	t.Logf("what crane changed beyond the platform (-before +crane):\n%s", diff)
	for _, k := range []string{"moby.buildkit.buildinfo.v1", "x.example.unknown"} {
		if _, ok := value(craneMembers, k); ok {
			t.Errorf("crane kept the unknown config key %q", k)
		}
	}
	if bytes.Equal(craneCfg, oursCfg) {
		t.Errorf("crane's config equals ours")
	}
}

func runCrane(t *testing.T, args ...string) {
	t.Helper()
	res, err := execTool(t, cranePath, args, shellEnv(t.TempDir()), nil)
	t.Logf("crane %q: %s", args, res)
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("exit %d", res.ExitCode)
	}
	if err != nil {
		t.Fatalf("crane %q: %v", args, err)
	}
}
