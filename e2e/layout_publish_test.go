package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestLayoutPublish fixes a .cnb (or a layout) and publishes it with tag
// in one step: the registry gets the fixed image only (no request names
// the unfixed manifest or config), its layer is the file's own blob, a
// blob the registry holds already is not sent, and the file is left as
// it was.
func TestLayoutPublish(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		kind       layoutKind
		layerThere bool
	}{
		{name: "cnb", kind: layoutKinds[1]},
		{name: "cnb, layer in the registry", kind: layoutKinds[1], layerThere: true},
		{name: "layout", kind: layoutKinds[0]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			im := newLayoutImage("publish "+tc.name, "")
			layer := sha256Digest(im.layer)
			if tc.layerThere {
				if err := remote.WriteLayer(reg.parse(t, "bp:1.0").Context(), static.NewLayer(im.layer, types.OCILayer), remote.WithAuth(reg.auth)); err != nil {
					t.Fatal(err)
				}
			}
			res := runOnLayout(t, tc.kind.name, tc.kind.archive, layoutFiles([]layoutImage{im}, []string{"1.0"}),
				map[string]string{"image": tc.kind.line(), "platform": "linux/amd64", "tag": reg.ref("bp:1.0")})
			expectExit(t, res.Result, 0)
			expectNoErrors(t, res.Result)
			got := reg.get(t, "bp:1.0")
			expectOutputs(t, res.Result, imageOutputs(reg.ref("bp"), sha256Digest(im.manifest), got.digest, true, "linux/amd64"))
			if !strings.Contains(string(reg.config(t, "bp", got)), `"architecture": "amd64"`) {
				t.Errorf("published config = %s, want architecture amd64", reg.config(t, "bp", got))
			}
			if b := reg.blob(t, "bp", layer); string(b) != string(im.layer) {
				t.Errorf("published layer = %q, want the file's own %q", b, im.layer)
			}
			if rs := reg.proxy.naming(sha256Digest(im.manifest), sha256Digest(im.config)); len(rs) > 0 {
				t.Errorf("requests naming the unfixed image, want none:\n%s", formatRequests(rs))
			}
			var layerWrites []request
			for _, r := range reg.proxy.naming(layer) {
				if r.isWrite() {
					layerWrites = append(layerWrites, r)
				}
			}
			switch {
			case tc.layerThere && len(layerWrites) > 0:
				t.Errorf("the layer the registry holds was sent:\n%s", formatRequests(layerWrites))
			case !tc.layerThere && len(layerWrites) == 0:
				t.Errorf("no write named the layer, which the registry lacked:\n%s", formatRequests(reg.proxy.requests()))
			}
			res.expectUnchanged(t, "publishing")
		})
	}
}

// TestLayoutPublishCLI publishes a layout by absolute path with --tag.
func TestLayoutPublishCLI(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	dir := filepath.Join(t.TempDir(), "out")
	im := newLayoutImage("publish cli", "")
	writeLayout(t, dir, false, layoutFiles([]layoutImage{im}, []string{"1.0"}))
	res := runCLI(t, "--platform", "linux/amd64", "--tag", reg.ref("bp:1.0"), "oci:"+dir+":1.0")
	expectExit(t, res, 0)
	if got := reg.get(t, "bp:1.0"); !strings.Contains(res.Stdout, got.digest) {
		t.Errorf("stdout = %q, want the digest published, %s", res.Stdout, got.digest)
	}
}

