package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// Platforms at the edges (issue 10, items 2, 6 and 10): equivalent
// platforms are already there, platform fields from a registry that are
// not valid names are findings and conflicts shown escaped, and the
// platform input takes the names people have in hand.

// expectOnlyManifestPuts fails t unless the writes through p are exactly one PUT
// of each of the manifest paths.
func expectOnlyManifestPuts(t *testing.T, p *recordingProxy, paths ...string) {
	t.Helper()
	w := p.writes()
	ok := len(w) == len(paths)
	for i := 0; ok && i < len(w); i++ {
		ok = w[i].Method == "PUT" && w[i].Path == paths[i]
	}
	if !ok {
		t.Errorf("write requests:\n%s\nwant exactly PUT %q", formatRequests(w), paths)
	}
}

// expectNoRawLineBreaks fails t when a scalar output holds more lines than
// images, or any output or the step summary holds a carriage return:
// registry text that would shift or rewrite what follows it.
func expectNoRawLineBreaks(t *testing.T, res Result, images int) {
	t.Helper()
	for _, name := range scalarOutputs {
		if n := len(res.lines(name)); n != images {
			t.Errorf("output %s has %d lines, want %d: %q", name, n, images, res.Outputs[name])
		}
	}
	for name, v := range res.Outputs {
		if strings.ContainsRune(v, '\r') {
			t.Errorf("output %s holds a carriage return: %q", name, v)
		}
	}
	if strings.ContainsRune(res.Summary, '\r') {
		t.Errorf("step summary holds a carriage return:\n%q", res.Summary)
	}
}

func TestEquivalentPlatformIsAlreadyThere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config, platform string
		// after is the platform output: what the image declares, as it
		// was.
		after string
	}{
		{"arm64/v8 declared, linux/arm64 asked", `"architecture":"arm64","variant":"v8"`, "linux/arm64", "linux/arm64/v8"},
		{"arm64 declared, linux/arm64/v8 asked", `"architecture":"arm64"`, "linux/arm64/v8", "linux/arm64"},
		{"arm64/v8 declared, linux/arm64/8 asked", `"architecture":"arm64","variant":"v8"`, "linux/arm64/8", "linux/arm64/v8"},
		{"amd64/v1 declared, linux/amd64 asked", `"architecture":"amd64","variant":"v1"`, "linux/amd64", "linux/amd64/v1"},
		{"amd64 declared, linux/amd64/v1 asked", `"architecture":"amd64"`, "linux/amd64/v1", "linux/amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := packImageWith(t, 1, tc.config)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": tc.platform})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			expectNoWrites(t, reg.proxy)
			expectLayersUntouched(t, reg.proxy, im)
			expectAt(t, reg, "app:1.0", old)
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, old, false, tc.after))
		})
	}

	t.Run("with a tag, the unchanged manifest is tagged", func(t *testing.T) {
		t.Parallel()
		im := packImageWith(t, 1, `"architecture":"arm64","variant":"v8"`)
		reg, old := newAppRegistry(t, registryOptions{}, im)

		res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/arm64", "tag": "fixed"})
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		expectOnlyManifestPuts(t, reg.proxy, "/v2/app/manifests/fixed")
		expectAt(t, reg, "app:1.0", old)
		expectAt(t, reg, "app:fixed", old)
		expectOutputs(t, res, imageOutputs(reg.ref("app"), old, old, false, "linux/arm64/v8"))
	})

	t.Run("index child and entry", func(t *testing.T) {
		t.Parallel()
		// The entry says arm64, the config arm64/v8; asking for either
		// form rewrites neither.
		arm := buildxChild(t, 1, `"architecture":"arm64","variant":"v8",`, `"linux"`)
		fx := buildxIndexOf(t, []indexChild{
			{kind: imageChild, im: arm, platform: "linux/arm64"},
			{kind: attestationChild, im: attestationFor(t, arm.manifestDigest()), describes: 0},
		})
		for _, p := range []string{"linux/arm64", "linux/arm64/v8"} {
			reg, old := newIndexRegistry(t, fx)
			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": p})
			reg.proxy.log(t, "requests of the run with platform "+p)
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			expectNoWrites(t, reg.proxy)
			expectAt(t, reg, "app:1.0", old)
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, old, false, "linux/arm64/v8"))
		}
	})
}

// hostileArchitectures are "architecture" values, as JSON, that would add
// a line to the platform output or a heading to the step summary if
// printed raw, with the escaped form every output must show instead.
var hostileArchitectures = []struct{ json, shown string }{
	{`"arm64\nlinux/amd64"`, `linux/"arm64\nlinux/amd64"`},
	{`"amd64\r\r## All images passed, merge away"`, `linux/"amd64\r\r## All images passed, merge away"`},
}

