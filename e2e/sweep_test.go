package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
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

// tagPages answers a tag listing with pages made by page(k), k counting
// from 0 by the "last" query parameter, each linking to the next until
// pages; link, when set, picks the Link of page k instead.
func tagPages(pages int, page func(k int) string, link func(k int) string) faultFunc {
	return func(r *http.Request) (int, http.Header, string, bool) {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			return 0, nil, "", false
		}
		k, _ := strconv.Atoi(r.URL.Query().Get("last"))
		h := http.Header{"Content-Type": {"application/json"}}
		next := fmt.Sprintf("</v2/app/tags/list?last=%d&n=1000>; rel=\"next\"", k+1)
		if link != nil {
			next = link(k)
		}
		if k+1 < pages {
			h.Set("Link", next)
		}
		return http.StatusOK, h, page(k), true
	}
}

// TestTagListingBounds lists tags from a registry whose listing would
// exhaust memory or never end: the run stops at once with an error that
// says why, and writes nothing.
func TestTagListingBounds(t *testing.T) {
	t.Parallel()
	manyTags := func(k int) string {
		tags := make([]string, 25_000)
		for i := range tags {
			tags[i] = fmt.Sprintf(`"t%d-%d"`, k, i)
		}
		return `{"name":"app","tags":[` + strings.Join(tags, ",") + `]}`
	}
	padded := func(k int) string {
		return fmt.Sprintf(`{"name":"app","tags":["p%d"]`, k) + strings.Repeat(" ", 4<<20-64) + "}"
	}
	for _, tc := range []struct {
		name  string
		fault faultFunc
		want  string
		pages int // tag list requests the run may make
	}{
		{"more than 100,000 tags", tagPages(8, manyTags, nil), "more than 100000 tags", 5},
		{"more than 64 MiB", tagPages(20, padded, nil), "passed 64 MiB", 17},
		// The second page links back to the first, as the run asked for it.
		{"pages in a loop", tagPages(1000, manyTags, func(k int) string {
			if k == 0 {
				return `</v2/app/tags/list?last=1&n=1000>; rel="next"`
			}
			return `</v2/app/tags/list?n=1000>; rel="next"`
		}), "the pages loop", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, _ := newSweepRepo(t, 2, 1, 1)
			reg.proxy.inject(tc.fault)
			res := runAction(t, map[string]string{"image": reg.ref("app:nothing*"), "platform": "linux/amd64"})
			expectExit(t, res, 1)
			expectErrorMentions(t, res, "input image", tc.want)
			expectNoWrites(t, reg.proxy)
			n := 0
			for _, r := range reg.proxy.requests() {
				if strings.HasSuffix(r.Path, "/tags/list") {
					n++
				}
			}
			if n > tc.pages {
				t.Errorf("tag list requests = %d, want at most %d", n, tc.pages)
			}
		})
	}
}

// each runs f(0..n-1) on 8 goroutines and returns the first error.
func each(n int, f func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error { return f(i) })
	}
	return g.Wait()
}

// headDigest resolves repo:tag straight at the registry.
func headDigest(reg *testRegistry, repo, tag string) (string, error) {
	req, err := http.NewRequest(http.MethodHead, "http://"+reg.host+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", ociManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HEAD %s:%s = %d", repo, tag, resp.StatusCode)
	}
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// expectOutputsFit fails t when an output passes GitHub's 1 MB limit.
func expectOutputsFit(t *testing.T, what string, res Result) {
	t.Helper()
	for k, v := range res.Outputs {
		if len(v) > 1_000_000 {
			t.Errorf("%s: output %s is %d bytes, past GitHub's 1 MB limit", what, k, len(v))
		}
	}
}

