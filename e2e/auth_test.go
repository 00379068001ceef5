package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
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
