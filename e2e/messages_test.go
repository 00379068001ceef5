package e2e

import (
	"cmp"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// door is one front door's run of a case and what its messages must and
// must not hold.
type door struct {
	run         func(t *testing.T) Result
	want, never []string
	// stdout, when not empty, is how standard output must start.
	stdout string
}

// expectWords fails t unless the run failed with messages holding every
// want and none of never.
func (d door) expectWords(t *testing.T) Result {
	t.Helper()
	res := d.run(t)
	expectExit(t, res, 1)
	out := res.Stdout + res.Stderr
	for _, w := range d.want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, n := range d.never {
		if strings.Contains(out, n) {
			t.Errorf("output holds %q, not the front door's words:\n%s", n, out)
		}
	}
	if !strings.HasPrefix(res.Stdout, d.stdout) {
		t.Errorf("stdout = %q, want it to start with %q", res.Stdout, d.stdout)
	}
	return res
}

// actionNever and cliNever are the other door's words.
var (
	actionNever = []string{"set-image-platform --", "--platform", "--overwrite", "--insecure", "--tag"}
	cliNever    = []string{"input platform", "input tag", "set overwrite", "`platform:", "`overwrite: true`", "`insecure: true`", "mode: set"}
)

// TestMessagesSpeakTheDoorsLanguage: every message names the action's
// inputs in the action and the command line's flags on the command line,
// and no error names the image twice.
func TestMessagesSpeakTheDoorsLanguage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// setup pushes what the case needs and returns the image.
		setup       func(t *testing.T, reg *testRegistry) string
		inputs      map[string]string
		args        []string
		action, cli []string
		// json is how --json's standard output starts: "[]" when nothing
		// could be tried.
		json string
	}{{
		name: "check finding",
		setup: func(t *testing.T, reg *testRegistry) string {
			reg.push(t, "app:1.0", packImage(t, 1))
			return reg.ref("app:1.0")
		},
		inputs: map[string]string{"mode": "check", "platform": "linux/amd64"},
		args:   []string{"--check", "--platform", "linux/amd64"},
		action: []string{"fix it by running this action with `mode: set`, `platform: linux/amd64`"},
		cli:    []string{"fix it with set-image-platform --platform linux/amd64 "},
	}, {
		name: "platform present and different",
		setup: func(t *testing.T, reg *testRegistry) string {
			reg.push(t, "app:1.0", packImageWith(t, 1, `"architecture":"arm64"`))
			return reg.ref("app:1.0")
		},
		inputs: map[string]string{"platform": "linux/amd64"},
		args:   []string{"--platform", "linux/amd64"},
		action: []string{"set `overwrite: true` to replace it"},
		cli:    []string{"pass --overwrite to replace it"},
	}, {
		name: "one platform for an index of two",
		setup: func(t *testing.T, reg *testRegistry) string {
			reg.pushIndex(t, "app", "1.0", buildxIndex(t))
			return reg.ref("app:1.0")
		},
		inputs: map[string]string{"platform": "linux/amd64"},
		args:   []string{"--platform", "linux/amd64"},
		action: []string{"for an index of 2 images; leave `platform` empty to make each child consistent with its index entry, or name one child by digest"},
		cli:    []string{"for an index of 2 images; leave out --platform to make each child consistent with its index entry, or name one child by digest"},
	}, {
		name: "no platform for a single image",
		setup: func(t *testing.T, reg *testRegistry) string {
			reg.push(t, "app:1.0", packImage(t, 1))
			return reg.ref("app:1.0")
		},
		action: []string{": input platform: required for a single image; set `platform` to os/arch such as linux/amd64, or to auto"},
		cli:    []string{": --platform: required for a single image; pass --platform with os/arch such as linux/amd64, or --platform auto"},
	}, {
		name:   "bad tag",
		setup:  func(t *testing.T, reg *testRegistry) string { return reg.ref("app:1.0") },
		inputs: map[string]string{"tag": "a:b:c"},
		args:   []string{"--tag", "a:b:c"},
		action: []string{"::error::input tag: parsing"},
		cli:    []string{"error: --tag: parsing"},
		json:   "[]\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			ref := tc.setup(t, reg)
			inputs := map[string]string{"image": ref}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			never := []string{"check failed: " + ref, ref + ": " + ref}
			t.Run("action", func(t *testing.T) {
				door{run: func(t *testing.T) Result { return runAction(t, inputs) }, want: tc.action, never: append(never, actionNever...)}.expectWords(t)
			})
			t.Run("cli", func(t *testing.T) {
				door{run: func(t *testing.T) Result { return runCLI(t, append(tc.args, ref)...) }, want: tc.cli, never: append(never, cliNever...)}.expectWords(t)
			})
			t.Run("cli json", func(t *testing.T) {
				door{run: func(t *testing.T) Result { return runCLI(t, append(tc.args, "--json", ref)...) }, want: tc.cli, never: cliNever, stdout: cmp.Or(tc.json, "[{")}.expectWords(t)
			})
			expectNoWrites(t, reg.proxy)
		})
	}
}

