package e2e

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretWindow is the length of the shortest piece of a secret that counts
// as showing it: a message cut short must not leave half a password.
const secretWindow = 10

// randomToken is a random stand-in for a GitHub token.
func randomToken(tb testing.TB) string {
	tb.Helper()
	return randomHex(tb, "ghs_", 18)
}

// runnerLines splits output into lines as the runner reads them: at \n,
// \r\n and a lone \r.
func runnerLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n")
}

// showsSecret reports which piece of secret, at least secretWindow long,
// text contains, or "".
func showsSecret(text, secret string) string {
	if len(secret) < secretWindow {
		if strings.Contains(text, secret) {
			return secret
		}
		return ""
	}
	for i := 0; i+secretWindow <= len(secret); i++ {
		if piece := secret[i : i+secretWindow]; strings.Contains(text, piece) {
			return piece
		}
	}
	return ""
}

// expectSecretsKept fails t unless each secret appears in the run's
// output only as its ::add-mask:: line, and those come before any other
// line of stdout. Every byte the binary wrote is searched: stdout, stderr,
// GITHUB_OUTPUT and the step summary. derived are values made from the
// secrets (an Authorization header value) that must not appear at all.
func expectSecretsKept(t *testing.T, res Result, secrets, derived []string) {
	t.Helper()
	masks := map[string]bool{}
	for _, s := range secrets {
		masks["::add-mask::"+s] = true
	}
	masked := map[string]bool{}
	lines := runnerLines(res.Stdout)
	leading := true
	for i, l := range lines {
		if l == "" {
			continue
		}
		if masks[l] {
			if !leading {
				t.Errorf("stdout line %d %q comes after another line", i+1, l)
			}
			masked[l] = true
			continue
		}
		leading = false
		for _, s := range secrets {
			if p := showsSecret(l, s); p != "" {
				t.Errorf("stdout line %d shows %q of a secret: %q", i+1, p, l)
			}
		}
	}
	for m := range masks {
		if !masked[m] {
			t.Errorf("no leading %q line", m)
		}
	}
	for _, f := range []struct{ name, text string }{
		{"stderr", res.Stderr}, {"GITHUB_OUTPUT", res.OutputFile}, {"step summary", res.Summary},
	} {
		for _, s := range secrets {
			if p := showsSecret(f.text, s); p != "" {
				t.Errorf("%s shows %q of a secret:\n%s", f.name, p, f.text)
			}
		}
	}
	all := res.Stdout + res.Stderr + res.OutputFile + res.Summary
	for _, d := range derived {
		if strings.Contains(all, d) {
			t.Errorf("output shows %q, made from a secret", d)
		}
	}
}

// echoFault answers matching requests with status and a registry error
// whose message says back what it was sent: msg builds it from the
// request's Authorization header.
func echoFault(status int, match func(*http.Request) bool, msg func(auth string) string) faultFunc {
	return func(r *http.Request) (int, http.Header, string, bool) {
		if !match(r) {
			return 0, nil, "", false
		}
		body := `{"errors":[{"code":"DENIED","message":` + strconvQuote(msg(r.Header.Get("Authorization"))) + `}]}`
		return status, http.Header{"Content-Type": {"application/json"}}, body, true
	}
}

