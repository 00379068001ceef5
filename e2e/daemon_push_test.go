package e2e

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDaemonPush pushes an image of the real engine, fixed, to a registry
// tag through both front doors ("push it fixed"): the config patched byte
// for byte, a Docker v2 manifest of the save's layers as they are
// (uncompressed, their digests the diff IDs), each layer streamed from
// one save into the registry once, a blob the registry holds not sent,
// the unfixed config never named; nothing loaded into or tagged in the
// engine. A dry run gives the digest a push gives and writes nothing;
// check with a tag writes nothing; a registry that cannot be reached is
// one error before the save.
func TestDaemonPush(t *testing.T) {
	t.Parallel()
	d, _ := daemonClient(t)
	const pushed = "GET /_ping|GET /images/{name}/json|GET /info|GET /images/{id}/get"
	for _, tc := range []struct {
		name   string
		action bool
		inputs map[string]string
		args   []string
		// prior is a run before the one checked (same image, inputs
		// merged): the registry's requests are reset after it, and the
		// digest output of both must agree.
		prior map[string]string
		// asked is what the engine is asked, "|"-separated, with the
		// line's {name} and the image's {id}.
		asked    string
		wantExit int
		// wantPush says the tag holds the fixed image after the run;
		// wantWrites, when not nil, lists the registry writes.
		wantPush   bool
		wantWrites []string
		// pull pulls the pushed image into the engine after the run.
		pull      bool
		wantError []string
	}{
		{name: "action push", action: true, inputs: map[string]string{"platform": "linux/amd64"}, asked: pushed, wantPush: true, pull: true},
		{name: "action push auto", action: true, inputs: map[string]string{"platform": "auto"}, asked: "GET /_ping|GET /images/{name}/json|GET /info|GET /images/{id}/get|GET /images/{id}/get", wantPush: true},
		{name: "cli push", args: []string{"--platform", "linux/amd64"}, asked: pushed, wantPush: true},
		{name: "action dry run, then push", action: true, prior: map[string]string{"platform": "linux/amd64", "dry-run": "true"}, inputs: map[string]string{"platform": "linux/amd64"}, asked: pushed, wantPush: true},
		{name: "action rerun sends no blob", action: true, prior: map[string]string{"platform": "linux/amd64"}, inputs: map[string]string{"platform": "linux/amd64"}, asked: pushed, wantPush: true, wantWrites: []string{"PUT /v2/o/app/manifests/1"}},
		{name: "action dry run", action: true, inputs: map[string]string{"platform": "linux/amd64", "dry-run": "true"}, asked: pushed, wantWrites: []string{}},
		{name: "action check", action: true, inputs: map[string]string{"platform": "linux/amd64", "mode": "check"}, asked: "GET /_ping|GET /images/{name}/json", wantExit: 1, wantWrites: []string{}, wantError: []string{"docker-daemon:", "lacks an os or architecture"}},
		{name: "action registry unreachable", action: true, inputs: map[string]string{"platform": "linux/amd64", "tag": "127.0.0.1:1/o/app:1"}, asked: "GET /_ping|GET /images/{name}/json", wantExit: 1, wantWrites: []string{}, wantError: []string{"127.0.0.1:1/o/app:1", "connection refused"}},
		{name: "cli registry unreachable", args: []string{"--platform", "linux/amd64", "--tag", "127.0.0.1:1/o/app:1"}, asked: "GET /_ping|GET /images/{name}/json", wantExit: 1, wantWrites: []string{}, wantError: []string{"127.0.0.1:1/o/app:1", "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			repo := "example.test/daemon/push-" + strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(tc.name, ",", ""), " ", "-"))
			im := daemonImage(t)
			fx := loadDaemonFixture(t, d, repo, im, false, false)
			tag, line, fixed := fx.tag, fx.line, fx.fixed
			target := reg.ref("o/app:1")
			run := func(p *engineProxy, extra map[string]string) Result {
				inputs := map[string]string{"image": line, "tag": target}
				for k, v := range extra {
					inputs[k] = v
				}
				args := tc.args
				if !strings.Contains(strings.Join(args, " "), "--tag") {
					args = append(args, "--tag", target)
				}
				return runDaemonDoor(t, tc.action, p.host, inputs, append(args, line)...)
			}
			var priorDigest string
			if tc.prior != nil {
				res := run(newEngineProxy(t, d), tc.prior)
				expectExit(t, res, 0)
				priorDigest = res.Outputs["digest"]
				reg.proxy.reset()
			}
			before := engineImages(t, d, repo)
			p := newEngineProxy(t, d)
			res := run(p, tc.inputs)
			expectExit(t, res, tc.wantExit)
			expectDoorErrors(t, res, tc.action, tc.wantError)

			// The engine: read, never written.
			want := strings.Split(strings.NewReplacer("{name}", tag, "{id}", im.config.digest).Replace(tc.asked), "|")
			if diff := cmp.Diff(want, p.requests()); diff != "" {
				t.Errorf("requests to the engine (-want +got):\n%s", diff)
			}
			if got := p.postedBytes(); got != 0 {
				t.Errorf("bytes posted to the engine = %d, want 0", got)
			}
			if diff := cmp.Diff(before, engineImages(t, d, repo)); diff != "" {
				t.Errorf("the engine's images after the run (-before +after):\n%s", diff)
			}

			// The registry: the fixed image only, each blob once.
			if rs := reg.proxy.naming(im.config.digest); len(rs) > 0 {
				t.Errorf("requests naming the unfixed config, want none:\n%s", formatRequests(rs))
			}
			if tc.wantWrites != nil {
				expectWrites(t, reg.proxy, tc.wantWrites)
			}
			if !tc.wantPush {
				if reg.exists(t, "o/app:1") {
					t.Errorf("o/app:1 exists in the registry, want nothing pushed")
				}
				return
			}
			got := reg.get(t, "o/app:1")
			m := got.parse(t)
			var wantLayers, gotLayers []string
			for _, l := range im.layers {
				wantLayers = append(wantLayers, l.diffID)
				// The blob is the layer's tar as the engine holds it.
				// (validate.Image of go-containerregistry would gunzip
				// every layer, whatever its media type says.)
				if b := reg.blob(t, "o/app", l.diffID); sha256Digest(b) != l.diffID {
					t.Errorf("layer blob %s in the registry hashes to %s", l.diffID, sha256Digest(b))
				}
				if tc.wantWrites == nil {
					if n := countWrites(reg.proxy.naming(l.diffID)); n != 1 {
						t.Errorf("uploads of layer %s = %d, want 1:\n%s", l.diffID, n, formatRequests(reg.proxy.requests()))
					}
				}
			}
			for _, l := range m.Layers {
				gotLayers = append(gotLayers, l.Digest)
			}
			if diff := cmp.Diff(wantLayers, gotLayers); diff != "" {
				t.Errorf("layers of the pushed manifest (-want +got):\n%s", diff)
			}
			if got.mediaType != dockerManifest {
				t.Errorf("pushed manifest media type = %s, want %s", got.mediaType, dockerManifest)
			}
			if cfg := reg.config(t, "o/app", got); !bytes.Equal(cfg, fixed) {
				t.Errorf("pushed config = %s, want the engine's patched byte for byte: %s", cfg, fixed)
			}
			if priorDigest != "" && priorDigest != got.digest {
				t.Errorf("digest output of the prior run = %s, want what the push gave, %s", priorDigest, got.digest)
			}
			if tc.pull {
				// docker pull takes the uncompressed layers, and the image
				// it makes has the fixed config's digest for ID: the
				// config went byte for byte.
				pulled := reg.direct("o/app@" + got.digest)
				t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", pulled) })
				d.must(t, "pull", "--quiet", pulled)
				if id := d.must(t, "image", "inspect", "--format", "{{.Id}} {{.Os}}/{{.Architecture}}", pulled); id != sha256Digest(fixed)+" linux/amd64" {
					t.Errorf("docker image inspect %s = %s, want %s linux/amd64", pulled, id, sha256Digest(fixed))
				}
			}
			if !tc.action {
				if !strings.Contains(res.Stdout, got.digest) {
					t.Errorf("stdout = %q, want the digest pushed, %s", res.Stdout, got.digest)
				}
				return
			}
			expectOutputs(t, res, imageOutputs(reg.ref("o/app"), im.config.digest, got.digest, true, "linux/amd64"))
		})
	}
}

// countWrites counts the writes among rs.
func countWrites(rs []request) int {
	n := 0
	for _, r := range rs {
		if r.isWrite() {
			n++
		}
	}
	return n
}
