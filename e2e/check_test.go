package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// checkSetup is what a check fixture pushed as app:1.0.
type checkSetup struct {
	// layers are the digests of every layer blob of the image (children
	// included).
	layers []string
	// wantErrors holds, per expected finding in order, substrings of its
	// ::error:: besides the reference; none when the check must pass.
	wantErrors [][]string
	// wantPlatform is the platform output of a passing check.
	wantPlatform string
}

// pushImage returns a fixture pushing im as app:1.0.
func pushImage(im func(*testing.T) image, platform string, wantErrors ...[]string) func(*testing.T, *testRegistry) checkSetup {
	return func(t *testing.T, reg *testRegistry) checkSetup {
		i := im(t)
		reg.push(t, "app:1.0", i)
		return checkSetup{layers: i.layerDigests(), wantErrors: wantErrors, wantPlatform: platform}
	}
}

// pushIndexOf returns a fixture pushing the index fx makes as app:1.0;
// a nil findings means the check passes with platform.
func pushIndexOf(fx func(*testing.T) indexFixture, platform string, findings func(indexFixture) [][]string) func(*testing.T, *testRegistry) checkSetup {
	return func(t *testing.T, reg *testRegistry) checkSetup {
		f := fx(t)
		reg.pushIndex(t, "app", "1.0", f)
		setup := checkSetup{layers: f.layers(), wantPlatform: platform}
		if findings != nil {
			setup.wantErrors = findings(f)
		}
		return setup
	}
}

// binIndex makes a buildx index of two children, with amd64 and arm64
// binaries, whose configs say the architectures archs and whose entries
// say the platforms entries.
func binIndex(archs, entries [2]string) func(*testing.T) indexFixture {
	return func(t *testing.T) indexFixture {
		var children []indexChild
		for i, l := range []layer{helloLayer(t, "hello-linux-amd64"), serverLayer(t, "hello-linux-arm64")} {
			im := binImage(`"architecture":"`+archs[i]+`","os":"linux"`, l)
			children = append(children, indexChild{kind: imageChild, im: im, platform: entries[i]})
		}
		return buildxIndexOf(t, children)
	}
}

// childFinding is one finding about child i of an index, whose ::error::
// names its digest and holds each of also.
func childFinding(i int, also ...string) func(indexFixture) [][]string {
	return func(fx indexFixture) [][]string {
		return [][]string{append([]string{fx.children[i].im.manifestDigest()}, also...)}
	}
}

