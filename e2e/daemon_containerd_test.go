package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// containerdHostEnv names a DOCKER_HOST of a real engine with the
// containerd image store (Engine 25+, the containerd snapshotter on): the
// containerd tests run against it too when set, as .ci/run sets it with
// scripts/containerd-engine.sh beside its Engine 20.10.
const containerdHostEnv = "SET_IMAGE_PLATFORM_CONTAINERD_HOST"

// containerdStore is an engine with the containerd image store that a
// test puts images into and reads back.
type containerdStore struct {
	name string
	host string // DOCKER_HOST
	// put stores im as tag and returns its image ID.
	put func(t *testing.T, tag string, im image) string
	// putIndex stores an index of im alone as tag, as a pull or a build
	// with attestations leaves an image, and returns its image ID.
	putIndex func(t *testing.T, tag string, im image) string
	// inspect is "ID os/arch" of ref, "" when the engine has no such image.
	inspect func(t *testing.T, ref string) string
	// standIn is the stand-in engine, nil for a real one.
	standIn *standInEngine
}

// containerdEngine is the real engine with the containerd image store that
// containerdHostEnv names, nil when it names none.
func containerdEngine(t *testing.T) *dockerEngine {
	t.Helper()
	host := os.Getenv(containerdHostEnv)
	if host == "" {
		return nil
	}
	cli, err := exec.LookPath("docker")
	if err != nil {
		t.Fatalf("%s is set but there is no docker CLI: %v", containerdHostEnv, err)
	}
	d := &dockerEngine{cli: cli, socket: strings.TrimPrefix(host, "unix://"), host: host}
	if got := d.must(t, "info", "--format", "{{.DriverStatus}}"); !strings.Contains(got, "io.containerd.snapshotter.v1") {
		t.Fatalf("the engine at %s=%s has no containerd image store: docker info says %s", containerdHostEnv, host, got)
	}
	return d
}

// containerdStores are the stand-in engine and, when containerdHostEnv
// names one, a real engine with the containerd store.
func containerdStores(t *testing.T) []containerdStore {
	t.Helper()
	e := newStandInEngine(t)
	stores := []containerdStore{{
		name: "stand-in", host: e.host, standIn: e,
		put:      func(t *testing.T, tag string, im image) string { return e.put(t, tag, im) },
		putIndex: func(t *testing.T, tag string, im image) string { return e.putIndex(t, tag, im) },
		inspect: func(t *testing.T, ref string) string {
			if id := e.idOf(ref); id != "" {
				return id + " " + e.platformOf(id)
			}
			return ""
		},
	}}
	d := containerdEngine(t)
	if d == nil {
		t.Logf("%s unset: the stand-in engine only", containerdHostEnv)
		return stores
	}
	return append(stores, containerdStore{
		name: "engine " + d.must(t, "version", "--format", "{{.Server.Version}}"), host: d.host,
		put: func(t *testing.T, tag string, im image) string {
			d.loadArchive(t, tag, im)
			return d.must(t, "image", "inspect", "--format", "{{.Id}}", tag)
		},
		putIndex: func(t *testing.T, tag string, im image) string {
			archive, id := indexArchive(t, tag, im)
			if res := d.run(t, nil, bytes.NewReader(archive), "load", "--quiet"); res.ExitCode != 0 {
				t.Fatalf("docker load of an index as %s: %s", tag, res)
			}
			if got := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag); got != id {
				t.Fatalf("docker image inspect %s = %s after the load of an index, want its digest %s", tag, got, id)
			}
			return id
		},
		inspect: func(t *testing.T, ref string) string {
			res := d.run(t, nil, nil, "image", "inspect", "--format", "{{.Id}} {{.Os}}/{{.Architecture}}", ref)
			if res.ExitCode != 0 {
				return ""
			}
			return strings.TrimSpace(res.Stdout)
		},
	})
}

