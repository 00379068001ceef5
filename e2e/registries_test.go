package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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
