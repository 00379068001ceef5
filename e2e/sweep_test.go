package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newSweepRepo is a registry whose repository app holds f.
func newSweepRepo(t *testing.T, tags, digests, empty int) (*testRegistry, *sweepFixture) {
	t.Helper()
	reg := newRegistry(t, registryOptions{})
	f := newSweepFixture(t, tags, digests, empty)
	f.seed(t, reg)
	f.copyTo(t, reg, "app")
	return reg, f
}

// toMove are the references of f's tags that point at an image to fix.
func (f *sweepFixture) toMove(reg *testRegistry) []string {
	var refs []string
	for _, ts := range f.tags[:f.empty] {
		for _, t := range ts {
			refs = append(refs, reg.ref("app:"+t))
		}
	}
	return refs
}

// TestSweepPlanThenShards runs a plan over a tag pattern, then each shard
// of its matrix as a job of its own, and finds every tag fixed.
func TestSweepPlanThenShards(t *testing.T) {
	t.Parallel()
	reg, f := newSweepRepo(t, 60, 6, 2)
	res := runAction(t, map[string]string{"image": reg.ref("app:*"), "platform": "linux/amd64", "mode": "plan", "shards": "3"})
	expectExit(t, res, 0)
	expectNoWrites(t, reg.proxy)
	var shards []string
	if err := json.Unmarshal([]byte(res.Outputs["matrix"]), &shards); err != nil {
		t.Fatalf("matrix output %q: %v", res.Outputs["matrix"], err)
	}
	if len(shards) == 0 || len(shards) > 3 {
		t.Fatalf("matrix has %d lists, want 1 to 3: %q", len(shards), shards)
	}
	var planned []string
	for _, s := range shards {
		planned = append(planned, strings.Split(s, "\n")...)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(f.toMove(reg))), slices.Sorted(slices.Values(planned))); diff != "" {
		t.Errorf("matrix images (-want +got):\n%s", diff)
	}
	// More than 50 images: progress lines, and groups only for those
	// that would change.
	if !anyContainsAll(res.logLines(), []string{"progress: 60/60 images, 20 changed, 0 failed"}) {
		t.Errorf("plan log has no final progress line for 60 images:\n%s", res.Stdout)
	}
	if got := len(res.commandLines("group")); got != 20 {
		t.Errorf("plan log has %d groups, want 20 (one per image that would change)", got)
	}
	for i, s := range shards {
		res := runAction(t, map[string]string{"image": s, "platform": "linux/amd64"})
		if res.ExitCode != 0 {
			t.Fatalf("shard %d: %s", i, res)
		}
	}
	if got := f.verify(t, reg, "app"); got != "ok" {
		t.Errorf("after every shard: %s", got)
	}
}

// TestSweepSharedDigest works tags that share a digest once: one manifest
// read per tag, one config read per digest, one config upload, and per
// tag to move one check that it still holds what was read, one manifest
// write and one read-back.
func TestSweepSharedDigest(t *testing.T) {
	t.Parallel()
	reg, f := newSweepRepo(t, 6, 2, 1)
	res := runAction(t, map[string]string{"image": reg.ref("app:*"), "platform": "linux/amd64"})
	expectExit(t, res, 0)
	count := map[string]int{}
	for _, r := range reg.proxy.requests() {
		key := r.Method + " " + r.Path
		switch {
		case strings.Contains(r.Path, "/blobs/uploads/"):
			key = r.Method + " upload"
		case strings.Contains(r.Path, "/blobs/"):
			key = r.Method + " blob"
		}
		count[key]++
	}
	want := map[string]int{"GET /v2/": 1, "GET /v2/app/tags/list": 1, "GET blob": 2, "POST upload": 1, "PUT upload": 1}
	for i, ts := range f.tags {
		for _, tag := range ts {
			want["GET /v2/app/manifests/"+tag] = 1
			if i < f.empty {
				want["PUT /v2/app/manifests/"+tag] = 1
				want["HEAD /v2/app/manifests/"+tag] = 2
			}
		}
	}
	// The referrers of each previous digest are asked of the referrers
	// API once; its fallback and cosign tags are known absent from the
	// listing, so they cost no request.
	referrersAPI := 0
	for k, n := range count {
		if strings.Contains(k, "/referrers/") {
			referrersAPI += n
			delete(count, k)
		}
	}
	if referrersAPI != f.empty {
		t.Errorf("referrers API requests = %d, want %d (one per digest fixed)", referrersAPI, f.empty)
	}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("requests (-want +got):\n%s\n%s", diff, formatRequests(reg.proxy.requests()))
	}
	if got := f.verify(t, reg, "app"); got != "ok" {
		t.Errorf("after the sweep: %s", got)
	}
}