// suggestedFix returns the arguments of the set-image-platform invocation
// an ::error:: line suggests, or nil.
func suggestedFix(msg string) []string {
	_, rest, ok := strings.Cut(msg, "set-image-platform ")
	if !ok {
		return nil
	}
	rest, _, _ = strings.Cut(rest, ";")
	return strings.Fields(rest)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fixture  func(*testing.T, *testRegistry) checkSetup
		platform string
		// fixable: each finding names a set-image-platform invocation;
		// running them makes the same check pass.
		fixable bool
	}{{
		name:     "platform missing, platform given",
		fixture:  pushImage(func(t *testing.T) image { return packImage(t, 1) }, "", []string{"set-image-platform --platform linux/amd64 "}),
		platform: "linux/amd64",
		fixable:  true,
	}, {
		name:     "platform differs from the one given",
		fixture:  pushImage(func(t *testing.T) image { return packImageWith(t, 1, `"architecture":"arm64","variant":"v8"`) }, "", []string{"linux/arm64/v8", "linux/amd64", "--overwrite"}),
		platform: "linux/amd64",
		fixable:  true,
	}, {
		name: "auto, declared matches binaries",
		fixture: pushImage(func(t *testing.T) image {
			return singleBinaryImage(t, "hello-linux-arm64", `"architecture":"arm64","os":"linux"`)
		}, "linux/arm64"),
		platform: "auto",
	}, {
		name: "auto, arm64/v8 declared, arm64 binaries",
		fixture: pushImage(func(t *testing.T) image {
			return singleBinaryImage(t, "hello-linux-arm64", `"architecture":"arm64","os":"linux","variant":"v8"`)
		}, "linux/arm64/v8"),
		platform: "auto",
	}, {
		name: "auto, declared amd64, arm64 binaries",
		fixture: pushImage(func(t *testing.T) image {
			return binImage(`"architecture":"amd64","os":"linux"`, serverLayer(t, "hello-linux-arm64"))
		}, "", []string{"linux/amd64", "linux/arm64", "--platform linux/arm64"}),
		platform: "auto",
		fixable:  true,
	}, {
		name:     "auto, nothing declared, buildpack image",
		fixture:  pushImage(func(t *testing.T) image { return buildpackImage(t, `"architecture":"","os":"linux"`) }, "", []string{"--platform linux/amd64"}),
		platform: "auto",
		fixable:  true,
	}, {
		name: "auto, windows image with os.version",
		fixture: pushImage(func(t *testing.T) image {
			return binImage(`"architecture":"amd64","os":"windows","os.version":"10.0.20348.2849"`, binLayer(t, dockerLayer,
				directory("Files"), dataFile("Files/app/hello.exe", testBinary(t, "hello-windows-amd64.exe"))))
		}, "windows/amd64:10.0.20348.2849"),
		platform: "auto",
	}, {
		name: "auto, scripts only",
		fixture: pushImage(func(t *testing.T) image {
			return binImage(`"architecture":"amd64","os":"linux"`, binLayer(t, dockerLayer, shellScript("usr/local/bin/run.sh")))
		}, "", []string{"no ELF or PE executable", `"platform" explicitly`}),
		platform: "auto",
	}, {
		name: "index, child configs lack the platform of their entries",
		fixture: pushIndexOf(buildxIndex, "", func(fx indexFixture) [][]string {
			return [][]string{{fx.children[0].im.manifestDigest()}, {fx.children[1].im.manifestDigest()}}
		}),
		fixable: true,
	}, {
		name:    "index, entry disagrees with config",
		fixture: pushIndexOf(binIndex([2]string{"arm64", "arm64"}, [2]string{"linux/amd64", "linux/arm64"}), "", childFinding(0, "linux/amd64", "linux/arm64")),
		fixable: true,
	}, {
		name: "index, consistent",
		fixture: pushIndexOf(func(t *testing.T) indexFixture {
			amd := buildxChild(t, 1, `"architecture":"amd64",`, `"linux"`)
			arm := buildxChild(t, 2, `"architecture":"arm64","variant":"v8",`, `"linux"`)
			return buildxIndexOf(t, []indexChild{
				{kind: imageChild, im: amd, platform: "linux/amd64"},
				{kind: imageChild, im: arm, platform: "linux/arm64/v8"},
				{kind: attestationChild, im: attestationFor(t, amd.manifestDigest()), describes: 0},
				{kind: attestationChild, im: attestationFor(t, arm.manifestDigest()), describes: 1},
			})
		}, "linux/amd64,linux/arm64/v8", nil),
	}, {
		name:     "index, auto, declared matches binaries",
		fixture:  pushIndexOf(binIndex([2]string{"amd64", "arm64"}, [2]string{"linux/amd64", "linux/arm64"}), "linux/amd64,linux/arm64", nil),
		platform: "auto",
	}, {
		name:     "index, auto, a child's binaries differ from config and entry",
		fixture:  pushIndexOf(binIndex([2]string{"amd64", "amd64"}, [2]string{"linux/amd64", "linux/amd64"}), "", childFinding(1, "linux/amd64", "linux/arm64")),
		platform: "auto",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			setup := tc.fixture(t, reg)
			old := reg.digestOf(t, "app:1.0")
			ref := reg.ref("app:1.0")
			inputs := map[string]string{"image": ref, "platform": tc.platform, "mode": "check"}

			res := runAction(t, inputs)
			reg.proxy.log(t, "requests of the check")
			expectNoWrites(t, reg.proxy)
			if tc.platform == "auto" {
				expectLayersReadOnce(t, reg.proxy, setup.layers)
			} else {
				expectNotNamed(t, reg.proxy, setup.layers)
			}
			expectAt(t, reg, "app:1.0", old)
			expectGroup(t, res, ref)
			if !strings.Contains(res.Summary, "| image | declared platform | expected platform | verdict |") {
				t.Errorf("step summary lacks the check table header:\n%s", res.Summary)
			}

			if len(setup.wantErrors) == 0 {
				expectExit(t, res, 0)
				expectNoErrors(t, res)
				expectOutputs(t, res, imageOutputs(reg.ref("app"), old, old, false, setup.wantPlatform))
				expectResults(t, res, []resultObject{imageResult(ref, ref, old, old, false, setup.wantPlatform)})
				expectSummaryRow(t, res, ref, "passed")
				return
			}

			expectExit(t, res, 1)
			errs := res.commandLines("error")
			if len(errs) != len(setup.wantErrors) {
				t.Fatalf("::error:: lines = %d, want %d (one per finding): %q", len(errs), len(setup.wantErrors), errs)
			}
			for i, want := range setup.wantErrors {
				for _, s := range append([]string{ref}, want...) {
					if !strings.Contains(errs[i], s) {
						t.Errorf("error %d %q does not mention %q", i+1, errs[i], s)
					}
				}
			}
			if rs := res.results(t); len(rs) != 1 || rs[0]["source"] != ref {
				t.Errorf("results output = %v, want one object for %s", rs, ref)
			}
			expectSummaryRow(t, res, ref, "failed", "error")
			if !tc.fixable {
				return
			}

			// Each suggested invocation, run as printed, must fix what
			// was found: the same check passes afterwards.
			done := map[string]bool{}
			for i, e := range errs {
				args := suggestedFix(e)
				if args == nil || args[len(args)-1] != ref {
					t.Errorf("error %d names no set-image-platform invocation for %s: %q", i+1, ref, e)
					continue
				}
				if key := strings.Join(args, " "); !done[key] {
					done[key] = true
					if fix := runCLI(t, args...); fix.ExitCode != 0 {
						t.Errorf("suggested fix set-image-platform %s: exit %d:\n%s%s", key, fix.ExitCode, fix.Stdout, fix.Stderr)
					}
				}
			}
			reg.proxy.reset()
			again := runAction(t, inputs)
			expectNoWrites(t, reg.proxy)
			if again.ExitCode != 0 {
				t.Errorf("check after running the suggested fixes %q: exit %d, errors %q", keysOf(done), again.ExitCode, again.commandLines("error"))
			}
		})
	}
}

