package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentRunsOnOneTag starts two runs on the same tag at the same
// moment, three rounds each. A run succeeds or fails with one error naming
// the image; at least one succeeds; the tag ends at the digest a
// successful run reported, a complete image with one of the platforms
// asked for. Each round under 20 s.
func TestConcurrentRunsOnOneTag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		platforms [2]string
	}{
		{"same platform", [2]string{"linux/amd64", "linux/amd64"}},
		{"different platforms", [2]string{"linux/amd64", "linux/arm64"}},
	} {
		for round := 1; round <= 3; round++ {
			t.Run(fmt.Sprintf("%s round %d", tc.name, round), func(t *testing.T) {
				t.Parallel()
				im := packImage(t, 2)
				reg, old := newAppRegistry(t, registryOptions{}, im)
				ref := reg.ref("app:1.0")

				var wg sync.WaitGroup
				start := make(chan struct{})
				results := make([]Result, 2)
				began := time.Now()
				for i := range 2 {
					wg.Go(func() {
						<-start
						results[i] = runAction(t, map[string]string{"image": ref, "platform": tc.platforms[i]})
					})
				}
				close(start)
				wg.Wait()
				took := time.Since(began)
				reg.proxy.log(t, "requests of both runs")

				var okDigests []string
				for i, res := range results {
					switch res.ExitCode {
					case 0:
						okDigests = append(okDigests, res.Outputs["digest"])
						if res.Outputs["platform"] != tc.platforms[i] {
							t.Errorf("run %d: platform output = %q, want %q", i+1, res.Outputs["platform"], tc.platforms[i])
						}
					case 1:
						if msg := expectOneError(t, res); !strings.Contains(msg, ref) {
							t.Errorf("run %d: error %q does not name %s", i+1, msg, ref)
						}
					default:
						t.Errorf("run %d: exit code %d, want 0 or 1", i+1, res.ExitCode)
					}
				}
				if len(okDigests) == 0 {
					t.Fatalf("both runs failed")
				}
				if tc.platforms[0] == tc.platforms[1] && len(okDigests) == 2 && okDigests[0] != okDigests[1] {
					t.Errorf("the same change gave two digests: %q", okDigests)
				}
				got := reg.digestOf(t, "app:1.0")
				if got == old || !slices.Contains(okDigests, got) {
					t.Errorf("app:1.0 = %s (was %s), want the digest of a successful run, one of %q", got, old, okDigests)
				}
				reg.validateImage(t, "app:1.0")
				cfg := reg.config(t, "app", reg.get(t, "app:1.0"))
				arch, _ := value(mustMembers(t, "new config", cfg), "architecture")
				if arch != `"amd64"` && arch != `"arm64"` {
					t.Errorf("architecture of app:1.0 = %s, want amd64 or arm64", arch)
				}
				if tc.platforms[0] == tc.platforms[1] {
					expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
				}
				if took > 20*time.Second {
					t.Errorf("round took %v, want under 20 s", took)
				}
			})
		}
	}
}

// TestTagMovedDuringRun re-pushes a tag (a correct arm64 build) while the
// run reads its first config: the run must not write its fixed old image
// over it, and says the tag moved, naming both digests.
func TestTagMovedDuringRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// tags are pushed in order, each with the image of its index in
		// images (0 or 1).
		tags   []string
		images []int
		image  string // the image input
		moved  string // the tag re-pushed during the run
		fixed  []string
	}{
		{"a later tag of a sweep", []string{"v1.0", "v1.1"}, []int{0, 1}, "app:v1.*", "v1.1", []string{"v1.0"}},
		{"a tag sharing the lead's digest", []string{"v1.0", "v1.0.1"}, []int{0, 0}, "app:v1.*", "v1.0.1", []string{"v1.0"}},
		{"the one image", []string{"1.0"}, []int{0}, "app:1.0", "1.0", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			ims := []image{packImage(t, 1), packImage(t, 1)}
			was := map[string]string{}
			for i, tag := range tc.tags {
				was[tag] = reg.push(t, "app:"+tag, ims[tc.images[i]])
			}
			arm := packImageWith(t, 1, `"architecture":"arm64"`)
			armDigest := reg.push(t, "app:arm-build", arm)
			var once sync.Once
			var pushErr error
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				// The first config read: after the plan's manifest read,
				// before any check the run makes.
				if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
					once.Do(func() { pushErr = putRaw(reg, "app", tc.moved, arm) })
				}
				return 0, nil, "", false
			})
			res := runAction(t, map[string]string{"image": reg.ref(tc.image), "platform": "linux/amd64", "concurrency": "1"})
			if pushErr != nil {
				t.Fatal(pushErr)
			}
			expectExit(t, res, 1)
			want := fmt.Sprintf("%s moved during the run: was %s, now %s; nothing written", reg.ref("app:"+tc.moved), was[tc.moved], armDigest)
			expectErrorMentions(t, res, want)
			expectAt(t, reg, "app:"+tc.moved, armDigest)
			for _, w := range reg.proxy.writes() {
				if w.Method == http.MethodPut && strings.HasSuffix(w.Path, "/manifests/"+tc.moved) {
					t.Errorf("the run wrote the tag that moved: %s", w)
				}
			}
			for _, tag := range tc.fixed {
				if got := reg.digestOf(t, "app:"+tag); got == was[tag] {
					t.Errorf("app:%s not fixed: still %s", tag, got)
				}
			}
		})
	}
}