func TestInvalidPlatformFieldCheck(t *testing.T) {
	t.Parallel()
	for _, arch := range hostileArchitectures {
		for _, platform := range []string{"linux/arm64", ""} {
			t.Run(arch.json+" "+platform, func(t *testing.T) {
				t.Parallel()
				im := packImageWith(t, 1, `"architecture":`+arch.json)
				reg, old := newAppRegistry(t, registryOptions{}, im)
				ref := reg.ref("app:1.0")

				res := runAction(t, map[string]string{"image": ref, "platform": platform, "mode": "check"})
				expectExit(t, res, 1)
				expectErrorMentions(t, res, ref, arch.shown, "architecture is not a valid name", "`overwrite: true`")
				expectNoWrites(t, reg.proxy)
				expectAt(t, reg, "app:1.0", old)
				expectNoRawLineBreaks(t, res, 1)
				expectNoInjectedCommands(t, res, fakeGitHubToken)
				// A failed image's line is empty; its error in results
				// shows the value escaped.
				if got := res.Outputs["platform"]; got != "" {
					t.Errorf("platform output = %q, want one empty line", got)
				}
				if rs := res.results(t); len(rs) != 1 || !strings.Contains(fmt.Sprint(rs[0]["error"]), arch.shown) {
					t.Errorf("results = %v, want one with an error showing %q", rs, arch.shown)
				}
			})
		}
	}

	t.Run("index entry", func(t *testing.T) {
		t.Parallel()
		arm := buildxChild(t, 1, `"architecture":"arm64",`, `"linux"`)
		fx := buildxIndexOf(t, []indexChild{{kind: imageChild, im: arm, platform: "linux/arm64"}})
		fx.body = []byte(strings.Replace(string(fx.body), `"architecture": "arm64"`, `"architecture": "arm64\nlinux/amd64"`, 1))
		reg, old := newIndexRegistry(t, fx)
		ref := reg.ref("app:1.0")

		res := runAction(t, map[string]string{"image": ref, "mode": "check"})
		expectExit(t, res, 1)
		expectErrorMentions(t, res, arm.manifestDigest(), "index entry declares platform "+hostileArchitectures[0].shown, "not a valid name")
		expectNoWrites(t, reg.proxy)
		expectAt(t, reg, "app:1.0", old)
		expectNoRawLineBreaks(t, res, 1)
	})
}

func TestInvalidPlatformFieldSet(t *testing.T) {
	t.Parallel()
	for _, arch := range hostileArchitectures {
		t.Run(arch.json, func(t *testing.T) {
			t.Parallel()
			im := packImageWith(t, 1, `"architecture":`+arch.json)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": "linux/arm64"})
			expectRefused(t, res, reg, "app:1.0", old, arch.shown, "overwrite")
			expectNoRawLineBreaks(t, res, 1)
			expectNoInjectedCommands(t, res, fakeGitHubToken)

			reg.proxy.reset()
			res = runAction(t, map[string]string{"image": ref, "platform": "linux/arm64", "overwrite": "true"})
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/arm64"), nil)
			expectSummaryLine(t, res, ref, arch.shown, "linux/arm64", old, reg.digestOf(t, "app:1.0"))
			expectNoRawLineBreaks(t, res, 1)
		})
	}
}

func TestPlatformAliases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		platform, want, notice string
	}{
		{"linux/armv7l", "linux/arm/v7", `normalized architecture "armv7l" to "arm" variant "v7"`},
		{"linux/armv6l", "linux/arm/v6", `normalized architecture "armv6l" to "arm" variant "v6"`},
		{"linux/x64", "linux/amd64", `normalized architecture "x64" to "amd64"`},
		{"linux/ppc64el", "linux/ppc64le", `normalized architecture "ppc64el" to "ppc64le"`},
		{"linux/mips64el", "linux/mips64le", `normalized architecture "mips64el" to "mips64le"`},
		{"linux/arm/7", "linux/arm/v7", `normalized variant "7" to "v7"`},
		{"linux/arm/V6", "linux/arm/v6", `normalized variant "V6" to "v6"`},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			t.Parallel()
			im := packImage(t, 1)
			reg, old := newAppRegistry(t, registryOptions{}, im)

			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": tc.platform})
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			if !anyContainsAll(res.commandLines("notice"), []string{tc.notice}) {
				t.Errorf("no ::notice:: says %q: %q", tc.notice, res.commandLines("notice"))
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers(tc.want), nil)
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, reg.digestOf(t, "app:1.0"), true, tc.want))
		})
	}
}

func TestPlatformSuggestionsKeepTheArchitecture(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		platform string
		// suggestion is the one "did you mean", or "" for none.
		suggestion string
	}{
		{"linux/armv7", "linux/arm/v7"},
		{"linux/armv5l", "linux/arm/v5"},
		{"linux/mipsel", "linux/mipsle"},
		{"linux/aarch32", "linux/arm"},
		{"linux/amd32", "linux/386"},
		{"linux/armbe", ""},
		{"linux/sparc64", ""},
		{"windows/arm", ""},
		{"linux/wasm", ""},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			reg.push(t, "app:1.0", packImage(t, 1))

			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": tc.platform})
			expectExit(t, res, 1)
			msg := expectErrorMentions(t, res, tc.platform)
			expectNoRequests(t, reg.proxy)
			_, got, _ := strings.Cut(msg, "did you mean ")
			got, _, _ = strings.Cut(strings.TrimPrefix(got, `"`), `"`)
			if got != tc.suggestion {
				t.Errorf("suggestion for %q = %q, want %q (error %q)", tc.platform, got, tc.suggestion, msg)
			}
		})
	}
}
