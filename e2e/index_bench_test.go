package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The shared harness (newRegistry, push, runAction) takes a *testing.T,
// which a benchmark does not have; this file has the few pieces it needs
// over testing.TB.

// indexBenchLatency is what the proxy adds to every request, as a registry
// across a network does.
const indexBenchLatency = 20 * time.Millisecond

// indexBenchPlatforms are the platforms of the 8-child index, in order.
var indexBenchPlatforms = []string{
	"linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v6",
	"linux/386", "linux/ppc64le", "linux/s390x", "linux/riscv64",
}

// ibRegistry is an in-memory Distribution registry behind a proxy that
// delays and counts every request.
type ibRegistry struct {
	host      string // the registry itself
	proxyHost string // what the binary talks to

	mu       sync.Mutex
	latency  time.Duration
	requests []request
}

func newIBRegistry(tb testing.TB) *ibRegistry {
	tb.Helper()
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory": configuration.Parameters{},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{
				"enabled": false,
			}},
		},
	}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "e2e-index-bench"
	srv := httptest.NewServer(handlers.NewApp(context.Background(), cfg))
	tb.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	r := &ibRegistry{host: u.Host}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host // upload locations lead back through the proxy
	}}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body := &countingReader{r: req.Body}
		if req.Body != nil {
			req.Body = body
		}
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		r.mu.Lock()
		latency := r.latency
		r.mu.Unlock()
		time.Sleep(latency)
		rp.ServeHTTP(cw, req)
		q, err := url.QueryUnescape(req.URL.RawQuery)
		if err != nil {
			q = req.URL.RawQuery
		}
		r.mu.Lock()
		r.requests = append(r.requests, request{Method: req.Method, Path: req.URL.Path, Query: q, Status: cw.status, ReqBytes: body.n, RespBytes: cw.n})
		r.mu.Unlock()
	}))
	tb.Cleanup(proxy.Close)
	r.proxyHost = strings.TrimPrefix(proxy.URL, "http://")
	return r
}

// start sets the latency and forgets the requests seen so far.
func (r *ibRegistry) start(latency time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency, r.requests = latency, nil
}

func (r *ibRegistry) seen() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.requests...)
}

// push uploads im's blobs and manifest straight to the registry at ref.
func (r *ibRegistry) push(tb testing.TB, ref string, im image) {
	tb.Helper()
	repo, err := name.NewRepository(r.host + "/" + strings.FieldsFunc(ref, func(c rune) bool { return c == ':' || c == '@' })[0])
	if err != nil {
		tb.Fatal(err)
	}
	for _, b := range append([]blob{im.config}, blobsOf(im.layers)...) {
		if err := remote.WriteLayer(repo, static.NewLayer(b.data, types.MediaType(b.mediaType))); err != nil {
			tb.Fatalf("pushing blob %s: %v", b.digest, err)
		}
	}
	r.put(tb, ref, im.manifest(), im.manifestType)
}

// put puts raw manifest bytes at ref straight to the registry.
func (r *ibRegistry) put(tb testing.TB, ref string, body []byte, mediaType string) {
	tb.Helper()
	parsed, err := name.ParseReference(r.host + "/" + ref)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Put(parsed, rawManifest{body: body, mediaType: mediaType}); err != nil {
		tb.Fatalf("putting manifest %s: %v", ref, err)
	}
}

func blobsOf(ls []layer) []blob {
	var bs []blob
	for _, l := range ls {
		bs = append(bs, l.blob)
	}
	return bs
}

// runIBAction runs the binary as the runner runs the action and fails tb
// unless it succeeds and changes the image.
func runIBAction(tb testing.TB, inputs map[string]string) {
	tb.Helper()
	dir := tb.TempDir()
	outputs := filepath.Join(dir, "github_output")
	if err := os.WriteFile(outputs, nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	env := []string{"GITHUB_ACTIONS=true", "CI=true", "GITHUB_OUTPUT=" + outputs, "RUNNER_TEMP=" + dir, "HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	for k, def := range actionDefaults {
		v, ok := inputs[k]
		if !ok {
			v = def
		}
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryPath)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("running the action on %s: %v\n%s", inputs["image"], err, out)
	}
	got, err := os.ReadFile(outputs)
	if err != nil {
		tb.Fatal(err)
	}
	parsed, err := parseOutputs(string(got))
	if err != nil || parsed["changed"] != "true" {
		tb.Fatalf("outputs %v (%v), want changed=true\n%s", parsed, err, out)
	}
}

// ibFixture is what one sub-benchmark sets the platform of.
type ibFixture struct {
	name     string
	children []image // the image, or the index's children
	index    []byte  // nil for a single image
	layers   int     // per image
}

func newIBFixture(tb testing.TB, children, layers int) ibFixture {
	tb.Helper()
	if children == 0 {
		return ibFixture{
			name:     fmt.Sprintf("image %d layers", layers),
			children: []image{buildxChild(tb, layers, `"architecture":"",`, `"linux"`)},
			layers:   layers,
		}
	}
	var cs []indexChild
	for i := range children {
		cs = append(cs, indexChild{kind: imageChild, im: buildxChild(tb, layers, "", `""`), platform: indexBenchPlatforms[i]})
	}
	f := ibFixture{name: fmt.Sprintf("index %dx%d layers", children, layers), index: buildxIndexOf(tb, cs).body, layers: layers}
	for _, c := range cs {
		f.children = append(f.children, c.im)
	}
	return f
}