// TestSecretsNeverShown runs each failure path with a known random
// password and github-token, some with registries that echo the
// Authorization header and the secrets in their error messages. Bounds:
// each run under 20 s (the 5xx case waits out the bounded retries).
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	const user = "ci-bot"
	for _, tc := range []struct {
		name string
		// inputs besides image, username, password and github-token.
		inputs map[string]string
		// wrongPassword: the registry expects another password.
		wrongPassword bool
		// fault returns the registry's misbehaviour, if any.
		fault func(pw, tok string) faultFunc
		// wantInError is a substring of the single ::error::.
		wantInError string
	}{{
		name:        "bad platform input",
		inputs:      map[string]string{"platform": "linux/amd65"},
		wantInError: "linux/amd65",
	}, {
		name:        "bad boolean input",
		inputs:      map[string]string{"platform": "linux/amd64", "overwrite": "maybe"},
		wantInError: "overwrite",
	}, {
		name:          "wrong password",
		inputs:        map[string]string{"platform": "linux/amd64"},
		wrongPassword: true,
		wantInError:   "password",
	}, {
		name:   "403 on push echoing the Authorization header",
		inputs: map[string]string{"platform": "linux/amd64"},
		fault: func(pw, tok string) faultFunc {
			return echoFault(http.StatusForbidden, isWrite, func(auth string) string {
				return "push denied; got Authorization: " + auth
			})
		},
		wantInError: "403",
	}, {
		name:   "403 on push echoing password and token",
		inputs: map[string]string{"platform": "linux/amd64"},
		fault: func(pw, tok string) faultFunc {
			return echoFault(http.StatusForbidden, isWrite, func(string) string {
				return "push denied for password " + pw + " and token " + tok
			})
		},
		wantInError: "403",
	}, {
		name:   "5xx until retries run out, echoing everything",
		inputs: map[string]string{"platform": "linux/amd64"},
		fault: func(pw, tok string) faultFunc {
			return echoFault(http.StatusServiceUnavailable, isManifestPut, func(auth string) string {
				return "down; " + auth + " pw=" + pw + " tok=" + tok
			})
		},
		wantInError: "503",
	}, {
		name:   "401 on read echoing credentials in a URL",
		inputs: map[string]string{"platform": "linux/amd64"},
		fault: func(pw, tok string) faultFunc {
			return echoFault(http.StatusUnauthorized, isManifestGet, func(string) string {
				return "see https://" + user + ":" + pw + "@registry.example/v2/ and https://x:" + tok + "@registry.example/"
			})
		},
		wantInError: "401",
	}, {
		// The registry's message is cut to a line's length: the cut
		// must not leave a piece of the password.
		name:   "404 whose message is cut inside the password",
		inputs: map[string]string{"platform": "linux/amd64"},
		fault: func(pw, tok string) faultFunc {
			return echoFault(http.StatusNotFound, isManifestGet, func(string) string {
				return strings.Repeat("x", 187) + " " + pw + " " + tok
			})
		},
		wantInError: "404",
	}, {
		name:   "check mode, 401 on read echoing everything",
		inputs: map[string]string{"mode": "check"},
		fault: func(pw, tok string) faultFunc {
			return echoFault(http.StatusUnauthorized, isManifestGet, func(auth string) string {
				return auth + " " + pw + " " + tok
			})
		},
		wantInError: "401",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pw, tok := randomSecret(t), randomToken(t)
			regPassword := pw
			if tc.wrongPassword {
				regPassword = randomSecret(t)
			}
			im := packImage(t, 1)
			reg, old := newAppRegistry(t, registryOptions{username: user, password: regPassword}, im)
			if tc.fault != nil {
				reg.proxy.inject(tc.fault(pw, tok))
			}
			inputs := map[string]string{"image": reg.ref("app:1.0"), "username": user, "password": pw, "github-token": tok}
			for k, v := range tc.inputs {
				inputs[k] = v
			}

			res, took := timed(t, inputs)
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 1)
			expectErrorMentions(t, res, tc.wantInError)
			basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
			expectSecretsKept(t, res, []string{pw, tok}, []string{basic})
			if took > 20*time.Second {
				t.Errorf("run took %v, want under 20 s", took)
			}
			expectAt(t, reg, "app:1.0", old)
		})
	}
}

// TestSecretsNeverShownCLI: the command line has no masking, so the
// password read from stdin must not show at all, even when the registry
// echoes it. Under 10 s.
func TestSecretsNeverShownCLI(t *testing.T) {
	t.Parallel()
	const user = "ci-bot"
	pw := randomSecret(t)
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{username: user, password: pw}, im)
	reg.proxy.inject(echoFault(http.StatusForbidden, isWrite, func(auth string) string {
		return "denied " + auth + " " + pw
	}))

	start := time.Now()
	res := runCLIWith(t, cliSetup{stdin: pw + "\n"}, "--platform", "linux/amd64", "--username", user, "--password-stdin", reg.ref("app:1.0"))
	took := time.Since(start)
	expectExit(t, res, 1)
	if !strings.Contains(res.Stderr, "403") {
		t.Errorf("stderr does not say the registry answered 403:\n%s", res.Stderr)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
	for _, f := range []struct{ name, text string }{{"stdout", res.Stdout}, {"stderr", res.Stderr}} {
		if p := showsSecret(f.text, pw); p != "" {
			t.Errorf("%s shows %q of the password", f.name, p)
		}
		if strings.Contains(f.text, basic) {
			t.Errorf("%s shows the Authorization value", f.name)
		}
	}
	if took > 10*time.Second {
		t.Errorf("run took %v, want under 10 s", took)
	}
	expectAt(t, reg, "app:1.0", old)
}

// TestTokenScrubbed runs against a token service whose registry echoes
// the bearer token bare in an error body: the token, obtained by the run
// and so never masked by the runner, appears nowhere the run writes.
func TestTokenScrubbed(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	reg.push(t, "app:1.0", packImage(t, 1))
	password := randomSecret(t)
	s := newTokenService(t, reg, "octo", password)
	var mu sync.Mutex
	var tokens []string
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			mu.Lock()
			tokens = append(tokens, tok)
			mu.Unlock()
			return http.StatusForbidden, http.Header{"Content-Type": {"application/json"}},
				`{"errors":[{"code":"DENIED","message":"token ` + tok + ` may not push"}]}`, true
		}
		return s.serve(r)
	})
	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "username": "octo", "password": password})
	expectExit(t, res, 1)
	expectErrorMentions(t, res, "may not push")
	if len(tokens) == 0 {
		t.Fatalf("no manifest PUT with a bearer token: %s", formatRequests(reg.proxy.requests()))
	}
	for _, tok := range tokens {
		for where, text := range map[string]string{"stdout": res.Stdout, "stderr": res.Stderr, "outputs": res.OutputFile, "summary": res.Summary} {
			if strings.Contains(text, tok) {
				t.Errorf("%s holds the bearer token the run obtained", where)
			}
		}
	}
}
