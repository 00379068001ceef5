package e2e

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Tests of the inputs that make one run touch one thing twice: two images
// written to one tag, one image listed twice, one password and several
// registries.

// cliErrors returns the "error: " lines the command line printed.
func cliErrors(r Result) []string {
	var got []string
	for _, l := range r.logLines() {
		if strings.HasPrefix(l, "error: ") {
			got = append(got, l)
		}
	}
	return got
}

// expectOneCLIError fails t unless the command line printed exactly one
// "error: " line, and that line holds each of wants.
func expectOneCLIError(t testing.TB, res Result, wants ...string) {
	t.Helper()
	errs := cliErrors(res)
	if len(errs) != 1 {
		t.Fatalf("error lines = %d, want 1: %q", len(errs), errs)
	}
	for _, want := range wants {
		if !strings.Contains(errs[0], want) {
			t.Errorf("error %q does not mention %q", errs[0], want)
		}
	}
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

// authRecorder records the Authorization headers a proxy passes on.
type authRecorder struct {
	mu      sync.Mutex
	headers []string
}

// recordAuth makes p record the Authorization header of every request.
func recordAuth(p *recordingProxy) *authRecorder {
	a := &authRecorder{}
	p.inject(func(r *http.Request) (int, http.Header, string, bool) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.headers = append(a.headers, r.Header.Get("Authorization"))
		return 0, nil, "", false
	})
	return a
}

// basicUsers returns the distinct user:password pairs of the Basic
// headers seen, sorted.
func (a *authRecorder) basicUsers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var got []string
	for _, h := range a.headers {
		scheme, value, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "basic") {
			continue
		}
		up := "undecodable " + value
		if b, err := base64.StdEncoding.DecodeString(value); err == nil {
			up = string(b)
		}
		got = append(got, up)
	}
	slices.Sort(got)
	return slices.Compact(got)
}

// expectBasicOnly fails t unless the Basic credentials a saw are exactly
// user:password, and none of them shows the password of another registry.
func expectBasicOnly(t testing.TB, what string, a *authRecorder, user, password, foreign string) {
	t.Helper()
	got := a.basicUsers()
	for _, up := range got {
		if strings.Contains(up, foreign) {
			t.Errorf("%s received the password meant for another registry (Basic %q)", what, up)
		}
	}
	if want := user + ":" + password; len(got) != 1 || got[0] != want {
		t.Errorf("%s received Basic credentials %q, want only those of %q", what, got, user)
	}
}

// TestPasswordForOneRegistry runs images on two registries, each needing
// its own password, with username and password: an input error naming
// both registries, before any request, so that the second registry never
// collects the first one's password.
func TestPasswordForOneRegistry(t *testing.T) {
	t.Parallel()
	const user = "ci-bot"
	for _, cli := range []bool{false, true} {
		name := "action"
		if cli {
			name = "command line"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			secretA, secretB := randomSecret(t), randomSecret(t)
			regA, oldA := newAppRegistry(t, registryOptions{username: user, password: secretA}, packImage(t, 1))
			regB, oldB := newAppRegistry(t, registryOptions{username: user, password: secretB}, packImage(t, 1))
			authA, authB := recordAuth(regA.proxy), recordAuth(regB.proxy)
			refA, refB := regA.ref("app:1.0"), regB.ref("app:1.0")

			var res Result
			if cli {
				res = runCLIWith(t, cliSetup{stdin: secretA + "\n"}, "--platform", "linux/amd64", "--username", user, "--password-stdin", refA, refB)
			} else {
				res = runAction(t, map[string]string{
					"image": refA + "\n" + refB, "platform": "linux/amd64",
					"username": user, "password": secretA,
				})
			}
			regA.proxy.log(t, "requests to the first registry")
			regB.proxy.log(t, "requests to the second registry")
			expectExit(t, res, 1)
			if cli {
				expectOneCLIError(t, res, regA.proxy.host, regB.proxy.host, "username")
			} else {
				expectErrorMentions(t, res, regA.proxy.host, regB.proxy.host, "username")
			}
			if got := authB.basicUsers(); len(got) != 0 {
				t.Errorf("the second registry received Basic credentials %q", got)
			}
			if got := authA.basicUsers(); len(got) != 0 {
				t.Errorf("the first registry received Basic credentials %q before the input was judged", got)
			}
			expectNoRequests(t, regA.proxy)
			expectNoRequests(t, regB.proxy)
			expectAt(t, regA, "app:1.0", oldA)
			expectAt(t, regB, "app:1.0", oldB)
		})
	}
}

// TestPasswordGoesToTarget copies an image from a registry whose
// credentials are in the docker config to another registry, with
// username and password for the target: each registry receives its own
// credentials and nothing else.
func TestPasswordGoesToTarget(t *testing.T) {
	t.Parallel()
	const userSrc, userDst = "reader", "pusher"
	secretSrc, secretDst := randomSecret(t), randomSecret(t)
	im := packImage(t, 1)
	src, _ := newAppRegistry(t, registryOptions{username: userSrc, password: secretSrc}, im)
	dst := newRegistry(t, registryOptions{username: userDst, password: secretDst})
	authSrc, authDst := recordAuth(src.proxy), recordAuth(dst.proxy)

	home := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(userSrc + ":" + secretSrc))
	writeDockerConfig(t, home, `{"auths":{"`+src.proxy.host+`":{"auth":"`+auth+`"}}}`)
	res := runAction(t, map[string]string{
		"image": src.ref("app:1.0"), "platform": "linux/amd64", "tag": dst.ref("app:1.0"),
		"username": userDst, "password": secretDst,
	}, shellEnv(home)...)
	src.proxy.log(t, "requests to the source registry")
	dst.proxy.log(t, "requests to the target registry")
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	expectPatched(t, dst, "app", "app:1.0", im, platformMembers("linux/amd64"), nil)
	expectBasicOnly(t, "the source registry", authSrc, userSrc, secretSrc, secretDst)
	expectBasicOnly(t, "the target registry", authDst, userDst, secretDst, secretSrc)
}
