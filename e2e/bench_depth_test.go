package e2e

import (
	"flag"
	"slices"
	"testing"
	"time"
)

// depthLatency is the latency of TestBenchmarkDepth: the issue measures
// depth at 100 ms a request, and a large latency keeps requests sent
// together apart from requests sent one after another on a busy machine.
var depthLatency = flag.Duration("depth-latency", 100*time.Millisecond, "latency the proxy adds to every request in TestBenchmarkDepth")

// depthTarget is the bound on one image's wall time, in latencies
// (process start comes on top).
const depthTarget = 7.5

// TestBenchmarkDepth sets the platform of one single-layer image behind
// GHCR-like bearer tokens on two registries, and on one open to all, and
// measures how many round trips deep the run is: the longest chain of
// requests each sent after the one before it was answered. It asserts the
// chain (7 where the registry takes the config in one monolithic POST, 8
// where it answers that POST with an upload session and the PUT follows,
// 6 where no token is needed) and logs the wall time against the issue's
// target of 7.5 latencies plus process start; with -bench-table it takes
// the median of -bench-reps runs.
func TestBenchmarkDepth(t *testing.T) {
	t.Parallel()
	latency := *depthLatency
	reps := 1
	if *benchTable {
		reps = max(1, *benchReps)
	}
	registries := []struct {
		name  string
		start func(testing.TB) *testRegistry
		// trips are the requests one after another: ping, token,
		// manifest, config, upload (POST, or POST and PUT), manifest PUT
		// and its read-back, with the referrer look-ups alongside.
		trips int
		// open: no token service in front; the ping is answered 200 and
		// no token is fetched.
		open bool
	}{
		{"olareg takes a monolithic upload", newOlaregRegistry, 7, false},
		{"Distribution answers a monolithic upload with a session", func(tb testing.TB) *testRegistry { return newRegistry(tb, registryOptions{}) }, 8, false},
		{"olareg without tokens", newOlaregRegistry, 6, true},
	}
	for _, rr := range registries {
		t.Run(rr.name, func(t *testing.T) {
			t.Parallel()
			reg := rr.start(t)
			f := &benchFixture{name: "1 layer", images: []image{buildxImage(t, 1)}}
			f.seed(t, reg)
			env := &benchEnv{reg: reg, password: randomSecret(t), latency: latency}
			if !rr.open {
				env.tokens = newTokenService(t, reg, benchUser, env.password)
			}
			reg.proxy.setLatency(latency)
			r := row{fixture: f, tool: benchTool{name: toolOurs, path: binaryPath}}
			for range reps {
				m := env.run(t, f, r.tool)
				if m.err != nil {
					t.Fatal(m.err)
				}
				if m.verdict != "ok" {
					t.Fatalf("set-image-platform left %q, want ok", m.verdict)
				}
				r.runs = append(r.runs, m)
			}
			path := criticalPath(r.first().requests, latency)
			if len(path) != rr.trips {
				t.Errorf("round trips = %d, want %d; the longest chain:\n%s\nall requests:\n%s", len(path), rr.trips, formatRequests(path), formatRequests(r.first().requests))
			}
			wall, start := r.wall(), r.startup()
			verdict := "met"
			if float64(wall-start) > depthTarget*float64(latency) {
				verdict = "MISSED"
			}
			all := slices.Clone(r.first().requests)
			slices.SortStableFunc(all, func(a, b request) int { return a.Start.Compare(b.Start) })
			t.Logf("%d requests, %d round trips deep; wall %v (median of %d) = %.2f × latency, of it %v process start; target ≤ %.1f × latency + start = %v: %s\nthe requests in the order sent:\n%s\nthe longest chain:\n%s",
				len(all), len(path), wall.Round(time.Millisecond), reps, float64(wall)/float64(latency), start.Round(time.Millisecond),
				depthTarget, (time.Duration(depthTarget*float64(latency)) + start).Round(time.Millisecond), verdict, explainRequests(all), formatRequests(path))
		})
	}
}

// criticalPath is the longest chain of reqs each started after the one
// before it ended. The proxy notes an end after writing the answer, when
// the client may already have sent its next request, so "after" allows
// half the latency: requests sent together start within far less of each
// other and each ends a whole latency after it started.
func criticalPath(reqs []request, latency time.Duration) []request {
	rs := slices.Clone(reqs)
	slices.SortStableFunc(rs, func(a, b request) int { return a.Start.Compare(b.Start) })
	depth, prev := make([]int, len(rs)), make([]int, len(rs))
	last := -1
	for i, r := range rs {
		depth[i], prev[i] = 1, -1
		for j := range i {
			if rs[j].End.Before(r.Start.Add(latency/2)) && depth[j]+1 > depth[i] {
				depth[i], prev[i] = depth[j]+1, j
			}
		}
		if last < 0 || depth[i] > depth[last] {
			last = i
		}
	}
	var path []request
	for i := last; i >= 0; i = prev[i] {
		path = append(path, rs[i])
	}
	slices.Reverse(path)
	return path
}

// TestCriticalPath holds criticalPath to chains and to requests sent
// together.
func TestCriticalPath(t *testing.T) {
	t.Parallel()
	const l = 100 * time.Millisecond
	t0 := time.Unix(0, 0)
	at := func(path string, start, end time.Duration) request {
		return request{Method: "GET", Path: path, Start: t0.Add(start), End: t0.Add(end)}
	}
	tests := []struct {
		name string
		reqs []request
		want []string
	}{
		{"none", nil, nil},
		{"one after another", []request{at("/a", 0, l), at("/b", l, 2*l), at("/c", 2*l, 3*l)}, []string{"/a", "/b", "/c"}},
		{"next sent before the end was noted", []request{at("/a", 0, l+time.Millisecond), at("/b", l, 2*l)}, []string{"/a", "/b"}},
		{"two together, then one", []request{at("/a", 0, l), at("/b", time.Millisecond, l+time.Millisecond), at("/c", l+2*time.Millisecond, 2*l)}, []string{"/a", "/c"}},
		{"a long side request", []request{at("/a", 0, l), at("/side", l, 4*l), at("/b", l, 2*l), at("/c", 2*l, 3*l)}, []string{"/a", "/b", "/c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range criticalPath(tt.reqs, l) {
				got = append(got, r.Path)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("criticalPath() = %v, want %v", got, tt.want)
			}
		})
	}
}