// pushTo puts a fresh copy of f at repo:1.0.
func (f ibFixture) pushTo(tb testing.TB, reg *ibRegistry, repo string) {
	tb.Helper()
	for _, c := range f.children {
		ref := repo + "@" + c.manifestDigest()
		if f.index == nil {
			ref = repo + ":1.0"
		}
		reg.push(tb, ref, c)
	}
	if f.index != nil {
		reg.put(tb, repo+":1.0", f.index, ociIndex)
	}
}

// ibResult is the per-run average of one sub-benchmark's last round.
type ibResult struct {
	wall          time.Duration
	requests      float64
	bytes         float64
	layerRequests float64
}

// BenchmarkIndex sets the platform of an 8-child index and of a single
// image on the same registry, with 20 ms added to every request, and
// reports wall time, requests and bytes per run. The target: the
// index takes at most 2x the single image's wall time, and requests grow
// with children, never with layers (8 children x 2 layers and x 10 layers
// must make the same number of requests, and none names a layer).
func BenchmarkIndex(b *testing.B) {
	reg := newIBRegistry(b)
	fixtures := []ibFixture{
		newIBFixture(b, 0, 2),
		newIBFixture(b, 0, 10),
		newIBFixture(b, 8, 2),
		newIBFixture(b, 8, 10),
	}
	results := map[string]ibResult{}
	runs := 0
	for _, f := range fixtures {
		b.Run(f.name, func(b *testing.B) {
			var layerDigests []string
			for _, c := range f.children {
				layerDigests = append(layerDigests, c.layerDigests()...)
			}
			platform := "linux/amd64"
			if f.index != nil {
				platform = "" // each child takes its entry's platform
			}
			var total ibResult
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				runs++
				repo := fmt.Sprintf("bench/run%d", runs)
				f.pushTo(b, reg, repo)
				reg.start(indexBenchLatency)
				b.StartTimer()
				start := time.Now()
				runIBAction(b, map[string]string{"image": reg.proxyHost + "/" + repo + ":1.0", "platform": platform})
				total.wall += time.Since(start)
				b.StopTimer()
				seen := reg.seen()
				reg.start(0)
				for _, r := range seen {
					total.requests++
					total.bytes += float64(r.ReqBytes + r.RespBytes)
					if r.names(layerDigests...) {
						total.layerRequests++
					}
				}
			}
			n := float64(b.N)
			res := ibResult{wall: total.wall / time.Duration(b.N), requests: total.requests / n, bytes: total.bytes / n, layerRequests: total.layerRequests / n}
			results[f.name] = res
			b.ReportMetric(float64(res.wall.Milliseconds()), "wall-ms/op")
			b.ReportMetric(res.requests, "requests/op")
			b.ReportMetric(res.bytes, "wire-B/op")
			b.ReportMetric(res.layerRequests, "layer-requests/op")
		})
	}

	// A parent benchmark's log shows only with -v; a last sub-benchmark
	// prints the table (once: it runs again for the final b.N) and
	// reports the wall-time ratios the target is about.
	logged := false
	b.Run("summary", func(b *testing.B) {
		single := results[fixtures[0].name]
		var table strings.Builder
		fmt.Fprintf(&table, "latency %v per request, per run:\n%-20s %8s %9s %11s %15s\n", indexBenchLatency, "fixture", "wall", "requests", "wire bytes", "layer requests")
		for _, f := range fixtures {
			r := results[f.name]
			fmt.Fprintf(&table, "%-20s %8v %9.1f %11.0f %15.1f\n", f.name, r.wall.Round(time.Millisecond), r.requests, r.bytes, r.layerRequests)
		}
		for _, f := range fixtures[2:] {
			if single.wall == 0 {
				break
			}
			ratio := float64(results[f.name].wall) / float64(single.wall)
			verdict := "met"
			if ratio > 2 {
				verdict = "NOT met"
			}
			fmt.Fprintf(&table, "%s / %s wall time: %.2fx (target at most 2x: %s)\n", f.name, fixtures[0].name, ratio, verdict)
			b.ReportMetric(ratio, "x-wall-"+strings.ReplaceAll(f.name, " ", "-"))
		}
		if !logged {
			logged = true
			b.Log(strings.TrimRight(table.String(), "\n"))
		}
	})

	// Request counts do not depend on timing: hold them to the target.
	for _, pair := range [][2]int{{0, 1}, {2, 3}} {
		a, c := results[fixtures[pair[0]].name], results[fixtures[pair[1]].name]
		if a.requests != c.requests {
			b.Errorf("requests grow with layers: %s %.1f, %s %.1f", fixtures[pair[0]].name, a.requests, fixtures[pair[1]].name, c.requests)
		}
	}
	for _, f := range fixtures {
		if r := results[f.name]; r.layerRequests != 0 {
			b.Errorf("%s: %.1f requests per run name a layer, want 0", f.name, r.layerRequests)
		}
	}
}
