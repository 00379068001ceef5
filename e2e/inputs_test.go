package e2e

import (
	"fmt"
	"strings"
	"testing"
)

func TestBadInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// inputs builds the inputs; reg is the test's registry with
		// app:1.0 (a pack image) pushed unless setup pushes otherwise.
		inputs func(reg *testRegistry) map[string]string
		// setup pushes what the case needs and returns the tag it
		// must leave alone; nil pushes a pack image as app:1.0.
		setup func(t *testing.T, reg *testRegistry) string
		// wantInError are substrings of the single ::error:: line.
		wantInError func(reg *testRegistry) []string
		// judgedLocally: the input is wrong whatever the registry
		// holds, so no request at all may be made.
		judgedLocally bool
	}{{
		name: "empty image",
		inputs: func(*testRegistry) map[string]string {
			return map[string]string{"image": "", "platform": "linux/amd64"}
		},
		wantInError:   strs("image"),
		judgedLocally: true,
	}, {
		name: "only blank lines as image",
		inputs: func(*testRegistry) map[string]string {
			return map[string]string{"image": "\n  \n\t\n", "platform": "linux/amd64"}
		},
		wantInError:   strs("image"),
		judgedLocally: true,
	}, {
		name:          "unknown architecture",
		inputs:        appInputs(map[string]string{"platform": "linux/amd65"}),
		wantInError:   strs("linux/amd65", "linux/amd64"),
		judgedLocally: true,
	}, {
		name:          "unknown os",
		inputs:        appInputs(map[string]string{"platform": "linus/amd64"}),
		wantInError:   strs("linus/amd64", "linux"),
		judgedLocally: true,
	}, {
		name:          "bare architecture",
		inputs:        appInputs(map[string]string{"platform": "amd64"}),
		wantInError:   strs("amd64", "linux/amd64"),
		judgedLocally: true,
	}, {
		// An index may go without platform; a single image may not,
		// which takes reading it.
		name:        "no platform for a single image",
		inputs:      appInputs(map[string]string{"platform": ""}),
		wantInError: strs("platform"),
	}, {
		name:          "dry-run not a boolean",
		inputs:        appInputs(map[string]string{"platform": "linux/amd64", "dry-run": "yes"}),
		wantInError:   strs("dry-run", "yes"),
		judgedLocally: true,
	}, {
		name:          "overwrite not a boolean",
		inputs:        appInputs(map[string]string{"platform": "linux/amd64", "overwrite": "maybe"}),
		wantInError:   strs("overwrite", "maybe"),
		judgedLocally: true,
	}, {
		name:          "insecure not a boolean",
		inputs:        appInputs(map[string]string{"platform": "linux/amd64", "insecure": "1"}),
		wantInError:   strs("insecure"),
		judgedLocally: true,
	}, {
		name:          "unknown mode",
		inputs:        appInputs(map[string]string{"platform": "linux/amd64", "mode": "fix"}),
		wantInError:   strs("mode", "fix"),
		judgedLocally: true,
	}, {
		name: "invalid reference",
		inputs: func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("App/x:bad!tag"), "platform": "linux/amd64"}
		},
		wantInError:   func(reg *testRegistry) []string { return []string{reg.ref("App/x:bad!tag")} },
		judgedLocally: true,
	}, {
		name: "full reference tag with two images",
		inputs: func(reg *testRegistry) map[string]string {
			return map[string]string{
				"image":    reg.ref("app:1.0") + "\n" + reg.ref("app:2.0"),
				"platform": "linux/amd64",
				"tag":      reg.ref("other/repo:t"),
			}
		},
		wantInError:   strs("tag"),
		judgedLocally: true,
	}, {
		name: "nonexistent image",
		inputs: func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("nothere:1.0"), "platform": "linux/amd64"}
		},
		wantInError: func(reg *testRegistry) []string { return []string{reg.ref("nothere:1.0")} },
	}, {
		// A concrete platform fits an index with one image child only.
		name:   "image index with two image children",
		inputs: appInputs(map[string]string{"platform": "linux/amd64"}),
		setup: func(t *testing.T, reg *testRegistry) string {
			amd := packImageWith(t, 1, `"architecture":"amd64"`)
			arm := packImageWith(t, 1, `"architecture":"arm64","variant":"v8"`)
			index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[`+
				`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}},`+
				`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}`,
				ociIndex,
				dockerManifest, reg.push(t, "app@"+amd.manifestDigest(), amd), len(amd.manifest()),
				dockerManifest, reg.push(t, "app@"+arm.manifestDigest(), arm), len(arm.manifest()))
			reg.putManifest(t, "app:1.0", []byte(index), ociIndex)
			return "app:1.0"
		},
		wantInError: strs("index"),
	}, {
		name:   "config larger than 8 MiB",
		inputs: appInputs(map[string]string{"platform": "linux/amd64"}),
		setup: func(t *testing.T, reg *testRegistry) string {
			big := `{"architecture":"","os":"linux","padding":"` + strings.Repeat("a", 9<<20) + `"}`
			reg.push(t, "app:1.0", packImage(t, 1).withConfig([]byte(big)))
			return "app:1.0"
		},
		wantInError: strs("config"),
	}, {
		name:   "config not a JSON object",
		inputs: appInputs(map[string]string{"platform": "linux/amd64"}),
		setup: func(t *testing.T, reg *testRegistry) string {
			reg.push(t, "app:1.0", packImage(t, 1).withConfig([]byte(`[{"architecture":"","os":"linux"}]`)))
			return "app:1.0"
		},
		wantInError: strs("config"),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			setup := tc.setup
			if setup == nil {
				setup = func(t *testing.T, reg *testRegistry) string {
					reg.push(t, "app:1.0", packImage(t, 1))
					return "app:1.0"
				}
			}
			tag := setup(t, reg)
			before := reg.digestOf(t, tag)

			res := runAction(t, tc.inputs(reg))
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 1)
			expectErrorMentions(t, res, tc.wantInError(reg)...)
			if tc.judgedLocally {
				expectNoRequests(t, reg.proxy)
			} else {
				expectNoWrites(t, reg.proxy)
			}
			expectAt(t, reg, tag, before)
		})
	}
}

// appInputs returns inputs for app:1.0 of the test's registry plus extra.
func appInputs(extra map[string]string) func(*testRegistry) map[string]string {
	return func(reg *testRegistry) map[string]string {
		in := map[string]string{"image": reg.ref("app:1.0")}
		for k, v := range extra {
			in[k] = v
		}
		return in
	}
}

func strs(s ...string) func(*testRegistry) []string {
	return func(*testRegistry) []string { return s }
}
