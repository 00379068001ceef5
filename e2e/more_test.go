package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

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

func TestSetPlatformForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		platform   string
		wantOutput string
		// wantNotice: the value is an alias, normalized with a notice
		// naming it and what it stands for.
		wantNotice []string
	}{
		{platform: "linux/arm/v7", wantOutput: "linux/arm/v7"},
		{platform: "linux/arm64/v8", wantOutput: "linux/arm64/v8"},
		{platform: "windows/amd64:10.0.17763.6659", wantOutput: "windows/amd64:10.0.17763.6659"},
		{platform: "linux/x86_64", wantOutput: "linux/amd64", wantNotice: []string{"x86_64", "amd64"}},
		{platform: "linux/aarch64", wantOutput: "linux/arm64", wantNotice: []string{"aarch64", "arm64"}},
		{platform: "linux/armhf", wantOutput: "linux/arm/v7", wantNotice: []string{"armhf", "arm", "v7"}},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			// os "" and no architecture: any os/arch may be set.
			im := buildxImage(t, 1)
			reg.push(t, "app:1.0", im)

			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": tc.platform})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)
			if got := res.Outputs["platform"]; got != tc.wantOutput {
				t.Errorf("platform output = %q, want %q", got, tc.wantOutput)
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers(tc.wantOutput), nil)
			if tc.wantNotice != nil && !anyContainsAll(res.commandLines("notice"), tc.wantNotice) {
				t.Errorf("no ::notice:: mentions all of %q: %q", tc.wantNotice, res.commandLines("notice"))
			}
		})
	}
}

// TestRetries: a 503 on reading and a 429 with Retry-After on pushing are
// retried, and the run succeeds.
func TestRetries(t *testing.T) {
	t.Parallel()
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	var mu sync.Mutex
	failed := map[string]bool{}
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		isManifest := strings.Contains(r.URL.Path, "/manifests/")
		switch {
		case r.Method == http.MethodGet && isManifest && !failed["get"]:
			failed["get"] = true
			return http.StatusServiceUnavailable, nil, "try later", true
		case r.Method == http.MethodPut && isManifest && !failed["put"]:
			failed["put"] = true
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, true
		}
		return 0, nil, "", false
	})

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)
	if !failed["get"] || !failed["put"] {
		t.Errorf("faults injected = %v, want both a GET and a PUT of a manifest", failed)
	}
	newDigest := reg.digestOf(t, "app:1.0")
	if newDigest == old || res.Outputs["digest"] != newDigest {
		t.Errorf("app:1.0 = %s (was %s), digest output %q", newDigest, old, res.Outputs["digest"])
	}
	expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), nil)
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

// TestCosignSignatureWarning: a cosign signature tag of the old digest is
// reported in a ::warning:: and left in place.
func TestCosignSignatureWarning(t *testing.T) {
	t.Parallel()
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	sigTag := "sha256-" + strings.TrimPrefix(old, "sha256:") + ".sig"
	sig := packImageWith(t, 1, `"architecture":"amd64"`)
	sigDigest := reg.push(t, "app:"+sigTag, sig)

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)
	warned := false
	for _, w := range res.commandLines("warning") {
		if strings.Contains(w, sigTag) {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no ::warning:: names %s: %q", sigTag, res.commandLines("warning"))
	}
	expectAt(t, reg, "app:"+sigTag, sigDigest)
}

// anyContainsAll reports whether one of lines contains every one of subs.
func anyContainsAll(lines, subs []string) bool {
	for _, l := range lines {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			return true
		}
	}
	return false
}
