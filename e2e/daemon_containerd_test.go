package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
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
	// loadOCI docker loads an OCI layout tar that names tag and returns
	// the image ID the engine gives it, checked to be id.
	loadOCI func(t *testing.T, tag string, archive []byte, id string) string
	// blobs are the blobs of the image ID id as the engine holds them
	// (its save), by digest.
	blobs func(t *testing.T, id string) map[string][]byte
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

// putIndex stores an index of im and an attestation as tag, as a build
// with attestations leaves an image (attestedIndex), and returns its
// image ID, the index's digest.
func (s containerdStore) putIndex(t *testing.T, tag string, im image) string {
	archive, id := indexArchive(t, tag, im)
	return s.loadOCI(t, tag, archive, id)
}

// putOCI stores im as tag from an OCI layout (as docker load of what
// buildx writes leaves it: its layers as the fixture compressed them) and
// returns its image ID, the manifest's digest.
func (s containerdStore) putOCI(t *testing.T, tag string, im image) string {
	archive := ociArchive(t, tag, im.manifest(), append([][]byte{im.config.data}, layerData(im)...)...)
	return s.loadOCI(t, tag, archive, im.manifestDigest())
}

// putTwo stores an index of amd and arm, entries linux/amd64 and
// linux/arm64, as tag, as a multi-platform load leaves it, or, without
// withArm, with arm's manifest and blobs absent, as a pull of linux/amd64
// leaves it; it returns its image ID, the index's digest.
func (s containerdStore) putTwo(t *testing.T, tag string, amd, arm image, withArm bool) string {
	index := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+
		`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}},`+
		`{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"arm64","os":"linux"}}]}`,
		amd.manifestType, amd.manifestDigest(), len(amd.manifest()), arm.manifestType, arm.manifestDigest(), len(arm.manifest())))
	blobs := append([][]byte{amd.manifest(), amd.config.data}, layerData(amd)...)
	if withArm {
		blobs = append(append(blobs, arm.manifest(), arm.config.data), layerData(arm)...)
	}
	return s.loadOCI(t, tag, ociArchive(t, tag, index, blobs...), sha256Digest(index))
}

