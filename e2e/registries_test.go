package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestPushWithPullOnlyToken: the token server grants pull although push
// was asked for (an account that may read but not write). The upload is
// refused twice, once with a fresh token; the run says the credentials can
// read but not write the repository, and the tag is left alone.
func TestPushWithPullOnlyToken(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	reg := newRegistry(t, registryOptions{token: newTokenAuthority(t, "reader", secret, grantPull)})
	im := packImage(t, 1)
	old := reg.push(t, "app:1.0", im)

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "username": "reader", "password": secret})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 1)
	msg := expectErrorMentions(t, res, "401", "can read", "not write", reg.ref("app"))
	if strings.Contains(msg, "ContentLength") || strings.Contains(msg, "Body length") {
		t.Errorf("error %q is the transport's, not the registry's refusal", msg)
	}
	for _, w := range reg.proxy.writes() {
		if w.Status < 400 {
			t.Errorf("write %s succeeded with a pull-only token", w)
		}
	}
	expectAt(t, reg, "app:1.0", old)
}

// TestTokenExpiresDuringPush: the token expires before the first upload
// (Distribution answers 401 invalid_token); the client fetches a fresh
// token and sends the upload again from the bytes in memory, the config
// whole both times, and the run succeeds.
func TestTokenExpiresDuringPush(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	authority := newTokenAuthority(t, "writer", secret, grantAll)
	reg := newRegistry(t, registryOptions{token: authority})
	im := packImage(t, 1)
	reg.push(t, "app:1.0", im)
	var expired atomic.Int64
	reg.proxy.inject(authority.and(func(r *http.Request) (int, http.Header, string, bool) {
		if isWrite(r) && tokenNumber(r) == 1 {
			expired.Add(1)
			return authority.expired(r)
		}
		return 0, nil, "", false
	}))

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "username": "writer", "password": secret})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	if expired.Load() == 0 {
		t.Fatalf("no write carried the first token; the expiry was not exercised")
	}
	cfg := expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
	var uploads []request
	for _, r := range reg.proxy.requests() {
		if r.Method == http.MethodPost && strings.Contains(r.Query, "digest="+sha256Digest(cfg)) {
			uploads = append(uploads, r)
		}
	}
	// Distribution takes no monolithic upload: the second POST opens a
	// session (202) that a PUT finishes.
	if len(uploads) != 2 || uploads[0].Status != http.StatusUnauthorized || uploads[1].Status != http.StatusAccepted {
		t.Fatalf("monolithic uploads of the config = %s, want one 401 then one 202", formatRequests(uploads))
	}
	for _, u := range uploads {
		if u.ReqBytes != int64(len(cfg)) {
			t.Errorf("upload %s sent %d bytes, want the config's %d", u, u.ReqBytes, len(cfg))
		}
	}
}

// TestPrivateTokenService: a registry on a loopback address whose token
// service is on another loopback port (docker_auth beside a registry, a
// registry reached by IP) is used; the same token service for a registry
// reached by a public host name is refused before any credential goes
// there, saying why and what to do.
func TestPrivateTokenService(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	im := packImage(t, 1)

	// start is a registry whose token service has an address of its
	// own, another port of 127.0.0.1, with im as app:1.0.
	start := func(t *testing.T) (*testRegistry, *tokenAuthority) {
		authority := newTokenAuthority(t, "writer", secret, grantAll)
		authority.separate = true
		reg := newRegistry(t, registryOptions{token: authority})
		reg.push(t, "app:1.0", im)
		return reg, authority
	}

	t.Run("loopback registry", func(t *testing.T) {
		t.Parallel()
		reg, authority := start(t)
		res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "username": "writer", "password": secret})
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		if authority.requests() == 0 {
			t.Errorf("token service requests = 0, want the token to come from %s", authority.realm)
		}
		expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
	})
	t.Run("registry by a public name", func(t *testing.T) {
		t.Parallel()
		reg, authority := start(t)
		// registry.test resolves nowhere: the proxy, as HTTP_PROXY,
		// takes its requests to the registry.
		proxy := "http://" + reg.proxy.host
		res := runAction(t, map[string]string{"image": "registry.test/app:1.0", "platform": "linux/amd64", "username": "writer", "password": secret, "insecure": "true"},
			"HTTP_PROXY="+proxy, "http_proxy="+proxy, "HTTPS_PROXY=", "https_proxy=", "NO_PROXY=", "no_proxy=")
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 1)
		expectErrorMentions(t, res, "registry.test", authority.realm, "private or loopback address", "host name")
		if n := authority.requests(); n != 0 {
			t.Errorf("token service requests = %d, want 0", n)
		}
		expectNoWrites(t, reg.proxy)
	})
}

