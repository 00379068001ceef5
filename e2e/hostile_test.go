package e2e

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// intendedCommands are the workflow commands the binary means to issue.
var intendedCommands = map[string]bool{
	"add-mask": true, "group": true, "endgroup": true, "notice": true, "warning": true, "error": true,
}

// hostileMark starts the data of every command the hostile values try to
// issue: a command line whose data starts with it was injected.
const hostileMark = "evil"

// runnerCommand returns the workflow command the runner reads from line,
// as its parser does: leading white space is trimmed, then
// "::name[ properties]::data". The runner matches names without regard to
// case.
func runnerCommand(line string) (name, data string, ok bool) {
	l := strings.TrimLeftFunc(line, unicode.IsSpace)
	if !strings.HasPrefix(l, "::") {
		return "", "", false
	}
	end := strings.Index(l[2:], "::")
	if end < 0 {
		return "", "", false
	}
	name, _, _ = strings.Cut(l[2:2+end], " ")
	return strings.ToLower(name), l[2+end+2:], true
}

// expectNoInjectedCommands fails t when a line of stdout or stderr (the
// runner reads both) would issue a workflow command the binary does not
// mean to: another command than intendedCommands, an indented one (the
// runner trims the indent: text from inputs or registries), one whose data
// starts with hostileMark, an ::add-mask:: of anything but masks, or the
// legacy "##[" form, which the runner finds anywhere in a line.
func expectNoInjectedCommands(t *testing.T, res Result, masks ...string) {
	t.Helper()
	for _, stream := range []struct{ name, text string }{{"stdout", res.Stdout}, {"stderr", res.Stderr}} {
		for i, l := range runnerLines(stream.text) {
			name, data, ok := runnerCommand(l)
			switch {
			case !ok:
				if strings.Contains(l, "##[") {
					t.Errorf("%s line %d has a legacy workflow command (##[): %q", stream.name, i+1, l)
				}
			case !intendedCommands[name]:
				t.Errorf("%s line %d issues workflow command %q: %q", stream.name, i+1, name, l)
			case l != strings.TrimLeftFunc(l, unicode.IsSpace):
				t.Errorf("%s line %d is indented, and the runner still reads it as ::%s: %q", stream.name, i+1, name, l)
			case strings.HasPrefix(data, hostileMark):
				t.Errorf("%s line %d issues an injected ::%s: %q", stream.name, i+1, name, l)
			case name == "add-mask" && !slices.Contains(masks, data):
				t.Errorf("%s line %d masks %q, not a secret of the run", stream.name, i+1, data)
			}
		}
	}
}

var digestLine = regexp.MustCompile(`^(sha256:[0-9a-f]{64})?$`)

// expectSixOutputs fails t unless GITHUB_OUTPUT holds exactly the six
// outputs, once each, and the digest and changed outputs hold digests and
// booleans only (one line per image, empty for a failed one). With
// images 0 (inputs refused before any image is tried) the file may also be
// empty.
func expectSixOutputs(t *testing.T, res Result, images int) {
	t.Helper()
	if images == 0 && res.OutputFile == "" {
		return
	}
	entries, err := runnerOutputs(res.OutputFile, true)
	if err != nil {
		t.Fatalf("the runner would reject GITHUB_OUTPUT: %v\n%s", err, res.OutputFile)
	}
	var names []string
	values := map[string]string{}
	for _, e := range entries {
		names = append(names, e.Name)
		values[e.Name] = e.Value
	}
	sort.Strings(names)
	want := slices.Sorted(slices.Values(specOutputs))
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("output names (-want +got):\n%s", diff)
	}
	for _, name := range []string{"digest", "previous-digest"} {
		lines := strings.Split(values[name], "\n")
		if len(lines) != max(images, 1) {
			t.Errorf("output %s has %d lines, want %d: %q", name, len(lines), images, values[name])
		}
		for _, l := range lines {
			if !digestLine.MatchString(l) {
				t.Errorf("output %s line %q is not a digest", name, l)
			}
		}
	}
	for _, l := range strings.Split(values["changed"], "\n") {
		if l != "true" && l != "false" && l != "" {
			t.Errorf("output changed line %q is not a boolean", l)
		}
	}
}

// injection is what the hostile values try to do, one command a line, in
// each form the runner reads.
const injection = "\n::set-output name=digest::" + hostileMark + "\n::error::" + hostileMark +
	"\r::warning::" + hostileMark + "\n  ::notice::" + hostileMark + "\n##[error]" + hostileMark +
	"\n::add-mask::" + hostileMark + "\n::stop-commands::" + hostileMark