// containerdStores are the stand-in engine and, when containerdHostEnv
// names one, a real engine with the containerd store.
func containerdStores(t *testing.T) []containerdStore {
	t.Helper()
	e := newStandInEngine(t)
	stores := []containerdStore{{
		name: "stand-in", host: e.host, standIn: e,
		put:   func(t *testing.T, tag string, im image) string { return e.put(t, tag, im) },
		blobs: func(t *testing.T, id string) map[string][]byte { return e.saved(id) },
		loadOCI: func(t *testing.T, tag string, archive []byte, id string) string {
			e.putArchive(t, tag, archive)
			if got := e.idOf(tag); got != id {
				t.Fatalf("the stand-in's %s = %s after the load of an OCI layout, want %s", tag, got, id)
			}
			return id
		},
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
		loadOCI: d.loadOCI,
		blobs: func(t *testing.T, id string) map[string][]byte {
			res := d.run(t, nil, nil, "save", id)
			if res.ExitCode != 0 {
				t.Fatalf("docker save %s: %s", id, res)
			}
			out := map[string][]byte{}
			for n, b := range untar(t, []byte(res.Stdout)) {
				if hex, ok := strings.CutPrefix(n, "blobs/sha256/"); ok && hex != "" {
					out["sha256:"+hex] = b
				}
			}
			return out
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
// A check and a dry run load nothing. An index (an image and its
// attestation, as buildx leaves it) gets its image child fixed, the
// attestation kept, and the new index, child manifest and config loaded.
func TestDaemonContainerdSet(t *testing.T) {
	t.Parallel()
	amd64 := platform.Platform{OS: "linux", Architecture: "amd64"}
	const repo = "example.test/daemon/containerd"
	for _, store := range containerdStores(t) {
		for _, tc := range []struct {
			name   string
			action bool
			byID   bool
			// index stores an index of the image and an attestation;
			// two an index of the image and another, for linux/arm64;
			// pulled that index without the other image.
			index, two, pulled bool
			inputs             map[string]string
			args               []string
			wantExit           int
			// reads says the run reads the save; loads that it loads the
			// fixed image.
			reads, loads bool
			wantError    []string
		}{
			{name: "action check", action: true, inputs: map[string]string{"mode": "check"}, wantExit: 1, wantError: []string{"architecture", "mode: set"}},
			{name: "action dry run", action: true, inputs: map[string]string{"platform": "linux/amd64", "dry-run": "true"}, reads: true},
			{name: "action set", action: true, inputs: map[string]string{"platform": "linux/amd64"}, reads: true, loads: true},
			{name: "cli set by ID", byID: true, args: []string{"--platform", "linux/amd64"}, reads: true, loads: true},
			{name: "action index", action: true, index: true, inputs: map[string]string{"platform": "linux/amd64"}, reads: true, loads: true},
			{name: "cli index by ID", byID: true, index: true, args: []string{"--platform", "linux/amd64"}, reads: true, loads: true},
			{name: "action index pulled for one platform", action: true, pulled: true, inputs: map[string]string{"platform": "linux/amd64"}, reads: true, loads: true},
			{name: "action index of two images", action: true, two: true, inputs: map[string]string{"platform": "linux/amd64"}, reads: true, wantExit: 1, wantError: []string{"a platform of linux/amd64 for an index of 2 images", "oci-archive:FILE"}},
			{name: "cli index of two images", two: true, args: []string{"--platform", "linux/amd64"}, reads: true, wantExit: 1, wantError: []string{"a platform of linux/amd64 for an index of 2 images", "oci-archive:FILE"}},
		} {
			t.Run(store.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				im := daemonImage(t)
				tag := repo + ":" + strings.ToLower(randomHex(t, "", 6))
				oldID := ""
				var oldBlobs map[string][]byte
				switch {
				case tc.index:
					oldID = store.putIndex(t, tag, im)
					// The engine drops the index when the tag leaves it.
					oldBlobs = store.blobs(t, oldID)
				case tc.two || tc.pulled:
					oldID = store.putTwo(t, tag, im, binImage(`"architecture":"arm64","os":"linux"`, randomLayers(t, 1, dockerLayer)...), tc.two)
					oldBlobs = store.blobs(t, oldID)
				default:
					oldID = store.put(t, tag, im)
				}
				line := "docker-daemon:" + tag
				if tc.byID {
					line = "docker-daemon:" + oldID
				}
				p := newEngineProxy(t, &dockerEngine{socket: strings.TrimPrefix(store.host, "unix://")})
				res := runDaemonLine(t, tc.action, p.host, line, tc.inputs, tc.args, tc.wantExit, tc.wantError)

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
				if oldBlobs != nil && tc.loads {
					expectIndexFixed(t, store, oldBlobs, oldID, newID)
				}
				if store.standIn != nil && tc.loads && oldBlobs == nil {
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

// expectIndexFixed checks the index newID that a set of the attested
// index oldID (attestedIndex; old are its blobs) left in the engine: the
// tree fixedTree says, byte for byte.
func expectIndexFixed(t *testing.T, store containerdStore, old map[string][]byte, oldID, newID string) {
	t.Helper()
	top, want := fixedTree(t, old, oldID)
	if sha256Digest(top) != newID {
		t.Errorf("the engine's index after the set = %s, want %s:\n%s", newID, sha256Digest(top), top)
	}
	now := store.blobs(t, newID)
	for d, b := range want {
		if got, ok := now[d]; !ok || !bytes.Equal(got, b) {
			t.Errorf("blob %s of the fixed index = %.200s, want %.200s", d, got, b)
		}
	}
}

// fixedTree is what setting linux/amd64 makes of the engine's image id,
// whose blobs are old: its manifest, or its index's first entry (the
// image; the attestation stays as it was), with the config patched and
// re-pointed, byte for byte. It returns the new top manifest or index and
// every blob of the new tree, by digest.
func fixedTree(t *testing.T, old map[string][]byte, id string) (top []byte, blobs map[string][]byte) {
	t.Helper()
	blobs = maps.Clone(old)
	fixImage := func(d string) []byte {
		var m parsedManifest
		if err := json.Unmarshal(old[d], &m); err != nil {
			t.Fatalf("the engine's manifest %s: %v", d, err)
		}
		config, err := patch.SetPlatform(old[m.Config.Digest], nil, platform.Platform{OS: "linux", Architecture: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := patch.SetDescriptor(old[d], patch.Path{"config"}, sha256Digest(config), int64(len(config)))
		if err != nil {
			t.Fatal(err)
		}
		delete(blobs, d)
		delete(blobs, m.Config.Digest)
		blobs[sha256Digest(config)], blobs[sha256Digest(manifest)] = config, manifest
		return manifest
	}
	var idx parsedManifest
	if err := json.Unmarshal(old[id], &idx); err != nil {
		t.Fatalf("the engine's %s: %v", id, err)
	}
	if len(idx.Manifests) == 0 {
		return fixImage(id), blobs
	}
	child := fixImage(idx.Manifests[0].Digest)
	top, err := patch.SetDescriptor(old[id], patch.Path{"manifests", 0}, sha256Digest(child), int64(len(child)))
	if err != nil {
		t.Fatal(err)
	}
	delete(blobs, id)
	blobs[sha256Digest(top)] = top
	return top, blobs
}

// TestDaemonContainerdAuto reads the platform from the binaries of images
// in an engine with the containerd image store, through both front
// doors: the store asked first (GET /info), then one save by ID whose
// compressed layer blobs (gzip, zstd) stream through detection in the
// order they come, and, for a set, the manifest and config from that
// same read: one save, never two. check and dry run load nothing; an
// index (an image and its attestation) gets its image child fixed.
func TestDaemonContainerdAuto(t *testing.T) {
	t.Parallel()
	for _, store := range containerdStores(t) {
		for _, tc := range []struct {
			name   string
			action bool
			// put stores the image: store.put (docker load of a docker
			// save tar) when nil.
			put      func(s containerdStore) func(*testing.T, string, image) string
			zstd     bool
			inputs   map[string]string
			args     []string
			wantExit int
			loads    bool
			wantErr  []string
		}{
			{name: "action check", action: true, inputs: map[string]string{"mode": "check"}, wantExit: 1, wantErr: []string{"lacks an os or architecture", "platform: linux/amd64"}},
			{name: "cli dry run", args: []string{"--dry-run"}},
			{name: "action set", action: true, loads: true},
			{name: "action set zstd layer", action: true, zstd: true, put: func(s containerdStore) func(*testing.T, string, image) string { return s.putOCI }, loads: true},
			{name: "cli set index", put: func(s containerdStore) func(*testing.T, string, image) string { return s.putIndex }, loads: true},
		} {
			t.Run(store.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				im := daemonImage(t)
				if tc.zstd {
					im = binImage(`"architecture":"","os":"linux"`, append(randomLayers(t, 1, ociLayer), serverLayer(t, "hello-linux-amd64"))...)
				}
				tag := "example.test/daemon/containerd-auto:" + strings.ToLower(randomHex(t, "", 6))
				put := store.put
				if tc.put != nil {
					put = tc.put(store)
				}
				oldID := put(t, tag, im)
				line := "docker-daemon:" + tag
				p := newEngineProxy(t, &dockerEngine{socket: strings.TrimPrefix(store.host, "unix://")})
				inputs := map[string]string{"platform": "auto"}
				maps.Copy(inputs, tc.inputs)
				res := runDaemonLine(t, tc.action, p.host, line, inputs, append([]string{"--platform", "auto"}, tc.args...), tc.wantExit, tc.wantErr)
				if !strings.Contains(res.Stdout+res.Stderr, "ELF file: linux/amd64") {
					t.Errorf("the run's log names no ELF file of linux/amd64, want the evidence:\n%s", res)
				}

				want := []string{"GET /_ping", "GET /images/" + tag + "/json", "GET /info", "GET /images/" + oldID + "/get"}
				if tc.loads {
					want = append(want, "POST /images/load", "GET /images/"+tag+"/json")
				}
				if diff := cmp.Diff(want, p.requests()); diff != "" {
					t.Errorf("requests to the engine (-want +got):\n%s", diff)
				}
				if posted := p.postedBytes(); posted > maxPosted || !tc.loads && posted != 0 {
					t.Errorf("bytes posted to the engine = %d, want at most %d (none without a load)", posted, maxPosted)
				}
				now := store.inspect(t, tag)
				newID, _, _ := strings.Cut(now, " ")
				switch {
				case tc.loads && (newID == oldID || now != newID+" linux/amd64"):
					t.Errorf("the engine's %s after the set = %q, want a new image ID and linux/amd64", tag, now)
				case !tc.loads && newID != oldID:
					t.Errorf("the engine's %s after the run = %q, want it left at %s", tag, now, oldID)
				}
				if tc.action && tc.loads {
					if got := res.Outputs["digest"]; got != newID {
						t.Errorf("digest output = %q, want %s, the ID the engine reports", got, newID)
					}
				}
			})
		}
	}
}

// loadOCI docker loads the OCI layout tar archive, which names tag, and
// checks that the engine gives it the image ID id (its top manifest's or
// index's digest), which it returns.
func (d *dockerEngine) loadOCI(t *testing.T, tag string, archive []byte, id string) string {
	t.Helper()
	if res := d.run(t, nil, bytes.NewReader(archive), "load", "--quiet"); res.ExitCode != 0 {
		t.Fatalf("docker load of an OCI layout as %s: %s", tag, res)
	}
	if got := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag); got != id {
		t.Fatalf("docker image inspect %s = %s after the load of an OCI layout, want its digest %s", tag, got, id)
	}
	return id
}