// TestSweepStorm fixes every tag while one request in five is answered
// 429 with Retry-After: 1, and says how many 429s it met.
func TestSweepStorm(t *testing.T) {
	t.Parallel()
	reg, f := newSweepRepo(t, 12, 4, 2)
	var n atomic.Int64
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		if r.URL.Path != "/v2/" && n.Add(1)%5 == 0 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, `{"errors":[{"code":"TOOMANYREQUESTS","message":"allowed: 2000/minute"}]}`, true
		}
		return 0, nil, "", false
	})
	res := runAction(t, map[string]string{"image": reg.ref("app:*"), "platform": "linux/amd64", "concurrency": "2"})
	expectExit(t, res, 0)
	if got := f.verify(t, reg, "app"); got != "ok" {
		t.Errorf("after the storm: %s", got)
	}
	m := regexp.MustCompile(`answered 429 Too Many Requests (\d+) times`).FindStringSubmatch(res.Stdout)
	if m == nil || m[1] == "0" {
		t.Errorf("log does not say how many 429s the run met:\n%s", res.Stdout)
	}
	if !strings.Contains(res.Summary, "429 Too Many Requests") {
		t.Errorf("job summary does not say how many 429s the run met:\n%s", res.Summary)
	}
}

// TestSweepBadInput refuses each bad sweep input with one error, and
// writes nothing.
func TestSweepBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inputs func(reg *testRegistry) map[string]string
		fault  faultFunc
		wants  []string
	}{
		{"pattern syntax", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:v[1")}
		}, nil, []string{"input image", "syntax error in pattern", "app:v[1"}},
		{"pattern matching nothing", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:v9*")}
		}, nil, []string{"app:v9*", "matches none of the repository's 6 tags"}},
		{"tags/list refused", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:*")}
		}, func(r *http.Request) (int, http.Header, string, bool) {
			return http.StatusMethodNotAllowed, nil, `{"errors":[{"code":"UNSUPPORTED","message":"tag listing is off"}]}`, strings.HasSuffix(r.URL.Path, "/tags/list")
		}, []string{"app:*", "refused with 405 Method Not Allowed"}},
		{"tag with a pattern", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:*"), "tag": "fixed"}
		}, nil, []string{"input tag", "leave tag empty"}},
		{"shards 0", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:*"), "mode": "plan", "shards": "0"}
		}, nil, []string{"input shards", `"0"`, "at least 1"}},
		{"shards 257", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:*"), "mode": "plan", "shards": "257"}
		}, nil, []string{"input shards", "from 1 to 256"}},
		{"concurrency 0", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:*"), "concurrency": "0"}
		}, nil, []string{"input concurrency", "at least 1"}},
		// Twice the cap of int would wrap around and lift the bound on
		// reads in flight.
		{"concurrency past the cap", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:*"), "concurrency": "9223372036854775807"}
		}, nil, []string{"input concurrency", "from 1 to 256"}},
		{"concurrency 257", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:*"), "concurrency": "257"}
		}, nil, []string{"input concurrency", "from 1 to 256"}},
		// A matrix's ":tag" line takes the repository of the reference
		// before it; without one there is none to take.
		{"tag line with no reference before it", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": ":v1.0\n" + reg.ref("app:v1.0")}
		}, nil, []string{"input image", `":v1.0"`, "no image reference comes before it"}},
		// Names that are not tags are not counted as the repository's.
		{"pattern matching nothing among names that are not tags", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:v9*")}
		}, func(r *http.Request) (int, http.Header, string, bool) {
			return http.StatusOK, http.Header{"Content-Type": {"application/json"}}, `{"name":"app","tags":["v1.0","v9 bad","-v9","v2.0",".v9"]}`, strings.HasSuffix(r.URL.Path, "/tags/list")
		}, []string{"app:v9*", "matches none of the repository's 2 tags"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, _ := newSweepRepo(t, 6, 2, 1)
			if tt.fault != nil {
				reg.proxy.inject(tt.fault)
			}
			in := tt.inputs(reg)
			in["platform"] = "linux/amd64"
			res := runAction(t, in)
			expectExit(t, res, 1)
			msg := expectOneError(t, res)
			for _, w := range tt.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			expectNoWrites(t, reg.proxy)
			if res.Outputs["results"] != "" {
				t.Errorf("outputs written after an input error: %q", res.Outputs)
			}
		})
	}
}

// TestSweepCLIPlan prints the matrix of --plan and writes --results-file.
func TestSweepCLIPlan(t *testing.T) {
	t.Parallel()
	reg, f := newSweepRepo(t, 6, 3, 2)
	file := t.TempDir() + "/results.json"
	res := runCLI(t, "--plan", "--shards", "2", "--platform", "linux/amd64", "--results-file", file, reg.ref("app:*"))
	expectExit(t, res, 0)
	expectNoWrites(t, reg.proxy)
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	var shards []string
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &shards); err != nil || len(shards) != 2 {
		t.Fatalf("last line of standard output = %q, %v; want a matrix of 2 lists", lines[len(lines)-1], err)
	}
	if got, want := len(strings.Split(shards[0], "\n"))+len(strings.Split(shards[1], "\n")), len(f.toMove(reg)); got != want {
		t.Errorf("matrix holds %d images, want %d: %q", got, want, shards)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var all []map[string]any
	if err := json.Unmarshal(b, &all); err != nil || len(all) != 6 {
		t.Errorf("results file = %d results, %v; want 6: %s", len(all), err, b)
	}
}