// dockerHubLimit answers every request for a repository as Docker Hub does
// once an account's pulls are used up: 429 TOOMANYREQUESTS with its
// ratelimit headers and no Retry-After.
func dockerHubLimit(r *http.Request) (int, http.Header, string, bool) {
	if repository(r.URL.Path) == "" {
		return 0, nil, "", false
	}
	h := http.Header{"Content-Type": {"application/json"}, "Ratelimit-Limit": {"100;w=21600"}, "Ratelimit-Remaining": {"0;w=21600"}}
	return http.StatusTooManyRequests, h, `{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit"}]}` + "\n", true
}

// TestRateLimitUsedUp: Docker Hub's 429 with ratelimit-remaining 0 and no
// Retry-After fails the run at once for that registry, quoting the limit
// and its window; the registry is asked nothing more, for either image.
func TestRateLimitUsedUp(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	reg.push(t, "app:1.0", packImage(t, 1))
	reg.push(t, "app:2.0", packImage(t, 2))
	reg.proxy.inject(dockerHubLimit)

	res, took := timed(t, map[string]string{"image": reg.ref("app:1.0") + "\n" + reg.ref("app:2.0"), "platform": "linux/amd64", "concurrency": "1"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 1)
	errs := res.commandLines("error")
	if len(errs) != 2 {
		t.Fatalf("::error:: lines = %q, want one per image", errs)
	}
	for _, e := range errs {
		for _, want := range []string{"rate limit used up", "100 requests per 6h window", "resets within 6h", reg.proxy.host} {
			if !strings.Contains(e, want) {
				t.Errorf("error %q does not mention %q", e, want)
			}
		}
	}
	// The images' first reads may be in flight together; no request is
	// sent again.
	var throttled int
	for _, r := range reg.proxy.requests() {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled > 2 || countLines(res, "retrying") != 0 {
		t.Errorf("429 answers = %d, retries logged = %d; want at most one per image and no retry", throttled, countLines(res, "retrying"))
	}
	if took > 10*time.Second {
		t.Errorf("run took %s, want it over at once", took.Round(time.Millisecond))
	}
	expectOutputs(t, res, severalOutputs(nil, nil))
	expectNoWrites(t, reg.proxy)
}

// TestRegistryBudget: a registry that answers nothing but 429 ends the run
// for its images once no request has succeeded for the budget
// (SET_IMAGE_PLATFORM_REGISTRY_BUDGET, 3 s here), naming it, with the
// outputs of the image that was done; each retry the log announces is
// made, counted against the 10 attempts of a request answered 429.
func TestRegistryBudget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		retryAfter string
		wantIn     []string
	}{
		// Attempts at 0, 1 s and 2 s; the next would pass 3 s.
		{"Retry-After 1", "1", []string{"no request to it succeeded for 2s", "would pass 3s"}},
		// Honoured up to 60 s, which is already past the budget.
		{"Retry-After 86400", "86400", []string{"no request to it succeeded for 0s", "the next retry, in 1m0s, would pass 3s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			im := packImage(t, 1)
			old := reg.push(t, "app:1.0", im)
			reg.push(t, "app:2.0", packImage(t, 2))
			stuck := manifestPath("app", "2.0")
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				if r.URL.Path != stuck {
					return 0, nil, "", false
				}
				return http.StatusTooManyRequests, http.Header{"Retry-After": {tc.retryAfter}, "Content-Type": {"application/json"}}, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, true
			})

			res, took := timed(t, map[string]string{"image": reg.ref("app:1.0") + "\n" + reg.ref("app:2.0"), "platform": "linux/amd64"},
				"SET_IMAGE_PLATFORM_REGISTRY_BUDGET=3s")
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 1)
			expectErrorMentions(t, res, append([]string{reg.ref("app:2.0"), "giving up on registry", reg.proxy.host, "429"}, tc.wantIn...)...)
			if took > 15*time.Second {
				t.Errorf("run took %s, want the budget to end it", took.Round(time.Millisecond))
			}
			newDigest := reg.digestOf(t, "app:1.0")
			want := severalOutputs(imageOutputs(reg.ref("app"), old, newDigest, true, "linux/amd64"), nil)
			expectOutputs(t, res, want)
			var asked int
			for _, r := range reg.proxy.requests() {
				if r.Path == stuck {
					asked++
				}
			}
			if retries := countLines(res, "retrying GET "+stuck); asked != retries+1 {
				t.Errorf("GET %s sent %d times, log announces %d retries; want one more request than retries", stuck, asked, retries)
			}
			for _, l := range res.logLines() {
				if strings.Contains(l, "retrying") && !strings.Contains(l, " of 10)") {
					t.Errorf("retry line %q does not count against the 10 attempts of a request answered 429", l)
				}
			}
		})
	}
}

