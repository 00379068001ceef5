package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// randomSecret is a random password.
func randomSecret(tb testing.TB) string {
	tb.Helper()
	return randomHex(tb, "pw-", 12)
}

// randomHex is prefix and n random bytes in hex.
func randomHex(tb testing.TB, prefix string, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	const user = "ci-bot"
	for _, tc := range []struct {
		name     string
		username string
		password func(real string) string
		wantExit int
		// wantCredentialsHint: the single ::error:: must say that
		// credentials are needed.
		wantCredentialsHint bool
	}{
		{name: "right password", username: user, password: func(p string) string { return p }},
		{name: "wrong password", username: user, password: func(p string) string { return p + "-wrong" }, wantExit: 1},
		{name: "no credentials", password: func(string) string { return "" }, wantExit: 1, wantCredentialsHint: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secret := randomSecret(t)
			im := packImage(t, 1)
			reg, old := newAppRegistry(t, registryOptions{username: user, password: secret}, im)
			ref := reg.ref("app:1.0")
			password := tc.password(secret)

			res := runAction(t, map[string]string{
				"image": ref, "platform": "linux/amd64",
				"username": tc.username, "password": password,
			})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, tc.wantExit)

			if password != "" {
				expectMasked(t, res, password)
			}
			if tc.wantExit == 0 {
				if got := reg.digestOf(t, "app:1.0"); got == old || res.Outputs["digest"] != got {
					t.Errorf("app:1.0 = %s (was %s), digest output %q", got, old, res.Outputs["digest"])
				}
				return
			}
			msg := expectOneError(t, res)
			if !strings.Contains(msg, ref) && !strings.Contains(msg, reg.proxy.host) {
				t.Errorf("error %q names neither the image nor its registry", msg)
			}
			lower := strings.ToLower(msg)
			if tc.wantCredentialsHint && !strings.Contains(lower, "credential") &&
				!(strings.Contains(lower, "username") && strings.Contains(lower, "password")) {
				t.Errorf("error %q does not say that credentials (username and password) are needed", msg)
			}
			expectNoWrites(t, reg.proxy)
			expectAt(t, reg, "app:1.0", old)
		})
	}
}

// expectMasked fails t unless secret is registered with ::add-mask::
// before any other log line and appears nowhere else: not in another log
// line, the outputs or the step summary.
func expectMasked(t *testing.T, res Result, secret string) {
	t.Helper()
	stdout := strings.Split(res.Stdout, "\n")
	masked := false
	for i, l := range stdout {
		if strings.HasPrefix(l, "::add-mask::") {
			if l == "::add-mask::"+secret {
				masked = true
			}
			continue
		}
		if !masked && l != "" {
			t.Errorf("stdout line %d %q comes before ::add-mask:: of the password", i+1, l)
		}
		break
	}
	if !masked {
		t.Errorf("no leading ::add-mask:: line for the password on stdout")
	}
	for _, l := range res.logLines() {
		if strings.Contains(l, secret) && l != "::add-mask::"+secret {
			t.Errorf("log line shows the password: %q", l)
		}
	}
	if strings.Contains(res.OutputFile, secret) {
		t.Errorf("GITHUB_OUTPUT shows the password")
	}
	if strings.Contains(res.Summary, secret) {
		t.Errorf("step summary shows the password")
	}
}

func TestCLIAuth(t *testing.T) {
	t.Parallel()
	const user = "ci-bot"
	for _, tc := range []struct {
		name  string
		setup func(reg *testRegistry, password string) cliSetup
		args  func(ref string) []string
	}{{
		name:  "password on stdin",
		setup: func(_ *testRegistry, pw string) cliSetup { return cliSetup{stdin: pw + "\n"} },
		args: func(ref string) []string {
			return []string{"--platform", "linux/amd64", "--username", user, "--password-stdin", ref}
		},
	}, {
		name: "docker config",
		setup: func(reg *testRegistry, pw string) cliSetup {
			auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
			return cliSetup{dockerConfig: `{"auths":{"` + reg.proxy.host + `":{"auth":"` + auth + `"}}}`}
		},
		args: func(ref string) []string { return []string{"--platform", "linux/amd64", ref} },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secret := randomSecret(t)
			im := packImage(t, 1)
			reg, old := newAppRegistry(t, registryOptions{username: user, password: secret}, im)

			res := runCLIWith(t, tc.setup(reg, secret), tc.args(reg.ref("app:1.0"))...)
			expectExit(t, res, 0)
			if got := reg.digestOf(t, "app:1.0"); got == old {
				t.Errorf("app:1.0 still at %s", old)
			}
			if strings.Contains(res.Stdout+res.Stderr, secret) {
				t.Errorf("the password shows in the output")
			}
		})
	}
}

// TestPushDenied: a 403 on every write fails the image with one error that
// says a permission is missing.
func TestPushDenied(t *testing.T) {
	t.Parallel()
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		if !isWrite(r) {
			return 0, nil, "", false
		}
		return http.StatusForbidden, http.Header{"Content-Type": {"application/json"}},
			`{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`, true
	})
	ref := reg.ref("app:1.0")

	res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 1)
	msg := expectOneError(t, res)
	// What is missing is the right to push (a token permission on
	// ghcr.io).
	if lower := strings.ToLower(msg); !strings.Contains(msg, ref) || (!strings.Contains(lower, "permission") && !strings.Contains(lower, "push")) {
		t.Errorf("error %q does not name %s and the missing push permission", msg, ref)
	}
	expectAt(t, reg, "app:1.0", old)
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
