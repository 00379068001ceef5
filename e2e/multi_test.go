package e2e

import (
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
		expectOutputs(t, res, severalOutputs(
			imageOutputs(reg.ref("a"), oldA, newA, true, "linux/amd64"),
			imageOutputs(reg.ref("b"), oldB, newB, true, "linux/amd64")))
		expectResults(t, res, []resultObject{
			imageResult(refA, refA, oldA, newA, true, "linux/amd64"),
			imageResult(refB, refB, oldB, newB, true, "linux/amd64"),
		})
		expectGroup(t, res, refA)
		expectGroup(t, res, refB)
		expectPatched(t, reg, "a", "a:1", a, platformMembers("linux/amd64"), nil)
		expectPatched(t, reg, "b", "b:1", b, platformMembers("linux/amd64"), nil)
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
		expectErrorMentions(t, res, refMissing)
		newA, newB := reg.digestOf(t, "a:1"), reg.digestOf(t, "b:1")
		if newA == oldA || newB == oldB {
			t.Errorf("the images that exist were not changed: a %s -> %s, b %s -> %s", oldA, newA, oldB, newB)
		}
		expectOutputs(t, res, severalOutputs(
			imageOutputs(reg.ref("a"), oldA, newA, true, "linux/amd64"),
			nil,
			imageOutputs(reg.ref("b"), oldB, newB, true, "linux/amd64")))
		rs := res.results(t)
		if len(rs) != 3 {
			t.Fatalf("results has %d objects, want 3: %v", len(rs), rs)
		}
		for i, want := range map[int]resultObject{
			0: imageResult(refA, refA, oldA, newA, true, "linux/amd64"),
			2: imageResult(refB, refB, oldB, newB, true, "linux/amd64"),
		} {
			if diff := cmp.Diff(want, rs[i]); diff != "" {
				t.Errorf("results[%d] (-want +got):\n%s", i, diff)
			}
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
