package e2e

import (
	"net/http"
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

func TestTwoImagesOneTag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// lines are the image lines as written, from the two digests of
		// app:1.0 and app:2.0.
		lines func(reg *testRegistry, d1, d2 string) []string
		cli   bool
	}{{
		name:  "two tags of one repository",
		lines: func(reg *testRegistry, _, _ string) []string { return []string{reg.ref("app:1.0"), reg.ref("app:2.0")} },
	}, {
		name: "a source that is the target tag",
		lines: func(reg *testRegistry, _, _ string) []string {
			return []string{reg.ref("app:1.0"), "  " + reg.ref("app:fixed")}
		},
	}, {
		name: "two digests",
		lines: func(reg *testRegistry, d1, d2 string) []string {
			return []string{reg.ref("app@" + d1), reg.ref("app@" + d2)}
		},
	}, {
		name:  "command line",
		lines: func(reg *testRegistry, _, _ string) []string { return []string{reg.ref("app:1.0"), reg.ref("app:2.0")} },
		cli:   true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			d1 := reg.push(t, "app:1.0", packImage(t, 1))
			d2 := reg.push(t, "app:2.0", packImage(t, 1))
			// The target tag exists: a refused run must leave it alone.
			fixed := reg.push(t, "app:fixed", packImage(t, 1))
			lines := tc.lines(reg, d1, d2)
			var res Result
			if tc.cli {
				res = runCLI(t, append([]string{"--platform", "linux/amd64", "--tag", "fixed"}, lines...)...)
			} else {
				res = runAction(t, map[string]string{"image": strings.Join(lines, "\n"), "platform": "linux/amd64", "tag": "fixed"})
			}
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 1)
			wants := []string{strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1]), reg.ref("app:fixed")}
			if tc.cli {
				expectOneCLIError(t, res, wants...)
			} else {
				expectErrorMentions(t, res, wants...)
			}
			// Judged from the inputs alone: not even a read.
			expectNoRequests(t, reg.proxy)
			expectAt(t, reg, "app:1.0", d1)
			expectAt(t, reg, "app:2.0", d2)
			expectAt(t, reg, "app:fixed", fixed)
		})
	}
}

func TestSameSourceTwice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// lines are the image lines; the first is the one kept.
		lines func(reg *testRegistry) []string
		tag   string // the tag app:1.0 is pushed as
		cli   bool
	}{{
		name: "same line with spaces",
		lines: func(reg *testRegistry) []string {
			return []string{reg.ref("app:1.0"), "  " + reg.ref("app:1.0") + "  "}
		},
		tag: "1.0",
	}, {
		name:  "implicit latest",
		lines: func(reg *testRegistry) []string { return []string{reg.ref("app"), reg.ref("app:latest")} },
		tag:   "latest",
	}, {
		name:  "command line",
		lines: func(reg *testRegistry) []string { return []string{reg.ref("app:1.0"), reg.ref("app:1.0")} },
		tag:   "1.0",
		cli:   true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			im := packImage(t, 1)
			old := reg.push(t, "app:"+tc.tag, im)
			lines := tc.lines(reg)
			kept, dropped := lines[0], strings.TrimSpace(lines[1])

			var res Result
			var notices []string
			if tc.cli {
				res = runCLI(t, append([]string{"--platform", "linux/amd64", "--json"}, lines...)...)
				for _, l := range res.logLines() {
					if strings.HasPrefix(l, "notice: ") {
						notices = append(notices, l)
					}
				}
			} else {
				res = runAction(t, map[string]string{"image": strings.Join(lines, "\n"), "platform": "linux/amd64"})
				notices = res.commandLines("notice")
			}
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)

			manifestPath := "/v2/app/manifests/" + tc.tag
			var puts []request
			for _, r := range reg.proxy.requests() {
				if r.Method == http.MethodPut && r.Path == manifestPath {
					puts = append(puts, r)
				}
			}
			if len(puts) != 1 {
				t.Errorf("PUT %s requests = %d, want 1:\n%s", manifestPath, len(puts), formatRequests(puts))
			}
			var named []string
			for _, n := range notices {
				if strings.Contains(n, strconvQuote(dropped)) {
					named = append(named, n)
				}
			}
			if len(named) != 1 {
				t.Errorf("notices naming the dropped line %q = %q, want 1 among %q", dropped, named, notices)
			}

			now := reg.digestOf(t, "app:"+tc.tag)
			want := []resultObject{imageResult(kept, kept, old, now, true, "linux/amd64")}
			if tc.cli {
				expectJSONStdout(t, res, want)
				return
			}
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, now, true, "linux/amd64"))
			expectResults(t, res, want)
		})
	}
}