// TestMessagesPlainHTTP: plain HTTP refused says how to allow it; in the
// action, nothing answering at localhost says that localhost is the
// action's own container; both say what happened at each address tried.
func TestMessagesPlainHTTP(t *testing.T) {
	t.Parallel()
	const lookalike = "registry.localhost:5000/x:y"
	trap := newEgressTrap(t)
	proxied := []string{"HTTP_PROXY=" + trap.url, "HTTPS_PROXY=" + trap.url, "http_proxy=" + trap.url, "https_proxy=" + trap.url, "NO_PROXY=", "no_proxy=", stallEnv}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close() // nothing answers there
	local := "localhost:" + port + "/app:1.0"
	for _, tc := range []struct {
		name string
		d    door
	}{
		{"action, plain HTTP refused", door{
			run: func(t *testing.T) Result {
				return runAction(t, map[string]string{"image": lookalike, "platform": "linux/amd64"}, proxied...)
			},
			want:  []string{"refusing plain HTTP", "set `insecure: true` if this registry really speaks plain HTTP"},
			never: actionNever,
		}},
		{"cli, plain HTTP refused", door{
			run:   func(t *testing.T) Result { return runCLIEnv(t, proxied, "--platform", "linux/amd64", lookalike) },
			want:  []string{"refusing plain HTTP", "pass --insecure if this registry really speaks plain HTTP"},
			never: cliNever,
		}},
		{"action, nothing at localhost", door{
			run: func(t *testing.T) Result {
				return runAction(t, map[string]string{"image": local, "platform": "linux/amd64"})
			},
			want: []string{"over https: ", "over http: ", "connection refused",
				"localhost (or any loopback address) is the container itself", "by its label instead, such as registry:5000"},
			never: actionNever,
		}},
		{"cli, nothing at localhost", door{
			run:   func(t *testing.T) Result { return runCLI(t, "--platform", "linux/amd64", local) },
			want:  []string{"over https: ", "over http: ", "connection refused", "check that the registry runs"},
			never: append([]string{"container"}, cliNever...),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.d.expectWords(t)
		})
	}
}

// runCLIEnv is runCLI with more environment.
func runCLIEnv(t *testing.T, env []string, args ...string) Result {
	t.Helper()
	res := execBinary(t, args, append(shellEnv(t.TempDir()), env...), nil)
	t.Logf("cli run %q: %s", args, res)
	return res
}

// TestMessagesDryRunAndUnchanged: a dry run says so in the group title,
// the summary line and the job summary; a run that changes nothing says
// unchanged.
func TestMessagesDryRunAndUnchanged(t *testing.T) {
	t.Parallel()
	reg, _ := newAppRegistry(t, registryOptions{}, packImage(t, 1))
	ref := reg.ref("app:1.0")

	res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64", "dry-run": "true"})
	expectExit(t, res, 0)
	expectGroup(t, res, "dry run: "+ref)
	if !anyContainsAll(res.logLines(), []string{"dry run: would change " + ref + "  linux/? -> linux/amd64"}) {
		t.Errorf("no summary line says dry run: would change:\n%s", res.Stdout)
	}
	for _, want := range []string{"### set-image-platform dry run\n", "Nothing was pushed", "| dry run: would change |"} {
		if !strings.Contains(res.Summary, want) {
			t.Errorf("job summary lacks %q:\n%s", want, res.Summary)
		}
	}
	expectNoWrites(t, reg.proxy)

	res = runCLI(t, "--dry-run", "--platform", "linux/amd64", ref)
	expectExit(t, res, 0)
	if !strings.Contains(res.Stdout, "dry run: would change "+ref) {
		t.Errorf("CLI dry run stdout lacks \"dry run: would change\":\n%s", res.Stdout)
	}
	expectNoWrites(t, reg.proxy)

	expectExit(t, runCLI(t, "--platform", "linux/amd64", ref), 0)
	res = runCLI(t, "--platform", "linux/amd64", ref)
	expectExit(t, res, 0)
	if !strings.Contains(res.Stdout, ref+"  linux/amd64  sha256:") || !strings.HasSuffix(strings.TrimSpace(res.Stdout), "  unchanged") {
		t.Errorf("CLI stdout of a run that changes nothing does not say unchanged:\n%s", res.Stdout)
	}
}

