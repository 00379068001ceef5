package e2e

import (
	"archive/tar"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The benchmark's flags. Without -bench-table, TestBenchmarkTable runs its
// quick variant: one repetition, small fixtures, this project and crane.
var (
	benchTable   = flag.Bool("bench-table", false, "run the full benchmark table: regctl too, -bench-reps repetitions, binary size")
	benchReps    = flag.Int("bench-reps", 5, "repetitions per fixture and tool with -bench-table; the wall time is their median")
	benchLatency = flag.Duration("bench-latency", 20*time.Millisecond, "latency the proxy adds to every request")
	benchLayerMB = flag.Int("bench-layer-mb", 10, "size in MB of each of the 3 incompressible layers of the large fixture with -bench-table (100 for the full-size run)")
	benchOut     = flag.String("bench-out", "", "also write the Markdown table to this file")
)

// regctlModule is the regctl the full table compares with, built from
// source by the go command.
const regctlModule = "github.com/regclient/regclient/cmd/regctl@v0.11.7"

// benchUser is the user the token service knows.
const benchUser = "bench"

// benchFixture is one image to set the platform of, copied fresh for
// every run of every tool.
type benchFixture struct {
	name      string
	images    []image // the image, or the index's children in order
	index     []byte  // the index; nil for a single image
	crossRepo bool    // the target is another repository of the registry
	// sameShape marks the single-image, same-repository fixtures whose
	// request count must not depend on the layers.
	sameShape bool
}

// unknownConfigKeys are keys of buildxImage's config that no tool knows.
var unknownConfigKeys = []string{"moby.buildkit.buildinfo.v1", "x.example.unknown"}

// benchFixtures returns the fixtures in the table's order, which
// checkTargets and reportTargets rely on: 1 layer, 50 layers, large
// layers, the index, another repository.
func benchFixtures(t *testing.T, layerMB int) []*benchFixture {
	t.Helper()
	var children []image
	for range eightPlatforms {
		children = append(children, buildxImage(t, 2))
	}
	return []*benchFixture{
		{name: "1 layer", images: []image{buildxImage(t, 1)}, sameShape: true},
		{name: "50 layers", images: []image{buildxImage(t, 50)}, sameShape: true},
		{name: fmt.Sprintf("3 × %d MB layers", layerMB), images: []image{bigImage(t, 3, layerMB<<20)}, sameShape: true},
		{name: "index, 8 children", images: children, index: benchIndex(children)},
		{name: "other repository, 1 layer", images: []image{buildxImage(t, 1)}, crossRepo: true},
	}
}

// bigImage is buildxImage with n layers of size bytes of random data each,
// gzipped without compression (random data does not compress anyway).
func bigImage(t *testing.T, n, size int) image {
	t.Helper()
	im := buildxImage(t, n)
	var ls []layer
	for i := range n {
		ls = append(ls, bigLayer(t, fmt.Sprintf("big%d.bin", i), size))
	}
	cfg := strings.Replace(string(im.config.data), diffIDsJSON(im.layers), diffIDsJSON(ls), 1)
	im.config = newBlob(im.config.mediaType, []byte(cfg))
	im.layers = ls
	return im
}

func bigLayer(t *testing.T, file string, size int) layer {
	t.Helper()
	var gz strings.Builder
	gz.Grow(size + size/1000 + 4096)
	diff := sha256.New()
	gw, err := gzip.NewWriterLevel(&gz, gzip.NoCompression)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(io.MultiWriter(gw, diff))
	if err := tw.WriteHeader(&tar.Header{Name: file, Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for left := size; left > 0; left -= len(chunk) {
		c := chunk[:min(left, len(chunk))]
		if _, err := rand.Read(c); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	return layer{blob: newBlob(ociLayer, []byte(gz.String())), diffID: "sha256:" + hex.EncodeToString(diff.Sum(nil))}
}

// benchIndex renders a compact OCI index of children with eightPlatforms.
func benchIndex(children []image) []byte {
	var cs []indexChild
	for i, c := range children {
		cs = append(cs, indexChild{kind: imageChild, im: c, platform: eightPlatforms[i]})
	}
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s]}`, ociIndex, buildxEntries(cs)))
}

// seedRepo holds every fixture's blobs; runs get their copies by mount.
const seedRepo = "seed/app"

// seed pushes f's blobs and manifests to seedRepo, straight at reg.
func (f *benchFixture) seed(t *testing.T, reg *testRegistry) {
	t.Helper()
	for _, im := range f.images {
		reg.push(t, seedRepo+"@"+im.manifestDigest(), im)
	}
}

// copyTo makes a fresh copy of f at repo:1.0, straight at reg: its blobs
// mounted from seedRepo, its manifests put again.
func (f *benchFixture) copyTo(t *testing.T, reg *testRegistry, repo string) {
	t.Helper()
	for _, im := range f.images {
		mountBlob(t, reg, repo, im.config.digest)
		for _, l := range im.layers {
			mountBlob(t, reg, repo, l.digest)
		}
		ref := repo + ":1.0"
		if f.index != nil {
			ref = repo + "@" + im.manifestDigest()
		}
		reg.putManifest(t, ref, im.manifest(), im.manifestType)
	}
	if f.index != nil {
		reg.putManifest(t, repo+":1.0", f.index, ociIndex)
	}
}

func mountBlob(t testing.TB, reg *testRegistry, repo, digest string) {
	t.Helper()
	u := fmt.Sprintf("http://%s/v2/%s/blobs/uploads/?mount=%s&from=%s", reg.host, repo, url.QueryEscape(digest), url.QueryEscape(seedRepo))
	resp, err := http.Post(u, "", nil)
	if err != nil {
		t.Fatalf("mounting %s into %s: %v", digest, repo, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("mounting %s into %s = %d, want %d", digest, repo, resp.StatusCode, http.StatusCreated)
	}
}

// topDigest is the digest of what f's tag points at before a run.
func (f *benchFixture) topDigest() string {
	if f.index != nil {
		return sha256Digest(f.index)
	}
	return f.images[0].manifestDigest()
}

// verdict says what a tool left at target (repo:1.0): "ok" when it is f
// with the platform set and every other config key kept, else what is
// wrong. For another repository the source must be untouched too.
func (f *benchFixture) verdict(t *testing.T, reg *testRegistry, srcRepo, dstRepo string) string {
	t.Helper()
	var problems []string
	if f.crossRepo && reg.digestOf(t, srcRepo+":1.0") != f.topDigest() {
		problems = append(problems, "source tag moved")
	}
	m := reg.get(t, dstRepo+":1.0")
	if m.digest == f.topDigest() {
		return "unchanged"
	}
	if f.index == nil {
		problems = append(problems, imageProblems(t, reg, dstRepo, m, f.images[0], "amd64")...)
	} else {
		problems = append(problems, f.indexProblems(t, reg, dstRepo, m)...)
	}
	if len(problems) == 0 {
		return "ok"
	}
	return strings.Join(problems, "; ")
}

func (f *benchFixture) indexProblems(t *testing.T, reg *testRegistry, repo string, m manifestAt) []string {
	t.Helper()
	if m.mediaType != ociIndex {
		return []string{"index replaced by a single image"}
	}
	idx := m.parse(t)
	if len(idx.Manifests) != len(f.images) {
		return []string{fmt.Sprintf("index has %d of %d children", len(idx.Manifests), len(f.images))}
	}
	// Problems are counted over the children: "config keys lost: … (8 of
	// 8 children)".
	count := map[string]int{}
	var problems []string
	for i, e := range idx.Manifests {
		for _, p := range imageProblems(t, reg, repo, reg.get(t, repo+"@"+e.Digest), f.images[i], strings.Split(eightPlatforms[i], "/")[1]) {
			if count[p] == 0 {
				problems = append(problems, p)
			}
			count[p]++
		}
	}
	for i, p := range problems {
		problems[i] = fmt.Sprintf("%s (%d of %d children)", p, count[p], len(f.images))
	}
	return problems
}

// imageProblems compares the image m with the fixture im it was made
// from: the config must have architecture want and os linux and keep every
// other member's bytes, in order.
func imageProblems(t *testing.T, reg *testRegistry, repo string, m manifestAt, im image, want string) []string {
	t.Helper()
	var problems []string
	cfg := reg.config(t, repo, m)
	got := mustMembers(t, "config", cfg)
	old := mustMembers(t, "fixture config", im.config.data)
	if a, _ := value(got, "architecture"); a != `"`+want+`"` {
		problems = append(problems, "architecture not the index entry's")
	}
	var dropped []string
	for _, k := range unknownConfigKeys {
		if v, ok := value(got, k); !ok || v != mustValue(t, old, k) {
			dropped = append(dropped, k)
		}
	}
	switch {
	case len(dropped) > 0:
		problems = append(problems, "config keys lost: "+strings.Join(dropped, ", "))
	case !slices.Equal(without(got, platformKeys), without(old, platformKeys)):
		problems = append(problems, "config re-serialized")
	}
	return problems
}

func mustValue(t *testing.T, ms []member, key string) string {
	t.Helper()
	v, ok := value(ms, key)
	if !ok {
		t.Fatalf("fixture config lacks %q", key)
	}
	return v
}

// benchTool is one way to set the platform.
type benchTool struct {
	name string
	path string
	// buildErr is why the tool could not be built; its rows say so.
	buildErr error
}

const (
	toolOurs   = "set-image-platform"
	toolCrane  = "crane"
	toolRegctl = "regctl"
)

// measurement is one run of one tool on one copy of one fixture.
type measurement struct {
	requests []request
	wall     time.Duration
	startup  time.Duration // exec start to the first request at the registry
	verdict  string
	err      error
	// moved is, for a single image, the old manifest and config plus the
	// new ones: what a run must move at least.
	moved int64
}

func (m measurement) count(pred func(request) bool) int {
	n := 0
	for _, r := range m.requests {
		if pred(r) {
			n++
		}
	}
	return n
}

func (m measurement) tokens() int {
	return m.count(func(r request) bool { return r.Path == "/token" })
}

// payload returns the body bytes of successful registry requests, and
// those of the rest: token exchanges, tag listings and error answers.
func (m measurement) payload() (payload, other int64) {
	for _, r := range m.requests {
		// The tag listing answers the referrer look-ups: it is about the
		// repository, not the image's bytes.
		if r.Path == "/token" || strings.HasSuffix(r.Path, "/tags/list") || r.Status >= 400 {
			other += r.ReqBytes + r.RespBytes
		} else {
			payload += r.ReqBytes + r.RespBytes
		}
	}
	return payload, other
}

func (m measurement) bytes() (sent, received int64) {
	for _, r := range m.requests {
		sent += r.ReqBytes
		received += r.RespBytes
	}
	return sent, received
}

// benchEnv is what every run of one fixture shares.
type benchEnv struct {
	reg      *testRegistry
	tokens   *tokenService
	password string
	latency  time.Duration
	runs     int // copies made so far
}

// run copies f fresh, runs tool on it through the proxy and measures.
func (e *benchEnv) run(t *testing.T, f *benchFixture, tool benchTool) measurement {
	t.Helper()
	e.runs++
	src := fmt.Sprintf("run%03d/app", e.runs)
	dst := src
	if f.crossRepo {
		dst = fmt.Sprintf("run%03d/dst", e.runs)
	}
	f.copyTo(t, e.reg, src)
	home := t.TempDir()
	env := shellEnv(home)
	var args []string
	srcRef, dstRef := e.reg.ref(src+":1.0"), e.reg.ref(dst+":1.0")
	switch tool.name {
	case toolOurs:
		platform := "linux/amd64"
		if f.index != nil {
			// An index's children take their entries' platforms.
			platform = ""
		}
		tag := ""
		if f.crossRepo {
			tag = dstRef
		}
		ours, _ := actionEnv(t, home, map[string]string{
			"image": srcRef, "platform": platform, "tag": tag,
			"username": benchUser, "password": e.password,
		})
		env = append(env, ours...)
	case toolCrane:
		e.dockerLogin(t, home)
		args = []string{"mutate", "--set-platform", "linux/amd64", srcRef}
		if f.crossRepo {
			args = []string{"mutate", "--set-platform", "linux/amd64", "-t", dstRef, srcRef}
		}
	case toolRegctl:
		e.dockerLogin(t, home)
		set := []string{"registry", "set", "--tls", "disabled", "--skip-check", e.reg.proxy.host}
		if err := toolError(execTool(t, tool.path, set, env, nil)); err != nil {
			return measurement{err: fmt.Errorf("regctl registry set: %w", err)}
		}
		args = []string{"image", "mod", srcRef, "--config-platform", "linux/amd64", "--replace"}
		if f.crossRepo {
			args = []string{"image", "mod", srcRef, "--config-platform", "linux/amd64", "--create", dstRef}
		}
	default:
		t.Fatalf("unknown tool %q", tool.name)
	}

	m := e.measure(t, tool, args, env)
	if m.err != nil {
		return m
	}
	m.verdict = f.verdict(t, e.reg, src, dst)
	if f.index == nil {
		im := f.images[0]
		after := e.reg.get(t, dst+":1.0")
		newConfig := len(e.reg.config(t, dst, after))
		// The new config travels once more in the monolithic upload that
		// Distribution answers with a session (202) instead of taking it.
		m.moved = int64(len(im.manifest()) + len(im.config.data) + len(after.body) + 2*newConfig)
	}
	return m
}

// measure runs tool once and records its requests and times.
func (e *benchEnv) measure(t testing.TB, tool benchTool, args, env []string) measurement {
	t.Helper()
	e.reg.proxy.reset()
	start := time.Now()
	res, err := execTool(t, tool.path, args, env, nil)
	m := measurement{wall: time.Since(start), requests: e.reg.proxy.requests()}
	if len(m.requests) > 0 {
		// The proxy notes a request's start before its latency.
		first := slices.MinFunc(m.requests, func(a, b request) int { return a.Start.Compare(b.Start) })
		m.startup = first.Start.Sub(start)
	}
	if err := toolError(res, err); err != nil {
		m.err = fmt.Errorf("%s: %w", tool.name, err)
	}
	return m
}

// toolError is err, or an error naming the exit code and the last lines
// of output when the run failed.
func toolError(res Result, err error) error {
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("exit %d\n%s", res.ExitCode, lastLines(res.Stdout+res.Stderr, 5))
	}
	return err
}

// runOursMany sets the platform of n fresh copies of the single image f
// in one run of ours, and returns the measurement and each copy's verdict.
func (e *benchEnv) runOursMany(t *testing.T, f *benchFixture, n int) (measurement, []string) {
	t.Helper()
	var repos, refs []string
	for range n {
		e.runs++
		repo := fmt.Sprintf("run%03d/app", e.runs)
		f.copyTo(t, e.reg, repo)
		repos = append(repos, repo)
		refs = append(refs, e.reg.ref(repo+":1.0"))
	}
	home := t.TempDir()
	env, _ := actionEnv(t, home, map[string]string{
		"image": strings.Join(refs, "\n"), "platform": "linux/amd64",
		"username": benchUser, "password": e.password,
	})
	m := e.measure(t, benchTool{name: toolOurs, path: binaryPath}, nil, append(env, shellEnv(home)...))
	var verdicts []string
	if m.err == nil {
		for _, repo := range repos {
			verdicts = append(verdicts, f.verdict(t, e.reg, repo, repo))
		}
	}
	return m, verdicts
}

// dockerLogin gives crane and regctl the credentials as `docker login`
// stores them.
func (e *benchEnv) dockerLogin(t testing.TB, home string) {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(benchUser + ":" + e.password))
	writeDockerConfig(t, home, `{"auths":{"`+e.reg.proxy.host+`":{"auth":"`+auth+`"}}}`)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// row is one fixture × tool line of the table.
type row struct {
	fixture *benchFixture
	tool    benchTool
	runs    []measurement
}

func (r row) failed() error {
	if r.tool.buildErr != nil {
		return fmt.Errorf("does not build here: %w", r.tool.buildErr)
	}
	for _, m := range r.runs {
		if m.err != nil {
			return m.err
		}
	}
	return nil
}

func (r row) median(f func(measurement) time.Duration) time.Duration {
	var ds durations
	for _, m := range r.runs {
		ds = append(ds, f(m))
	}
	return ds.median()
}

func (r row) wall() time.Duration {
	return r.median(func(m measurement) time.Duration { return m.wall })
}

func (r row) startup() time.Duration {
	return r.median(func(m measurement) time.Duration { return m.startup })
}

// first is the first run, whose requests the table counts (every run of
// a tool on a fixture makes the same requests; see spread).
func (r row) first() measurement { return r.runs[0] }

// spread says whether the runs differed in their request counts.
func (r row) spread() string {
	lo, hi := len(r.runs[0].requests), len(r.runs[0].requests)
	for _, m := range r.runs {
		lo, hi = min(lo, len(m.requests)), max(hi, len(m.requests))
	}
	if lo == hi {
		return ""
	}
	return fmt.Sprintf(" (%d–%d)", lo, hi)
}

// TestBenchmarkTable sets the platform of each fixture with this project,
// crane and (with -bench-table) regctl, through a proxy that delays every
// request and puts a GHCR-like token service in front of the registry,
// and prints a table of requests, bytes and wall time. Without
// -bench-table it is the quick variant that asserts only the request
// counts, which do not depend on timing.
func TestBenchmarkTable(t *testing.T) {
	t.Parallel()
	full := *benchTable
	reps, layerMB := 1, 1
	tools := []benchTool{{name: toolOurs, path: binaryPath}, {name: toolCrane, path: cranePath}}
	if full {
		reps, layerMB = max(1, *benchReps), *benchLayerMB
		tools = append(tools, buildRegctl(t))
	}
	latency := *benchLatency
	fixtures := benchFixtures(t, layerMB)

	var mu sync.Mutex
	rows := map[string]*row{}
	t.Run("fixtures", func(t *testing.T) {
		for _, f := range fixtures {
			t.Run(f.name, func(t *testing.T) {
				if !full {
					// The quick variant asserts counts only; timing may
					// suffer from sharing the machine.
					t.Parallel()
				}
				reg := newRegistry(t, registryOptions{onDisk: true})
				f.seed(t, reg)
				env := &benchEnv{reg: reg, password: randomSecret(t), latency: latency}
				env.tokens = newTokenService(t, reg, benchUser, env.password)
				reg.proxy.setLatency(latency)
				local := map[string]*row{}
				for range reps {
					// Interleaved, so that drift on the machine hits every
					// tool alike.
					for _, tool := range tools {
						r := local[tool.name]
						if r == nil {
							r = &row{fixture: f, tool: tool}
							local[tool.name] = r
						}
						if tool.buildErr != nil {
							continue
						}
						r.runs = append(r.runs, env.run(t, f, tool))
					}
				}
				if f == fixtures[0] {
					checkOneToken(t, env, f)
				}
				mu.Lock()
				defer mu.Unlock()
				for name, r := range local {
					rows[f.name+"\x00"+name] = r
				}
			})
		}
	})
	get := func(f *benchFixture, tool string) *row { return rows[f.name+"\x00"+tool] }

	table := benchMarkdown(fixtures, tools, get, reps, latency)
	t.Logf("benchmark (latency %v per request, wall time median of %d):\n\n%s", latency, reps, table)
	if *benchOut != "" {
		if err := os.WriteFile(*benchOut, []byte(table), 0o644); err != nil {
			t.Errorf("writing %s: %v", *benchOut, err)
		}
	}
	for i, f := range fixtures {
		if r := get(f, toolOurs); r != nil && r.failed() == nil && (i == 0 || full) {
			t.Logf("requests of set-image-platform on %q:\n%s", f.name, explainRequests(r.first().requests))
		}
	}

	// Every tool this run could build must have run; only regctl may be
	// reported as not building.
	for _, f := range fixtures {
		for _, tool := range tools {
			r := get(f, tool.name)
			if r == nil {
				t.Fatalf("no row for %s × %s", f.name, tool.name)
			}
			if err := r.failed(); err != nil && tool.name != toolRegctl {
				t.Errorf("%s on %q: %v", tool.name, f.name, err)
			}
		}
	}
	if t.Failed() {
		return
	}
	checkTargets(t, fixtures, get)
	if full {
		reportTargets(t, fixtures, get)
		reportBinary(t)
	}
}

// checkTargets asserts the deterministic targets: ours leaves every
// fixture right, exchanges one token per run, makes the same requests for
// any number of layers and none naming a layer, and at 50 layers at most a
// quarter of crane's requests.
func checkTargets(t *testing.T, fixtures []*benchFixture, get func(*benchFixture, string) *row) {
	t.Helper()
	sameShape := map[string]int{}
	for _, f := range fixtures {
		ours := get(f, toolOurs)
		for _, m := range ours.runs {
			if m.verdict != "ok" {
				t.Errorf("set-image-platform on %q left %q, want ok", f.name, m.verdict)
			}
			if got := m.tokens(); got != 1 {
				t.Errorf("set-image-platform on %q: token exchanges = %d, want 1", f.name, got)
			}
			for _, im := range f.images {
				if f.crossRepo {
					break // layers are mounted, by name
				}
				for _, r := range m.requests {
					if r.names(im.layerDigests()...) {
						t.Errorf("set-image-platform on %q named a layer: %s", f.name, r)
					}
				}
			}
			if f.sameShape {
				sameShape[f.name] = len(m.requests)
			}
			if payload, _ := m.payload(); f.index == nil && payload > m.moved {
				t.Errorf("set-image-platform on %q moved %d body bytes, want at most the old and new manifest and config, %d", f.name, payload, m.moved)
			}
		}
	}
	counts := map[int]bool{}
	for _, n := range sameShape {
		counts[n] = true
	}
	if len(counts) != 1 {
		t.Errorf("set-image-platform's requests differ with the layers: %v, want one count", sameShape)
	}
	fifty := fixtures[1]
	ours, crane := len(get(fifty, toolOurs).first().requests), len(get(fifty, toolCrane).first().requests)
	if 4*ours > crane {
		t.Errorf("at %q set-image-platform made %d requests, crane %d; want at most a quarter", fifty.name, ours, crane)
	}
}

// checkOneToken runs ours once on three copies of f: one token exchange
// and one ping serve the whole run, and each image costs the same requests
// as alone.
func checkOneToken(t *testing.T, env *benchEnv, f *benchFixture) {
	t.Helper()
	const n = 3
	one, _ := env.runOursMany(t, f, 1)
	many, verdicts := env.runOursMany(t, f, n)
	for _, m := range []measurement{one, many} {
		if m.err != nil {
			t.Fatalf("set-image-platform: %v", m.err)
		}
	}
	t.Logf("%d images in one run of set-image-platform: %d requests, %d token exchange(s), %v", n, len(many.requests), many.tokens(), many.wall.Round(time.Millisecond))
	if got := many.tokens(); got != 1 {
		t.Errorf("token exchanges for %d images in one run = %d, want 1", n, got)
	}
	// Ping and token are the run's, and so is the referrers API's 404
	// (Distribution has no referrers API: it is asked once per registry);
	// the rest is per image.
	if got, want := len(many.requests), 3+n*(len(one.requests)-3); got != want {
		t.Errorf("requests for %d images in one run = %d, want %d (%d for one image):\n%s", n, got, want, len(one.requests), formatRequests(many.requests))
	}
	for i, v := range verdicts {
		if v != "ok" {
			t.Errorf("image %d of %d left %q, want ok", i+1, n, v)
		}
	}
}

// reportTargets logs the timing and byte targets, met or missed and by
// how much; timing depends on the machine, so they are not asserted.
func reportTargets(t *testing.T, fixtures []*benchFixture, get func(*benchFixture, string) *row) {
	t.Helper()
	var b strings.Builder
	one, fifty, idx := fixtures[0], fixtures[1], fixtures[3]
	oursFifty, craneFifty := get(fifty, toolOurs), get(fifty, toolCrane)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	rq := float64(len(oursFifty.first().requests)) / float64(len(craneFifty.first().requests))
	fmt.Fprintf(&b, "- 50 layers, requests ≤ 1/4 of crane's: %d vs %d = %.2f, %s\n", len(oursFifty.first().requests), len(craneFifty.first().requests), rq, verdict(rq <= 0.25))
	wt := float64(oursFifty.wall()) / float64(craneFifty.wall())
	fmt.Fprintf(&b, "- 50 layers, wall ≤ 1/2 of crane's: %v vs %v = %.2f, %s\n", oursFifty.wall().Round(time.Millisecond), craneFifty.wall().Round(time.Millisecond), wt, verdict(wt <= 0.5))
	iw := float64(get(idx, toolOurs).wall()) / float64(get(one, toolOurs).wall())
	fmt.Fprintf(&b, "- 8-child index wall ≤ 2 × single image: %v vs %v = %.2f, %s\n", get(idx, toolOurs).wall().Round(time.Millisecond), get(one, toolOurs).wall().Round(time.Millisecond), iw, verdict(iw <= 2))
	for _, f := range fixtures {
		if f.index != nil {
			continue
		}
		im := f.images[0]
		old := int64(len(im.manifest()) + len(im.config.data))
		m := get(f, toolOurs).first()
		payload, other := m.payload()
		fmt.Fprintf(&b, "- %s, bytes ≤ 2 × (manifest + config) + auth: manifest and config bodies %d B = %d read + %d written (2 × %d, and %+d B of new platform keys), token exchange and error bodies %d B, %s\n",
			f.name, payload, old, m.moved-old, old, m.moved-2*old, other, verdict(payload <= m.moved))
	}
	fmt.Fprintf(&b, "- start → first request (1 layer, median): %v\n", get(one, toolOurs).startup().Round(time.Millisecond))
	t.Logf("targets:\n%s", b.String())
}

// reportBinary logs the size of the binary as the release builds it.
func reportBinary(t *testing.T) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "set-image-platform")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("building the release binary: %v\n%s", err, b)
		return
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binary size (go build -trimpath -ldflags='-s -w'): %d bytes (%.1f MiB)", fi.Size(), float64(fi.Size())/(1<<20))
}

// buildRegctl builds regctl from source with the go command; a failure
// becomes the tool's buildErr.
func buildRegctl(t testing.TB) benchTool {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "install", regctlModule)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOFLAGS=")
	tool := benchTool{name: toolRegctl, path: filepath.Join(dir, "regctl")}
	if out, err := cmd.CombinedOutput(); err != nil {
		tool.buildErr = fmt.Errorf("go install %s: %w: %s", regctlModule, err, lastLines(string(out), 3))
	}
	return tool
}

func benchMarkdown(fixtures []*benchFixture, tools []benchTool, get func(*benchFixture, string) *row, reps int, latency time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| fixture | tool | requests | tokens | sent | received | wall (median of %d) | start → 1st request | requests ÷ ours | wall ÷ ours | result |\n", reps)
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, f := range fixtures {
		ours := get(f, toolOurs)
		for _, tool := range tools {
			r := get(f, tool.name)
			if err := r.failed(); err != nil {
				fmt.Fprintf(&b, "| %s | %s | | | | | | | | | %s |\n", f.name, tool.name, oneLine(err.Error()))
				continue
			}
			m := r.first()
			sent, recv := m.bytes()
			reqRatio, wallRatio := "", ""
			if ours.failed() == nil {
				reqRatio = fmt.Sprintf("%.1f×", float64(len(m.requests))/float64(len(ours.first().requests)))
				wallRatio = fmt.Sprintf("%.1f×", float64(r.wall())/float64(ours.wall()))
			}
			fmt.Fprintf(&b, "| %s | %s | %d%s | %d | %s | %s | %d ms | %d ms | %s | %s | %s |\n",
				f.name, tool.name, len(m.requests), r.spread(), m.tokens(), humanSize(sent), humanSize(recv),
				r.wall().Milliseconds(), r.startup().Milliseconds(), reqRatio, wallRatio, m.verdict)
		}
	}
	return b.String()
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "\\|")
}

func humanSize(n int64) string {
	switch {
	case n < 10<<10:
		return fmt.Sprintf("%d B", n)
	case n < 10<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// explainRequests lists requests with why a run of ours makes each.
func explainRequests(reqs []request) string {
	var b strings.Builder
	put := false
	for i, r := range reqs {
		why := "?"
		switch {
		case r.Path == "/v2/":
			why = "ping: learn how to authenticate (the token realm)"
		case r.Path == "/token":
			why = "token exchange, every scope of the run at once"
		case strings.Contains(r.Path, "/referrers/"):
			why = "referrers API: what refers to the old digest"
		case strings.HasSuffix(r.Path, "/tags/list"):
			why = "tag listing: which fallback (sha256-<hex>) and cosign (.sig/.att/.sbom) tags of the old digest exist"
		case strings.Contains(r.Path, "/manifests/sha256-"):
			why = "fallback tag (sha256-<hex>) or cosign tag (.sig/.att/.sbom) look-up for the old digest"
		case r.Method == http.MethodGet && strings.Contains(r.Path, "/manifests/"):
			why = "read the manifest"
		case r.Method == http.MethodGet && strings.Contains(r.Path, "/blobs/"):
			why = "read the config"
		case r.Method == http.MethodPost && strings.Contains(r.Path, "/blobs/uploads/"):
			why = "start the new config's upload"
		case r.Method == http.MethodPut && strings.Contains(r.Path, "/blobs/uploads/"):
			why = "finish the upload with the whole config"
		case r.Method == http.MethodPut && strings.Contains(r.Path, "/manifests/"):
			why, put = "push the manifest", true
		case r.Method == http.MethodHead && strings.Contains(r.Path, "/manifests/") && put:
			why = "read back the pushed digest"
		}
		fmt.Fprintf(&b, "  %2d. %-100s %s\n", i+1, r.String(), why)
	}
	return strings.TrimRight(b.String(), "\n")
}