// TestHostileValues: text from registries, inputs and image metadata that
// carries workflow commands issues none, and GITHUB_OUTPUT holds the six
// outputs and nothing else. Each run under 10 s.
func TestHostileValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// setup pushes what the case needs and returns the inputs.
		setup func(t *testing.T, reg *testRegistry) map[string]string
		// images is how many images the inputs name, as the outputs
		// count them; 0 when the inputs are refused as a whole.
		images    int
		wantExits []int
	}{{
		name: "registry error body",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			reg.push(t, "app:1.0", packImage(t, 1))
			reg.proxy.inject(echoFault(http.StatusNotFound, isManifestGet, func(string) string {
				return "manifest unknown" + injection
			}))
			return map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"}
		},
		images:    1,
		wantExits: []int{1},
	}, {
		name: "registry error body in an HTML page",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			reg.push(t, "app:1.0", packImage(t, 1))
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				if !isManifestGet(r) {
					return 0, nil, "", false
				}
				return http.StatusBadRequest, http.Header{"Content-Type": {"text/html"}}, "<html>" + injection + "</html>", true
			})
			return map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"}
		},
		images:    1,
		wantExits: []int{1},
	}, {
		name: "two images, one failing with a hostile error body",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			reg.push(t, "app:1.0", packImage(t, 1))
			reg.push(t, "bad:1.0", packImage(t, 1))
			reg.proxy.inject(echoFault(http.StatusNotFound, func(r *http.Request) bool {
				return isManifestGet(r) && strings.HasPrefix(r.URL.Path, "/v2/bad/")
			}, func(string) string { return "manifest unknown" + injection }))
			return map[string]string{"image": reg.ref("bad:1.0") + "\n" + reg.ref("app:1.0"), "platform": "linux/amd64"}
		},
		images:    2,
		wantExits: []int{1},
	}, {
		name: "image input with commands on its lines",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			reg.push(t, "app:1.0", packImage(t, 1))
			return map[string]string{"image": reg.ref("app:1.0") + "\n::set-output name=digest::" + hostileMark + "\n  ::warning::" + hostileMark, "platform": "linux/amd64"}
		},
		images:    0,
		wantExits: []int{1},
	}, {
		name: "tag with workflow command text",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			reg.push(t, "app:1.0", packImage(t, 1))
			return map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "tag": hostileMark + "::error::" + hostileMark + injection}
		},
		images:    0,
		wantExits: []int{1},
	}, {
		name: "platform input with commands on its lines",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			reg.push(t, "app:1.0", packImage(t, 1))
			return map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64" + injection}
		},
		images:    0,
		wantExits: []int{1},
	}, {
		name: "config platform values with commands, check mode",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			reg.push(t, "app:1.0", packImageWith(t, 1, `"architecture":"amd64`+jsonEscaped(injection)+`","variant":"v8`+jsonEscaped(injection)+`"`))
			return map[string]string{"image": reg.ref("app:1.0"), "mode": "check"}
		},
		images: 1,
		// Passing (the platform is there) and refusing values that are
		// no platform are both fair; issuing commands is not.
		wantExits: []int{0, 1},
	}, {
		name: "config platform values with commands, set mode",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			reg.push(t, "app:1.0", packImageWith(t, 1, `"architecture":"amd64`+jsonEscaped(injection)+`"`))
			return map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "overwrite": "true"}
		},
		images:    1,
		wantExits: []int{0, 1},
	}, {
		name: "manifest annotations with commands",
		setup: func(t *testing.T, reg *testRegistry) map[string]string {
			im := buildxImage(t, 1)
			render := im.render
			im.render = func(d string, size int, ls []layer) []byte {
				return bytes.Replace(render(d, size, ls), []byte(`"https://github.com/octocat/hello"`),
					[]byte(`"https://github.com/octocat/hello`+jsonEscaped(injection)+`"`), 1)
			}
			reg.push(t, "app:1.0", im)
			return map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"}
		},
		images:    1,
		wantExits: []int{0},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			inputs := tc.setup(t, reg)

			res, took := timed(t, inputs)
			reg.proxy.log(t, "requests of the run")
			if !slices.Contains(tc.wantExits, res.ExitCode) {
				t.Fatalf("exit code = %d, want one of %v", res.ExitCode, tc.wantExits)
			}
			if res.ExitCode != 0 {
				if errs := res.commandLines("error"); len(errs) == 0 {
					t.Errorf("failed without an ::error:: line")
				}
			}
			expectNoInjectedCommands(t, res, fakeGitHubToken)
			expectSixOutputs(t, res, tc.images)
			if took > 10*time.Second {
				t.Errorf("run took %v, want under 10 s", took)
			}
		})
	}
}

// jsonEscaped returns s as it stands inside a JSON string.
func jsonEscaped(s string) string {
	q := strconvQuote(s)
	return q[1 : len(q)-1]
}
