package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// indexBenchLatency is what the proxy adds to every request, as a registry
// across a network does.
const indexBenchLatency = 20 * time.Millisecond

// eightPlatforms are the platforms of the 8-child indexes of the
// benchmarks, in order.
var eightPlatforms = []string{
	"linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v6",
	"linux/386", "linux/ppc64le", "linux/s390x", "linux/riscv64",
}

// ibFixture is what one sub-benchmark sets the platform of: an image, or
// an index of buildx children.
type ibFixture struct {
	name  string
	image image        // when index.body is nil
	index indexFixture // children's configs lack their entries' platform
}

func newIBFixture(tb testing.TB, children, layers int) ibFixture {
	tb.Helper()
	if children == 0 {
		return ibFixture{
			name:  fmt.Sprintf("image %d layers", layers),
			image: buildxChild(tb, layers, `"architecture":"",`, `"linux"`),
		}
	}
	var cs []indexChild
	for i := range children {
		cs = append(cs, indexChild{kind: imageChild, im: buildxChild(tb, layers, "", `""`), platform: eightPlatforms[i], configChanges: true})
	}
	return ibFixture{name: fmt.Sprintf("index %dx%d layers", children, layers), index: buildxIndexOf(tb, cs)}
}

// pushTo puts a fresh copy of f at repo:1.0.
func (f ibFixture) pushTo(tb testing.TB, reg *testRegistry, repo string) {
	tb.Helper()
	if f.index.body == nil {
		reg.push(tb, repo+":1.0", f.image)
		return
	}
	reg.pushIndex(tb, repo, "1.0", f.index)
}

// layers returns the digests of every layer of f.
func (f ibFixture) layers() []string {
	if f.index.body == nil {
		return f.image.layerDigests()
	}
	return f.index.layers()
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
	reg := newRegistry(b, registryOptions{})
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
			layerDigests := f.layers()
			platform := "linux/amd64"
			if f.index.body != nil {
				platform = "" // each child takes its entry's platform
			}
			var total ibResult
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				runs++
				repo := fmt.Sprintf("bench/run%d", runs)
				f.pushTo(b, reg, repo)
				reg.proxy.reset()
				reg.proxy.setLatency(indexBenchLatency)
				b.StartTimer()
				start := time.Now()
				res := runActionQuiet(b, map[string]string{"image": reg.ref(repo + ":1.0"), "platform": platform})
				total.wall += time.Since(start)
				b.StopTimer()
				reg.proxy.setLatency(0)
				if res.ExitCode != 0 || res.Outputs["changed"] != "true" {
					b.Fatalf("running the action on %s: want exit 0 and changed=true, got %s", repo, res)
				}
				for _, r := range reg.proxy.requests() {
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
