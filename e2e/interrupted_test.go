package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// TestResultsFileUnusable writes the outputs and the summary of a run
// whose results file cannot be created: the tag was written, so the
// outputs must say so; the results file is a warning.
func TestResultsFileUnusable(t *testing.T) {
	t.Parallel()
	reg, old := newAppRegistry(t, registryOptions{}, packImage(t, 1))
	// A regular file where the results file's directory should be.
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"},
		"RUNNER_TEMP="+notDir, "GITHUB_WORKSPACE="+notDir)
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	newDigest := reg.digestOf(t, "app:1.0")
	if newDigest == old {
		t.Fatalf("app:1.0 still at %s", old)
	}
	expectOutputs(t, res, imageOutputs(reg.ref("app"), old, newDigest, true, "linux/amd64"))
	if res.Outputs["results"] == "" {
		t.Errorf("results output empty after a results-file failure")
	}
	if !anyContainsAll(res.commandLines("warning"), []string{"results file"}) {
		t.Errorf("no ::warning:: about the results file: %q", res.commandLines("warning"))
	}
	if !strings.Contains(res.Summary, newDigest) {
		t.Errorf("step summary does not name %s:\n%s", newDigest, res.Summary)
	}
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

// putRaw puts a manifest at repo:ref straight at the registry from inside
// a fault function (no testing.TB there), as another writer would.
func putRaw(reg *testRegistry, repo, ref string, im image) error {
	req, err := http.NewRequest(http.MethodPut, "http://"+reg.host+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(im.manifest()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", im.manifestType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT %s:%s = %d", repo, ref, resp.StatusCode)
	}
	return nil
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

// TestForeignReferrer lists, under the image's fallback tag or from the
// referrers API, an SBOM whose subject is another image: it is not the
// image's, so referrers fail writes all the same, and a notice says the
// registry listed a foreign artifact.
func TestForeignReferrer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		list func(reg *testRegistry, digest string, index []byte) // lists index as the referrers of digest
	}{
		{"fallback tag", func(reg *testRegistry, digest string, index []byte) {
			reg.putManifest(t, "app:"+strings.Replace(digest, ":", "-", 1), index, ociIndex)
		}},
		{"referrers API", func(reg *testRegistry, digest string, index []byte) {
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				return http.StatusOK, http.Header{"Content-Type": {ociIndex}}, string(index), r.URL.Path == "/v2/app/referrers/"+digest
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, old := newAppRegistry(t, registryOptions{}, packImage(t, 1))
			other := reg.push(t, "app:other", packImage(t, 1))
			sbom := ociArtifact(spdxType, spdxType, `{"spdxVersion":"SPDX-2.3"}`, "", other, 100)
			sbomDigest := reg.push(t, "app@"+sbom.manifestDigest(), sbom)
			tc.list(reg, old, fallbackIndex(sbom))
			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "referrers": "fail"})
			expectExit(t, res, 0)
			if got := reg.digestOf(t, "app:1.0"); got == old {
				t.Errorf("app:1.0 not written: still %s", got)
			}
			if !anyContainsAll(res.commandLines("notice"), []string{sbomDigest, "foreign artifact", other}) {
				t.Errorf("no ::notice:: names the foreign artifact %s: %q", sbomDigest, res.commandLines("notice"))
			}
			if got := res.results(t); len(got) != 1 || len(got[0]["referrers"].([]any)) != 0 {
				t.Errorf("results = %v, want one image with no referrers", got)
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

// TestInterrupted sends SIGTERM (a cancelled workflow) or SIGINT while
// the first of two images' manifest PUT is in flight; the registry commits
// that PUT but answers only after the run's grace has run out. The run
// starts no other image, reads the tag back and reports what it holds,
// writes outputs and the summary for both images, and exits within 10 s
// of the signal.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			testInterrupted(t, sig)
		})
	}
}

func testInterrupted(t *testing.T, sig syscall.Signal) {
	reg := newRegistry(t, registryOptions{})
	old1 := reg.push(t, "app:1.0", packImage(t, 1))
	old2 := reg.push(t, "app:2.0", packImage(t, 1))
	var proc atomic.Pointer[os.Process]
	var signalled atomic.Int64 // unix nanoseconds
	var commitErr error
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method != http.MethodPut || r.URL.Path != "/v2/app/manifests/1.0" {
			return 0, nil, "", false
		}
		body, err := io.ReadAll(r.Body)
		if err == nil {
			req, _ := http.NewRequest(http.MethodPut, "http://"+reg.host+r.URL.Path, bytes.NewReader(body))
			req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
			var resp *http.Response
			if resp, err = http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		commitErr = err
		if p := proc.Load(); p != nil {
			signalled.Store(time.Now().UnixNano())
			p.Signal(sig)
		}
		time.Sleep(8 * time.Second) // past the run's grace
		return http.StatusCreated, nil, "", true
	})
	cmd, wait := startAction(t, map[string]string{"image": reg.ref("app:1.0") + "\n" + reg.ref("app:2.0"), "platform": "linux/amd64", "concurrency": "1"})
	proc.Store(cmd.Process)
	res := wait()
	exited := time.Now()
	if signalled.Load() == 0 || commitErr != nil {
		t.Fatalf("no %v during the manifest PUT (commit: %v): the case did not happen", sig, commitErr)
	}
	if took := exited.Sub(time.Unix(0, signalled.Load())); took > 10*time.Second {
		t.Errorf("the run exited %v after %v, want within 10 s", took, sig)
	}
	expectExit(t, res, 1)
	new1 := reg.digestOf(t, "app:1.0")
	if new1 == old1 {
		t.Fatalf("app:1.0 still at %s: the registry did not commit the PUT", old1)
	}
	expectAt(t, reg, "app:2.0", old2)
	for _, w := range reg.proxy.writes() {
		if strings.HasSuffix(w.Path, "/manifests/2.0") {
			t.Errorf("the run wrote app:2.0 after the signal: %s", w)
		}
	}
	if got, want := res.Outputs["digest"], new1+"\n"; got != want {
		t.Errorf("digest output = %q, want %q (what app:1.0 holds, then the image not started)", got, want)
	}
	errs := strings.Join(res.commandLines("error"), "\n")
	for _, want := range []string{reg.ref("app:1.0") + " now points at " + new1, "the registry committed the push", reg.ref("app:2.0") + ": not started: the run was interrupted"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors do not say %q:\n%s", want, errs)
		}
	}
	for _, ref := range []string{reg.ref("app:1.0"), reg.ref("app:2.0")} {
		if !strings.Contains(res.Summary, ref) {
			t.Errorf("summary has no row for %s:\n%s", ref, res.Summary)
		}
	}
}
