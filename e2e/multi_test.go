package e2e

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSeveralImages(t *testing.T) {
	t.Parallel()
	t.Run("all succeed", func(t *testing.T) {
		t.Parallel()
		reg := newRegistry(t, registryOptions{})
		a, b := packImage(t, 1), buildxImage(t, 1)
		oldA := reg.push(t, "a:1", a)
		oldB := reg.push(t, "b:1", b)
		refA, refB := reg.ref("a:1"), reg.ref("b:1")

		res := runAction(t, map[string]string{
			"image":    "\n  " + refA + "  \n\n\t" + refB + "\n\n",
			"platform": "linux/amd64",
		})
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 0)
		newA, newB := reg.digestOf(t, "a:1"), reg.digestOf(t, "b:1")
		expectOutputs(t, res, map[string]string{
			"digest":          newA + "\n" + newB,
			"image":           reg.ref("a") + "@" + newA + "\n" + reg.ref("b") + "@" + newB,
			"previous-digest": oldA + "\n" + oldB,
			"changed":         "true\ntrue",
			"platform":        "linux/amd64\nlinux/amd64",
		})
		expectResults(t, res, []resultObject{{
			"source": refA, "target": refA, "previous-digest": oldA, "digest": newA, "changed": true, "platform": "linux/amd64",
		}, {
			"source": refB, "target": refB, "previous-digest": oldB, "digest": newB, "changed": true, "platform": "linux/amd64",
		}})
		expectGroup(t, res, refA)
		expectGroup(t, res, refB)
		expectPatched(t, reg, "a", "a:1", a, platformMembers("linux", "amd64", "", ""), nil)
		expectPatched(t, reg, "b", "b:1", b, platformMembers("linux", "amd64", "", ""), nil)
	})
	t.Run("one missing", func(t *testing.T) {
		t.Parallel()
		reg := newRegistry(t, registryOptions{})
		a, b := packImage(t, 1), packImage(t, 1)
		oldA := reg.push(t, "a:1", a)
		oldB := reg.push(t, "b:1", b)
		refA, refMissing, refB := reg.ref("a:1"), reg.ref("missing:1"), reg.ref("b:1")

		res := runAction(t, map[string]string{
			"image":    refA + "\n" + refMissing + "\n" + refB,
			"platform": "linux/amd64",
		})
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 1)
		msg := expectOneError(t, res)
		if !strings.Contains(msg, refMissing) {
			t.Errorf("error %q does not name %s", msg, refMissing)
		}
		newA, newB := reg.digestOf(t, "a:1"), reg.digestOf(t, "b:1")
		if newA == oldA || newB == oldB {
			t.Errorf("the images that exist were not changed: a %s -> %s, b %s -> %s", oldA, newA, oldB, newB)
		}
		expectOutputs(t, res, map[string]string{
			"digest":          newA + "\n\n" + newB,
			"image":           reg.ref("a") + "@" + newA + "\n\n" + reg.ref("b") + "@" + newB,
			"previous-digest": oldA + "\n\n" + oldB,
			"changed":         "true\n\ntrue",
			"platform":        "linux/amd64\n\nlinux/amd64",
		})
		rs := res.results(t)
		if len(rs) != 3 {
			t.Fatalf("results has %d objects, want 3: %v", len(rs), rs)
		}
		if diff := cmp.Diff(resultObject{
			"source": refA, "target": refA, "previous-digest": oldA, "digest": newA, "changed": true, "platform": "linux/amd64",
		}, rs[0]); diff != "" {
			t.Errorf("results[0] (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(resultObject{
			"source": refB, "target": refB, "previous-digest": oldB, "digest": newB, "changed": true, "platform": "linux/amd64",
		}, rs[2]); diff != "" {
			t.Errorf("results[2] (-want +got):\n%s", diff)
		}
		if msg, ok := rs[1]["error"].(string); !ok || msg == "" {
			t.Errorf("results[1] = %v, want an \"error\" message", rs[1])
		}
		if rs[1]["source"] != refMissing {
			t.Errorf("results[1].source = %v, want %q", rs[1]["source"], refMissing)
		}
		for _, k := range []string{"digest", "previous-digest"} {
			if v, ok := rs[1][k]; ok && v != "" {
				t.Errorf("results[1][%q] = %v, want no digest for a failed image", k, v)
			}
		}
	})
}
