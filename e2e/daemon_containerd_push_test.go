package e2e

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDaemonContainerdPush pushes images of an engine with the containerd
// image store, fixed, to a registry tag through both front doors: each
// compressed layer blob streamed from the save into the registry under
// its own digest (a HEAD first; none twice), from the first read once the
// top has come by as a single manifest, else from a second read once the
// plan stands; then the patched config, the engine's manifest re-pointed
// at it byte for byte, and for an index its attestation as it was and
// the index re-pointed at the fixed image; the tag read back. The engine
// is read, never written. A dry run gives the digest a push gives and
// writes nothing; a rerun writes the manifest alone; with platform auto
// the binaries are read from a save of their own first. A push the tree
// refuses (an index of two images with a platform, an index held in
// part) fails from the first read's JSON with zero writes.
func TestDaemonContainerdPush(t *testing.T) {
	t.Parallel()
	for _, store := range containerdStores(t) {
		for _, tc := range []struct {
			name   string
			action bool
			index  bool
			// two is an index of the image and another, for linux/arm64;
			// pulled that index without the other image: a push of
			// either is refused, from the save's JSON, before any write.
			two, pulled bool
			// noBinaries is an image whose layers hold no executable:
			// auto finds no platform, which a single manifest needs.
			noBinaries bool
			wantExit   int
			wantError  []string
			inputs     map[string]string
			args       []string
			// prior is a run before the one checked (inputs merged): the
			// registry's requests are reset after it, and the digest
			// output of both must agree.
			prior map[string]string
			// wantWrites, when not nil, lists the registry writes.
			wantWrites []string
			dryRun     bool
			// auto reads the platform from the binaries first: a save of
			// its own, read up to where they settle it.
			auto bool
		}{
			{name: "action push", action: true},
			{name: "cli push", args: []string{"--platform", "linux/amd64"}},
			{name: "action push index", action: true, index: true},
			{name: "action push auto", action: true, inputs: map[string]string{"platform": "auto"}, auto: true},
			{name: "action dry run", action: true, inputs: map[string]string{"dry-run": "true"}, wantWrites: []string{}, dryRun: true},
			{name: "action rerun sends no blob", action: true, prior: map[string]string{}, wantWrites: []string{"PUT /v2/o/app/manifests/1"}},
			{name: "action index of two images", action: true, two: true, wantWrites: []string{}, wantExit: 1, wantError: []string{"a platform of linux/amd64 for an index of 2 images", "oci-archive:FILE"}},
			{name: "cli index of two images", two: true, args: []string{"--platform", "linux/amd64"}, wantWrites: []string{}, wantExit: 1, wantError: []string{"a platform of linux/amd64 for an index of 2 images", "oci-archive:FILE"}},
			{name: "action push auto, no binaries", action: true, noBinaries: true, inputs: map[string]string{"platform": "auto"}, auto: true, wantWrites: []string{}, wantExit: 1, wantError: []string{"no ELF or PE executable", `set "platform" explicitly`}},
			{name: "action index held in part", action: true, pulled: true, wantWrites: []string{}, wantExit: 1, wantError: []string{"the engine lacks it", "cannot be pushed whole"}},
		} {
			t.Run(store.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				reg := newRegistry(t, registryOptions{})
				im := daemonImage(t)
				if tc.noBinaries {
					im = binImage(`"architecture":"","os":"linux"`, randomLayers(t, 2, dockerLayer)...)
				}
				tag := "example.test/daemon/containerd-push:" + strings.ToLower(randomHex(t, "", 6))
				var oldID string
				switch {
				case tc.index:
					oldID = store.putIndex(t, tag, im)
				case tc.two || tc.pulled:
					oldID = store.putTwo(t, tag, im, binImage(`"architecture":"arm64","os":"linux"`, randomLayers(t, 1, dockerLayer)...), tc.two)
				default:
					oldID = store.put(t, tag, im)
				}
				line, target := "docker-daemon:"+tag, reg.ref("o/app:1")
				old := store.blobs(t, oldID)
				run := func(p *engineProxy, extra map[string]string) Result {
					inputs := map[string]string{"image": line, "tag": target, "platform": "linux/amd64"}
					maps.Copy(inputs, extra)
					return runDaemonDoor(t, tc.action, p.host, inputs, append(tc.args, "--tag", target, line)...)
				}
				var priorDigest string
				if tc.prior != nil {
					res := run(newEngineProxy(t, &dockerEngine{socket: strings.TrimPrefix(store.host, "unix://")}), tc.prior)
					expectExit(t, res, 0)
					priorDigest = res.Outputs["digest"]
					reg.proxy.reset()
				}
				p := newEngineProxy(t, &dockerEngine{socket: strings.TrimPrefix(store.host, "unix://")})
				res := run(p, tc.inputs)
				expectExit(t, res, tc.wantExit)
				if len(tc.wantError) > 0 {
					expectDoorErrors(t, res, tc.action, append([]string{line}, tc.wantError...))
				}

				// The engine: read once, never written.
				asked := []string{"GET /_ping", "GET /images/" + tag + "/json", "GET /info", "GET /images/" + oldID + "/get"}
				if tc.auto && !tc.noBinaries {
					// The push's own save; detect's refusal comes before it.
					asked = append(asked, "GET /images/"+oldID+"/get")
				}
				if tc.wantExit == 0 && !tc.dryRun && tc.prior == nil && layersBeforeTop(old, oldID) {
					// The layers the first read passed before it knew the
					// top for a single manifest come from a second.
					asked = append(asked, "GET /images/"+oldID+"/get")
				}
				if diff := cmp.Diff(asked, p.requests()); diff != "" {
					t.Errorf("requests to the engine (-want +got):\n%s", diff)
				}
				if got := p.postedBytes(); got != 0 {
					t.Errorf("bytes posted to the engine = %d, want 0", got)
				}
				if got := store.inspect(t, tag); !strings.HasPrefix(got, oldID+" ") {
					t.Errorf("the engine's %s after the push = %q, want it left at %s", tag, got, oldID)
				}

				if tc.wantWrites != nil {
					expectWrites(t, reg.proxy, tc.wantWrites)
				}
				if tc.wantExit != 0 {
					return
				}
				top, want := fixedTree(t, old, oldID)
				if tc.action && res.Outputs["digest"] != sha256Digest(top) {
					t.Errorf("digest output = %q, want %s, the fixed manifest's digest", res.Outputs["digest"], sha256Digest(top))
				}
				if priorDigest != "" && priorDigest != sha256Digest(top) {
					t.Errorf("digest output of the prior run = %s, want %s", priorDigest, sha256Digest(top))
				}
				if tc.dryRun {
					if reg.exists(t, "o/app:1") {
						t.Errorf("o/app:1 exists in the registry after a dry run, want nothing pushed")
					}
					return
				}
				if got := reg.get(t, "o/app:1"); !bytes.Equal(got.body, top) {
					t.Errorf("o/app:1 in the registry =\n%s\nwant the engine's, fixed byte for byte:\n%s", got.body, top)
				}
				// Every blob of the fixed tree is there, as the engine
				// holds it; each layer uploaded once, the unfixed config
				// never named.
				for _, d := range slices.Sorted(maps.Keys(want)) {
					b := want[d]
					if d == sha256Digest(top) {
						continue
					}
					var got []byte
					if shapeOf(b) != "" {
						got = reg.get(t, "o/app@"+d).body
					} else {
						got = reg.blob(t, "o/app", d)
					}
					if !bytes.Equal(got, b) {
						t.Errorf("o/app@%s in the registry = %.200q, want the engine's %.200q", d, got, b)
					}
				}
				if tc.prior != nil {
					return
				}
				for d, b := range want {
					// An upload ends in one PUT naming the digest (a small
					// blob's POST may name it too).
					puts := 0
					for _, r := range reg.proxy.naming(d) {
						if r.Method == "PUT" {
							puts++
						}
					}
					if shapeOf(b) == "" && puts != 1 {
						t.Errorf("uploads of blob %s = %d, want 1:\n%s", d, puts, formatRequests(reg.proxy.requests()))
					}
				}
				for d := range old {
					if _, kept := want[d]; !kept {
						if rs := reg.proxy.naming(d); len(rs) > 0 {
							t.Errorf("requests naming %s of the unfixed image, want none:\n%s", d, formatRequests(rs))
						}
					}
				}
			})
		}
	}
}

// layersBeforeTop says whether a save of the image ID id, whose blobs
// are old, passes a layer before it can tell that id is a single
// manifest: it writes blobs in the order of their digests, so when a
// layer's digest sorts before id's, or id is an index.
func layersBeforeTop(old map[string][]byte, id string) bool {
	index := strings.Contains(shapeOf(old[id]), "index") || strings.Contains(shapeOf(old[id]), "manifest.list")
	for d, b := range old {
		if !bytes.HasPrefix(b, []byte("{")) && (index || d < id) {
			return true
		}
	}
	return false
}