// TestPlanAtScale takes a repository of 20,000 tags, 6,000 of them to
// fix, under a long repository name, from plan to fixed through the
// README's two-job workflow: every output of the plan and of each matrix
// job stays under GitHub's 1 MB limit, the log says what was left out,
// and every matrix job (a separate run, its image input the matrix entry)
// finds its images.
func TestPlanAtScale(t *testing.T) {
	t.Parallel()
	requireAtScale(t)
	const tags, digests, empty = 20_000, 200, 60
	reg := newRegistry(t, registryOptions{})
	f := newSweepFixture(t, tags, digests, empty)
	f.seed(t, reg)
	repo := "org/" + strings.Repeat("sweep-", 30) + "app"
	mountBlob(t, reg, repo, f.images[0].layers[0].digest)
	var all [][2]string // tag, digest index
	for i, im := range f.images {
		mountBlob(t, reg, repo, im.config.digest)
		for _, tag := range f.tags[i] {
			all = append(all, [2]string{tag, strconv.Itoa(i)})
		}
	}
	if err := each(len(all), func(k int) error {
		i, _ := strconv.Atoi(all[k][1])
		return putRaw(reg, repo, all[k][0], f.images[i])
	}); err != nil {
		t.Fatal(err)
	}

	plan := runActionQuiet(t, map[string]string{"image": reg.ref(repo + ":*"), "platform": "linux/amd64", "mode": "plan", "concurrency": "16"})
	expectExit(t, plan, 0)
	expectOutputsFit(t, "plan", plan)
	for _, want := range []string{
		"the matrix writes a tag that follows a reference of its repository as :tag alone",
		"the image output holds the lines of the first",
		"the results output holds the first",
		"changed or failed images and no unchanged one",
	} {
		if !strings.Contains(plan.Stdout, want) {
			t.Errorf("plan log does not say %q", want)
		}
	}
	var shards []string
	if err := json.Unmarshal([]byte(plan.Outputs["matrix"]), &shards); err != nil || len(shards) != 16 {
		t.Fatalf("matrix = %d lists, %v; want 16", len(shards), err)
	}
	listed := 0
	for _, s := range shards {
		listed += len(strings.Split(s, "\n"))
	}
	if _, toMove := f.tagCount(); listed != toMove {
		t.Errorf("matrix lists %d images, want %d", listed, toMove)
	}
	for i, s := range shards {
		res := runActionQuiet(t, map[string]string{"image": s, "platform": "linux/amd64", "concurrency": "16"})
		if res.ExitCode != 0 {
			t.Fatalf("matrix job %d: %s", i, res)
		}
		expectOutputsFit(t, fmt.Sprintf("matrix job %d", i), res)
	}

	held := make([]string, len(all))
	if err := each(len(all), func(k int) error {
		var err error
		held[k], err = headDigest(reg, repo, all[k][0])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]string{}
	wrong := 0
	for k, d := range held {
		if _, ok := verdicts[d]; !ok {
			ms := mustMembers(t, "config", reg.config(t, repo, reg.get(t, repo+"@"+d)))
			arch, _ := value(ms, "architecture")
			verdicts[d] = arch
		}
		if verdicts[d] != `"amd64"` {
			if wrong++; wrong == 1 {
				t.Errorf("%s:%s has architecture %s after every matrix job", repo, all[k][0], verdicts[d])
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d tags not fixed", wrong, len(all))
	}
}

// TestPlanStdoutIsMatrix: with --plan, with or without --json, standard
// output is the matrix JSON alone, so that it pipes into jq; the log and
// summary lines are on standard error.
func TestPlanStdoutIsMatrix(t *testing.T) {
	t.Parallel()
	reg, _ := newSweepRepo(t, 4, 2, 1)
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"plan", []string{"--plan"}},
		{"plan and json", []string{"--plan", "--json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runCLI(t, append(tc.flags, "--shards", "2", "--platform", "linux/amd64", reg.ref("app:*"))...)
			expectExit(t, res, 0)
			var matrix []any
			// Unmarshal refuses anything after the value but white space.
			if err := json.Unmarshal([]byte(res.Stdout), &matrix); err != nil || len(matrix) == 0 {
				t.Fatalf("standard output is not the matrix alone: %v\n%s", err, res.Stdout)
			}
			// The results array would have one entry per tag, 4.
			if len(matrix) > 2 {
				t.Errorf("standard output has %d entries, want the matrix of at most 2 shards:\n%s", len(matrix), res.Stdout)
			}
			if !strings.Contains(res.Stderr, reg.ref("app:")) {
				t.Errorf("standard error holds no line about the images:\n%s", res.Stderr)
			}
		})
	}
}