// TestLayoutPublishReferrers publishes (or saves into another layout) a
// .cnb whose image has referrers: they stay in the .cnb with the image
// they refer to, which the run only reads, and none reaches the target
// (referrers carry re-points only within the place the image is in, as
// SPEC has it for registries). warn and carry name them with the commands
// that make them for the published digest; fail writes nothing.
func TestLayoutPublishReferrers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, policy string
		save         bool
	}{
		{name: "warn", policy: "warn"},
		{name: "carry", policy: "carry"},
		{name: "fail", policy: "fail"},
		{name: "save warn", policy: "warn", save: true},
		{name: "save fail", policy: "fail", save: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			fx := newCarryFixture("publish referrers " + tc.name)
			tag, repo := reg.ref("bp:1.0"), reg.ref("bp")
			if tc.save {
				tag, repo = "oci:saved:1.0", "oci:saved"
			}
			var before map[string]string
			var ws string
			res := runActionIn(t, func(w string) {
				ws = w
				writeLayout(t, filepath.Join(w, "bp.cnb"), true, fx.files)
				before = treeState(t, w)
			}, map[string]string{"image": "oci-archive:bp.cnb:1.0", "platform": "linux/amd64", "tag": tag, "referrers": tc.policy})
			if tc.policy == "fail" {
				expectExit(t, res, 1)
				expectErrorMentions(t, res, "oci-archive:bp.cnb:1.0", "nothing written", "3 referrers")
				expectNoWrites(t, reg.proxy)
				if diff := cmp.Diff(before, treeState(t, ws)); diff != "" {
					t.Errorf("referrers fail changed the workspace (-before +after):\n%s", diff)
				}
				return
			}
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			fx.expectInResults(t, res)
			digest := res.Outputs["digest"]
			if w := res.commandLines("warning"); len(w) != 1 || !strings.Contains(w[0], "3 referrers") || !strings.Contains(w[0], "notation sign --key <key> "+repo+"@"+digest) {
				t.Errorf("warnings = %q, want one naming 3 referrers and how to sign %s@%s", w, repo, digest)
			}
			if rs := reg.proxy.naming(sha256Digest(fx.sbom), sha256Digest(fx.nested), sha256Digest(fx.sign)); len(rs) > 0 {
				t.Errorf("requests naming a referrer, want none:\n%s", formatRequests(rs))
			}
			after := treeState(t, ws)
			for p, st := range before {
				if after[p] != st {
					t.Errorf("%s changed: %s, then %s", p, st, after[p])
				}
			}
			if tc.save {
				if got := layoutNames(t, filepath.Join(ws, "saved"), false); len(got) != 1 || got["1.0"] != digest {
					t.Errorf("saved layout names = %v, want only 1.0 at %s", got, digest)
				}
			}
		})
	}
	t.Run("cli fail", func(t *testing.T) {
		t.Parallel()
		reg := newRegistry(t, registryOptions{})
		fx := newCarryFixture("publish referrers cli")
		p := filepath.Join(t.TempDir(), "bp.cnb")
		writeLayout(t, p, true, fx.files)
		res := runCLI(t, "--platform", "linux/amd64", "--referrers", "fail", "--tag", reg.ref("bp:1.0"), "oci-archive:"+p+":1.0")
		expectExit(t, res, 1)
		expectOneCLIError(t, res, "nothing written", "3 referrers")
		expectNoWrites(t, reg.proxy)
	})
}

// TestLayoutPublishWrongLayer publishes a .cnb whose layer entry is not
// the blob its manifest names: other bytes of the same size (sent from
// the archive unread, TestLayoutPublishZeroCopy, and refused by the
// registry against the digest the upload names), or more bytes than the
// manifest says (read, not sent past its end). The run fails with one
// error naming the layer, no manifest written, the file as it was.
func TestLayoutPublishWrongLayer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		spoil func(layer []byte) []byte
	}{
		{"other bytes", func(b []byte) []byte { return []byte(strings.ToUpper(string(b))) }},
		{"longer", func(b []byte) []byte { return append(b, " and more"...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			im := newLayoutImage("wrong layer", "")
			files := layoutFiles([]layoutImage{im}, []string{"1.0"})
			layer := sha256Digest(im.layer)
			for i, f := range files {
				if f.name == "blobs/sha256/"+strings.TrimPrefix(layer, "sha256:") {
					files[i].body = tc.spoil(f.body)
				}
			}
			res := runOnLayout(t, "bp.cnb", true, files, map[string]string{"image": "oci-archive:bp.cnb", "platform": "linux/amd64", "tag": reg.ref("bp:1.0")})
			expectExit(t, res.Result, 1)
			expectErrorMentions(t, res.Result, layer)
			for _, r := range reg.proxy.requests() {
				if strings.Contains(r.Path, "/manifests/") && r.isWrite() {
					t.Errorf("a manifest was written after the layer was refused: %s", r)
				}
			}
			res.expectUnchanged(t, "publishing")
		})
	}
}