// TestDeclinedMountCopied: a registry that answers a cross-repository
// mount with 202 and an upload (zot, GHCR, go-containerregistry's
// registry) gets the layers copied, and a notice says so, with how many
// and how many bytes.
func TestDeclinedMountCopied(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := packImage(t, 2)
	var declined atomic.Int64
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method == http.MethodPost && r.URL.Query().Has("mount") {
			// Passed on without the mount, Distribution opens an
			// upload and answers 202, as a declining registry does.
			declined.Add(1)
			r.URL.RawQuery = ""
		}
		return 0, nil, "", false
	})

	res := runSetTagged(t, reg, reg, im, reg.ref("other/repo:t"), "other/repo", "t")
	if declined.Load() != 2 {
		t.Fatalf("mounts declined = %d, want 2 (one per layer)", declined.Load())
	}
	var size int64
	for _, l := range im.layers {
		size += int64(len(l.data))
	}
	want := []string{reg.ref("other/repo") + " declined to mount 2 blobs from " + reg.ref("app"), "copied " + fmt.Sprintf("%.1f KiB", float64(size)/1024)}
	if !anyContainsAll(res.commandLines("notice"), want) {
		t.Errorf("no notice says %q; notices: %q", want, res.commandLines("notice"))
	}
	reg.validateImage(t, "other/repo:t")
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

// TestTokenExpiresDuringStream: a layer streamed to another registry
// whose token expires at the upload's PUT. A stream cannot be sent again
// as it is: the copy starts over from a new read and a new upload, with
// the fresh token, and the run succeeds.
func TestTokenExpiresDuringStream(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	authority := newTokenAuthority(t, "writer", secret, grantAll)
	src, dst := newRegistry(t, registryOptions{}), newRegistry(t, registryOptions{token: authority})
	im := packImage(t, 1)
	old := src.push(t, "app:1.0", im)
	layer := im.layers[0].digest
	var expired atomic.Int64
	dst.proxy.inject(authority.and(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method == http.MethodPut && r.URL.Query().Get("digest") == layer && tokenNumber(r) == 1 {
			expired.Add(1)
			return authority.expired(r)
		}
		return 0, nil, "", false
	}))

	res := runAction(t, map[string]string{"image": src.ref("app:1.0"), "platform": "linux/amd64", "tag": dst.ref("app:1.0"), "username": "writer", "password": secret})
	dst.proxy.log(t, "requests to the target registry")
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	if expired.Load() == 0 {
		t.Fatalf("no layer upload carried the first token; the expiry was not exercised")
	}
	newDigest := dst.digestOf(t, "app:1.0")
	expectOutputs(t, res, imageOutputs(dst.ref("app"), old, newDigest, true, "linux/amd64"))
	expectPatched(t, dst, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
}

// immutableTags makes reg's proxy answer a manifest PUT to a tag that
// exists as a registry with immutable tags does: ECR 400 TAG_INVALID,
// Harbor 412.
func immutableTags(reg *testRegistry, status int, body string) faultFunc {
	return func(r *http.Request) (int, http.Header, string, bool) {
		ref, ok := strings.CutPrefix(r.URL.Path, "/v2/app/manifests/")
		if !ok || r.Method != http.MethodPut || strings.HasPrefix(ref, "sha256:") {
			return 0, nil, "", false
		}
		resp, err := http.Head("http://" + reg.host + r.URL.Path)
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, nil, "", false
		}
		return status, http.Header{"Content-Type": {"application/json"}}, body, true
	}
}

// TestImmutableTags runs against registries whose tags are immutable: a
// rerun with tag makes no write at all, and an overwrite in place that
// the registry refuses says why and what to do.
func TestImmutableTags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"ecr", http.StatusBadRequest, `{"errors":[{"code":"TAG_INVALID","message":"The image tag 'v1-amd64' already exists in the 'app' repository and cannot be overwritten because the repository is immutable."}]}`},
		{"harbor", http.StatusPreconditionFailed, `{"errors":[{"code":"PRECONDITION","message":"Failed to process request due to 'v1-amd64' configured as immutable."}]}`},
	} {
		t.Run(tc.name+" rerun with tag", func(t *testing.T) {
			t.Parallel()
			reg, _ := newAppRegistry(t, registryOptions{}, packImage(t, 1))
			reg.proxy.inject(immutableTags(reg, tc.status, tc.body))
			in := map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "tag": "v1-amd64"}
			first := runAction(t, in)
			expectExit(t, first, 0)
			reg.proxy.reset()
			again := runAction(t, in)
			expectExit(t, again, 0)
			expectNoWrites(t, reg.proxy)
			want := map[string]string{}
			for _, name := range scalarOutputs {
				want[name] = first.Outputs[name]
			}
			expectOutputs(t, again, want)
		})
		t.Run(tc.name+" in place", func(t *testing.T) {
			t.Parallel()
			reg, old := newAppRegistry(t, registryOptions{}, packImage(t, 1))
			reg.proxy.inject(immutableTags(reg, tc.status, tc.body))
			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"})
			expectExit(t, res, 1)
			expectErrorMentions(t, res, "keeps its tags immutable", "`tag`")
			expectAt(t, reg, "app:1.0", old)
		})
	}
}