// keysOf returns the keys of m.
func keysOf(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// expectSummaryRow fails t unless the step summary has a table row for
// ref whose verdict (last cell) starts with one of verdicts.
func expectSummaryRow(t *testing.T, res Result, ref string, verdicts ...string) {
	t.Helper()
	for _, l := range strings.Split(res.Summary, "\n") {
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if len(cells) == 4 && cells[0] == ref {
			for _, v := range verdicts {
				if strings.HasPrefix(cells[3], v) {
					return
				}
			}
			t.Errorf("summary row for %s has verdict %q, want one starting with %q", ref, cells[3], verdicts)
			return
		}
	}
	t.Errorf("step summary has no 4-cell row for %s:\n%s", ref, res.Summary)
}

// TestCheckSeveral: every image is checked; the step fails when one fails,
// and the outputs of the one that passed are written.
func TestCheckSeveral(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	good := reg.push(t, "good:1.0", singleBinaryImage(t, "hello-linux-amd64", `"architecture":"amd64","os":"linux"`))
	bad := binImage(`"architecture":"","os":"linux"`, binLayer(t, dockerLayer, executable("bin/app", testBinary(t, "hello-linux-riscv64"))))
	reg.push(t, "bad:1.0", bad)
	goodRef, badRef := reg.ref("good:1.0"), reg.ref("bad:1.0")

	res := runAction(t, map[string]string{"image": goodRef + "\n" + badRef, "platform": "auto", "mode": "check"})
	reg.proxy.log(t, "requests of the check")
	expectExit(t, res, 1)
	expectNoWrites(t, reg.proxy)
	expectErrorMentions(t, res, badRef, "--platform linux/riscv64 "+badRef)
	for name, want := range map[string][]string{
		"digest":  {good, ""},
		"changed": {"false", ""},
	} {
		if got := res.lines(name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("output %s = %q, want %q", name, got, want)
		}
	}
	rs := res.results(t)
	if len(rs) != 2 || rs[0]["digest"] != good || rs[1]["error"] == nil {
		t.Errorf("results = %v, want the digest of %s and an error for %s", rs, goodRef, badRef)
	}
	expectSummaryRow(t, res, goodRef, "passed")
	expectSummaryRow(t, res, badRef, "failed")
}

// TestCheckCLI: --check fails and passes like the action, writes nothing,
// and with --json prints the results alone on standard output.
func TestCheckCLI(t *testing.T) {
	t.Parallel()
	im := distrolessImage(t)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	ref := reg.ref("app:1.0")

	res := runCLI(t, "--check", ref)
	expectExit(t, res, 1)
	if !strings.Contains(res.Stderr, ref) || !strings.Contains(res.Stderr, "set-image-platform --platform") {
		t.Errorf("stderr does not name %s and the invocation that fixes it:\n%s", ref, res.Stderr)
	}

	res = runCLI(t, "--check", "--platform", "auto", "--json", ref)
	expectExit(t, res, 1)
	if !strings.Contains(res.Stderr, "--platform linux/arm64 "+ref) {
		t.Errorf("stderr does not suggest --platform linux/arm64 %s:\n%s", ref, res.Stderr)
	}
	var got []resultObject
	if err := json.Unmarshal([]byte(res.Stdout), &got); err != nil || len(got) != 1 || got[0]["source"] != ref {
		t.Errorf("stdout is not the results array for %s (%v):\n%s", ref, err, res.Stdout)
	}
	expectNoWrites(t, reg.proxy)
	expectLayersReadOnce(t, reg.proxy, im.layerDigests())

	expectExit(t, runCLI(t, "--platform", "auto", ref), 0)
	reg.proxy.reset()
	res = runCLI(t, "--check", "--platform", "auto", ref)
	expectExit(t, res, 0)
	expectNoWrites(t, reg.proxy)
	if got := reg.digestOf(t, "app:1.0"); got == old {
		t.Errorf("app:1.0 still %s after set --platform auto", old)
	}
}

func TestCheckMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		keys     string // platform keys of the pack config; "os" is "linux"
		platform string
		wantExit int
		// wantInError are substrings of the single ::error:: besides
		// the image reference.
		wantInError []string
	}{
		{name: "platform missing", keys: `"architecture":""`, wantExit: 1},
		{name: "platform missing, platform given", keys: `"architecture":""`, platform: "linux/amd64", wantExit: 1},
		{name: "platform differs", keys: `"architecture":"arm64","variant":"v8"`, platform: "linux/amd64", wantExit: 1, wantInError: []string{"arm64", "amd64"}},
		{name: "platform matches", keys: `"architecture":"amd64"`, platform: "linux/amd64"},
		{name: "platform present, none given", keys: `"architecture":"arm64","variant":"v8"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := packImageWith(t, 1, tc.keys)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": tc.platform, "mode": "check"})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, tc.wantExit)
			expectNoWrites(t, reg.proxy)
			expectLayersUntouched(t, reg.proxy, im)
			expectAt(t, reg, "app:1.0", old)
			if _, ok := res.Outputs["results"]; !ok {
				t.Errorf("check mode wrote no results output")
			}
			if tc.wantExit == 0 {
				expectNoErrors(t, res)
				if res.Outputs["digest"] != old || res.Outputs["changed"] != "false" {
					t.Errorf("outputs digest=%q changed=%q, want %s and false", res.Outputs["digest"], res.Outputs["changed"], old)
				}
				return
			}
			expectErrorMentions(t, res, append([]string{ref}, tc.wantInError...)...)
		})
	}
}