// TestMessagesRetryInGroup: a registry hiccup's retry line is printed in
// the image's group and names the image.
func TestMessagesRetryInGroup(t *testing.T) {
	t.Parallel()
	reg, _ := newAppRegistry(t, registryOptions{}, packImage(t, 1))
	ref := reg.ref("app:1.0")
	var once atomic.Bool
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") && once.CompareAndSwap(false, true) {
			return http.StatusServiceUnavailable, nil, "", true
		}
		return 0, nil, "", false
	})
	res := runAction(t, map[string]string{"image": ref, "mode": "check", "platform": "linux/amd64"})
	lines := res.logLines()
	in := false
	for _, l := range lines {
		switch {
		case l == "::group::"+ref:
			in = true
		case l == "::endgroup::":
			in = false
		case strings.Contains(l, "retrying GET"):
			if !in || !strings.HasPrefix(l, ref+": retrying GET /v2/app/manifests/1.0") {
				t.Errorf("retry line %q is outside the image's group or does not name it:\n%s", l, res.Stdout)
			}
			return
		}
	}
	t.Errorf("no retry line:\n%s", res.Stdout)
}

// TestRegistryWordsShown: what a person needs from small messages. The
// registry's error detail is shown (escaped, one line); one blob streamed
// is "1 blob"; a tag pattern that matches nothing names the argument, not
// a placeholder; a digest source pushed with no tag is said to be at risk
// of garbage collection, with how to tag it.
func TestRegistryWordsShown(t *testing.T) {
	t.Parallel()
	t.Run("error detail", func(t *testing.T) {
		t.Parallel()
		im := packImage(t, 1)
		reg, old := newAppRegistry(t, registryOptions{}, im)
		reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
			if isManifestPut(r) {
				return http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}},
					`{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"unsupported manifest media type and no default available: application/vnd.docker.distribution.manifest.v2+json\n::error::injected"}]}`, true
			}
			return 0, nil, "", false
		})
		res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"})
		expectExit(t, res, 1)
		expectErrorMentions(t, res, "MANIFEST_INVALID: manifest invalid", "unsupported manifest media type and no default available: application/vnd.docker.distribution.manifest.v2+json")
		expectNoInjectedCommands(t, res, fakeGitHubToken)
		expectAt(t, reg, "app:1.0", old)
	})
	t.Run("one blob streamed", func(t *testing.T) {
		t.Parallel()
		src, dst := newRegistry(t, registryOptions{}), newRegistry(t, registryOptions{})
		res := runSetTagged(t, src, dst, packImage(t, 1), dst.ref("app:1.0"), "app", "1.0")
		if notices := res.commandLines("notice"); !anyContainsAll(notices, []string{"streaming 1 blob ("}) {
			t.Errorf("no notice says %q; notices: %q", "streaming 1 blob (", notices)
		}
	})
	t.Run("pattern argument named", func(t *testing.T) {
		t.Parallel()
		reg, _ := newAppRegistry(t, registryOptions{}, packImage(t, 1))
		arg := reg.ref("app:v9.*")
		res := runCLI(t, "--platform", "linux/amd64", arg)
		expectExit(t, res, 1)
		expectOneCLIError(t, res, strconv.Quote(arg), "matches none")
		if errs := cliErrors(res); len(errs) == 1 && strings.Contains(errs[0], "IMAGE") {
			t.Errorf("error %q names the IMAGE placeholder", errs[0])
		}
		expectNoWrites(t, reg.proxy)
	})
	t.Run("untagged digest", func(t *testing.T) {
		t.Parallel()
		for _, door := range []struct {
			name string
			run  func(t *testing.T, ref string) Result
			how  string
		}{
			{"action", func(t *testing.T, ref string) Result {
				return runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
			}, "set the `tag` input"},
			{"cli", func(t *testing.T, ref string) Result { return runCLI(t, "--platform", "linux/amd64", ref) }, "pass --tag"},
		} {
			t.Run(door.name, func(t *testing.T) {
				t.Parallel()
				reg, old := newAppRegistry(t, registryOptions{}, packImage(t, 1))
				res := door.run(t, reg.ref("app@"+old))
				expectExit(t, res, 0)
				lines := res.logLines()
				if !anyContainsAll(lines, []string{"no tag", "garbage collection", door.how}) {
					t.Errorf("no notice says the new manifest is untagged and how to tag it:\n%s", res)
				}
			})
		}
	})
}