// TestDaemonContainerdSet sets the platform of images in an engine with
// the containerd image store, through both front doors: the manifest and
// config from the save stream, the config patched and the manifest
// re-pointed at it byte for byte, loaded back as an OCI layout of the two
// (never a layer: bytes posted under maxPosted); the digest output is the
// image ID the engine reports after the load, the new manifest's digest.
// A check, a dry run and an index load nothing.
func TestDaemonContainerdSet(t *testing.T) {
	t.Parallel()
	amd64 := platform.Platform{OS: "linux", Architecture: "amd64"}
	const repo = "example.test/daemon/containerd"
	for _, store := range containerdStores(t) {
		for _, tc := range []struct {
			name   string
			action bool
			byID   bool
			// index stores an index of the image.
			index    bool
			inputs   map[string]string
			args     []string
			wantExit int
			// reads says the run reads the save; loads that it loads the
			// fixed image.
			reads, loads bool
			wantError    []string
		}{
			{name: "action check", action: true, inputs: map[string]string{"mode": "check"}, wantExit: 1, wantError: []string{"architecture", "mode: set"}},
			{name: "action dry run", action: true, inputs: map[string]string{"platform": "linux/amd64", "dry-run": "true"}, reads: true},
			{name: "action set", action: true, inputs: map[string]string{"platform": "linux/amd64"}, reads: true, loads: true},
			{name: "cli set by ID", byID: true, args: []string{"--platform", "linux/amd64"}, reads: true, loads: true},
			{name: "action index", action: true, index: true, inputs: map[string]string{"platform": "linux/amd64"}, reads: true, wantExit: 1, wantError: []string{"index", "not wired yet"}},
		} {
			t.Run(store.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				im := daemonImage(t)
				tag := repo + ":" + strings.ToLower(randomHex(t, "", 6))
				oldID := ""
				if tc.index {
					oldID = store.putIndex(t, tag, im)
				} else {
					oldID = store.put(t, tag, im)
				}
				line := "docker-daemon:" + tag
				if tc.byID {
					line = "docker-daemon:" + oldID
				}
				p := newEngineProxy(t, &dockerEngine{socket: strings.TrimPrefix(store.host, "unix://")})
				inputs := map[string]string{"image": line}
				for k, v := range tc.inputs {
					inputs[k] = v
				}
				res := runDaemonDoor(t, tc.action, p.host, inputs, append(tc.args, line)...)
				expectExit(t, res, tc.wantExit)
				if len(tc.wantError) > 0 {
					expectErrorMentions(t, res, append([]string{line}, tc.wantError...)...)
				}

				want := []string{"GET /_ping", "GET /images/" + strings.TrimPrefix(line, "docker-daemon:") + "/json"}
				if tc.reads {
					want = append(want, "GET /info", "GET /images/"+oldID+"/get")
				}
				got := p.requests()
				newID := ""
				if tc.loads && len(got) > 0 {
					// The fixed image is asked for by its tag, or, loaded
					// untagged, by the ID the run computed.
					newID = strings.TrimSuffix(strings.TrimPrefix(got[len(got)-1], "GET /images/"), "/json")
					asked := tag
					if tc.byID {
						asked = newID
					}
					want = append(want, "POST /images/load", "GET /images/"+asked+"/json")
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("requests to the engine (-want +got):\n%s", diff)
				}
				if posted := p.postedBytes(); posted > maxPosted || !tc.loads && posted != 0 {
					t.Errorf("bytes posted to the engine = %d, want at most %d (none without a load); the layers hold %d", posted, maxPosted, layersSize(im))
				}
				t.Logf("bytes posted: %d (layers %d bytes)", p.postedBytes(), layersSize(im))

				tagNow := store.inspect(t, tag)
				switch {
				case tc.loads && !tc.byID:
					newID, _, _ = strings.Cut(tagNow, " ")
					if tagNow != newID+" linux/amd64" || newID == oldID {
						t.Errorf("the engine's %s after the set = %q, want a new image ID and linux/amd64", tag, tagNow)
					}
				case !strings.HasPrefix(tagNow, oldID+" "):
					t.Errorf("the engine's %s after the run = %q, want it left at %s", tag, tagNow, oldID)
				}
				if tc.loads {
					if got := store.inspect(t, newID); got != newID+" linux/amd64" {
						t.Errorf("the engine's %s (the fixed image) = %q, want linux/amd64", newID, got)
					}
				}
				if store.standIn != nil && tc.loads {
					// The stand-in keeps the fixture's manifest bytes: the
					// fixed one is that manifest with the config
					// re-pointed, nothing else changed.
					fixed, err := patch.SetPlatform(im.config.data, nil, amd64)
					if err != nil {
						t.Fatal(err)
					}
					if want := im.withConfig(fixed).manifestDigest(); newID != want {
						t.Errorf("image ID after the set = %s, want %s (the fixture's manifest, config re-pointed)", newID, want)
					}
				}
				if !tc.action || tc.wantExit != 0 {
					return
				}
				if got := res.Outputs["changed"]; got != "true" {
					t.Errorf("changed output = %q, want true", got)
				}
				if got := res.Outputs["previous-digest"]; got != oldID {
					t.Errorf("previous-digest output = %q, want %s", got, oldID)
				}
				switch got := res.Outputs["digest"]; {
				case tc.loads && got != newID:
					t.Errorf("digest output = %q, want %s, the ID the engine reports", got, newID)
				case got == oldID || !strings.HasPrefix(got, "sha256:"):
					t.Errorf("digest output = %q, want a new manifest digest", got)
				}
			})
		}
	}
}

// TestDaemonStore: the image store is told from GET /info as docker info
// tells it: the classic store of the real Engine 20.10, the containerd
// store of the stand-in and of a real Engine 25+ with the containerd
// snapshotter when one is given.
func TestDaemonStore(t *testing.T) {
	t.Parallel()
	_, classic := daemonClient(t)
	type engine struct {
		name string
		c    *daemon.Client
		want daemon.Store
	}
	engines := []engine{{"engine of DOCKER_HOST", classic, daemon.Classic}}
	for _, s := range containerdStores(t) {
		c, err := daemon.New(s.host)
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, engine{s.name, c, daemon.Containerd})
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.c.Store(context.Background())
			if err != nil || got != e.want {
				t.Errorf("Store(%s) = %v, %v, want %v", e.c.Host(), got, err, e.want)
			}
		})
	}
}
