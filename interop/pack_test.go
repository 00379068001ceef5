package interop

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// TestPackCNBFixed is issue 23's story with pack v0.40.3 and the built
// binary, run as the runner runs the action: pack writes a .cnb without
// --target (it says so with its "Pro tip", and the config says
// "architecture": ""); `mode: check` on `oci-archive:hello.cnb` fails with
// one ::error::; `platform: linux/amd64` fixes it in place, into the
// manifest and config pack itself writes with --target linux/amd64, byte
// for byte; pack packages a meta-buildpack from the fixed file; skopeo and
// podman read it; `tag:` publishes it to a registry, layers unchanged; and
// the unfixed .cnb is fixed and published in one step, the registry never
// holding (or being sent) the unfixed image; into a repository that holds
// the blobs already, that step writes the manifest only.
func TestPackCNBFixed(t *testing.T) {
	ts := buildTools(t)
	reg, rec := startRecordingRegistry(t)
	p := newPacker(t, ts.pack)
	bp := newBuildpack(t, "amd64")
	ws, out := t.TempDir(), t.TempDir() // the workspace, and pack's other files
	cnb, target, unfixed := filepath.Join(ws, "hello.cnb"), filepath.Join(out, "hello-target.cnb"), filepath.Join(ws, "unfixed.cnb")

	// 1. pack, as Paketo's package.sh runs it, and with --target.
	said := must(t, p.env, p.path, "buildpack", "package", cnb, "--config", filepath.Join(bp, "package.toml"), "--format", "file")
	if want := "Pro tip: use --target flag OR [[targets]] in buildpack.toml to specify the desired platform (os/arch/variant); using os 'linux'"; !strings.Contains(said, want) {
		t.Errorf("pack buildpack package --format file without --target said %q, want the line %q", said, want)
	}
	must(t, p.env, p.path, "buildpack", "package", target, "--config", filepath.Join(bp, "package.toml"), "--format", "file", "--target", "linux/amd64")
	if name := firstEntry(t, cnb); !strings.HasPrefix(name, "/") {
		t.Errorf("the first entry of pack's .cnb is %q; SPEC says pack v0.40.3 names entries from \"/\"", name)
	}
	if arch, ok := skopeoConfig(t, "oci-archive:"+cnb)["architecture"]; arch != "" || !ok {
		t.Fatalf("skopeo inspect --config oci-archive:%s: architecture %q (present %v), want \"\"", cnb, arch, ok)
	}
	packed := readFile(t, cnb)
	write(t, unfixed, packed, 0o644)
	unfixedDigest, wantDigest := skopeoDigest(t, "oci-archive:"+cnb), skopeoDigest(t, "oci-archive:"+target)
	unfixedConfig, wantConfig := configOf(t, cnb), configOf(t, target)

	// 2. check fails, names the image and what it lacks, writes nothing.
	before := stat(t, cnb)
	res := runAction(t, ts.tool, ws, map[string]string{"image": "oci-archive:hello.cnb", "mode": "check"})
	if errs := errorLines(res.stdout); res.exit != 1 || len(errs) != 1 || !containsAll(errs[0], "oci-archive:hello.cnb", "linux/?", "its architecture is empty", "mode: set") {
		t.Errorf("mode: check of pack's .cnb: exit %d, ::error:: lines %q, want exit 1 and one naming oci-archive:hello.cnb, linux/?, its empty architecture and mode: set", res.exit, errs)
	}
	if after := stat(t, cnb); after != before {
		t.Errorf("mode: check changed the .cnb: %v, was %v", after, before)
	}

	// 3. set in place: pack's own --target bytes.
	res = runAction(t, ts.tool, ws, map[string]string{"image": "oci-archive:hello.cnb", "platform": "linux/amd64"})
	expectStep(t, res, map[string]string{"digest": wantDigest, "image": "oci-archive:hello.cnb@" + wantDigest, "previous-digest": unfixedDigest, "changed": "true", "platform": "linux/amd64"})
	if got := configOf(t, cnb); !bytes.Equal(got, wantConfig) {
		t.Errorf("config of the fixed .cnb:\n%s\nwant pack's own with --target linux/amd64:\n%s", got, wantConfig)
	}
	if got := skopeoDigest(t, "oci-archive:"+cnb); got != wantDigest {
		t.Errorf("skopeo inspect oci-archive:%s: digest %s, want pack's own with --target linux/amd64, %s", cnb, got, wantDigest)
	}
	if name := firstEntry(t, cnb); !strings.HasPrefix(name, "/") {
		t.Errorf("the first entry of the fixed .cnb is %q, want pack's names, from \"/\", kept", name)
	}
	// The pull-request check of the fixed file passes.
	res = runAction(t, ts.tool, ws, map[string]string{"image": "oci-archive:hello.cnb", "mode": "check", "platform": "linux/amd64"})
	expectStep(t, res, map[string]string{"digest": wantDigest, "changed": "false", "platform": "linux/amd64"})

	// 4. Every client reads the file the tool wrote: skopeo (every blob
	// against its digest), podman, and pack itself, packaging a
	// meta-buildpack that depends on it by file URI.
	cfg := skopeoConfig(t, "oci-archive:"+cnb)
	if got := cfg["os"] + "/" + cfg["architecture"]; got != "linux/amd64" {
		t.Errorf("skopeo inspect --config oci-archive:%s: %s, want linux/amd64", cnb, got)
	}
	must(t, nil, "skopeo", "copy", "--quiet", "oci-archive:"+cnb, "dir:"+t.TempDir())
	expectPodmanReads(t, "oci-archive:"+cnb, sha(wantConfig))
	meta := filepath.Join(out, "meta.cnb")
	must(t, p.env, p.path, "buildpack", "package", meta, "--config", newMetaBuildpack(t, cnb), "--format", "file", "--target", "linux/amd64")
	helloLayers, metaLayers := skopeoLayers(t, "oci-archive:"+cnb), skopeoLayers(t, "oci-archive:"+meta)
	if len(helloLayers) != 1 || !slices.Contains(metaLayers, helloLayers[0]) {
		t.Errorf("pack's meta-buildpack from the fixed .cnb has layers %q, want the .cnb's own %q among them", metaLayers, helloLayers)
	}

	// 5. Publish the fixed .cnb: the config pack writes with --target, the
	// file's own layer blob. (pack's own --publish is no yardstick: it
	// writes OCI media types, 1980 times and another compression, where
	// --format file writes Docker media types and year 1.)
	rec.take()
	start := time.Now()
	res = runAction(t, ts.tool, ws, map[string]string{"image": "oci-archive:hello.cnb", "platform": "linux/amd64", "tag": reg + "/bp:1.0"})
	t.Logf("publishing the fixed .cnb: %s, requests %q", time.Since(start).Round(time.Millisecond), rec.take())
	expectStep(t, res, map[string]string{"digest": wantDigest, "image": reg + "/bp@" + wantDigest, "previous-digest": wantDigest, "changed": "false", "platform": "linux/amd64"})
	published := fetch(t, reg+"/bp:1.0")
	if !bytes.Equal(published.config, wantConfig) {
		t.Errorf("config in the registry:\n%s\nwant pack's own with --target linux/amd64:\n%s", published.config, wantConfig)
	}
	var layers []string
	for _, l := range published.parsed.Layers {
		layers = append(layers, l.Digest.String())
	}
	if !slices.Equal(layers, helloLayers) {
		t.Fatalf("layers in the registry %q, want the .cnb's own %q", layers, helloLayers)
	}
	if got, want := registryBlob(t, reg+"/bp@"+layers[0]), archiveBlob(t, cnb, layers[0]); !bytes.Equal(got, want) {
		t.Errorf("layer %s in the registry: %d bytes, sha %s; want the .cnb's own %d bytes", layers[0], len(got), sha(got), len(want))
	}

	// 6. Fix before publishing: the unfixed .cnb, fixed and published in
	// one step; nothing that names the unfixed image goes over the wire,
	// the registry does not hold it, and the file is left as pack wrote it.
	rec.take()
	start = time.Now()
	res = runAction(t, ts.tool, ws, map[string]string{"image": "oci-archive:unfixed.cnb", "platform": "linux/amd64", "tag": reg + "/bp-direct:1.0"})
	reqs := rec.take()
	t.Logf("fixing and publishing the unfixed .cnb: %s, requests %q", time.Since(start).Round(time.Millisecond), reqs)
	expectStep(t, res, map[string]string{"digest": wantDigest, "image": reg + "/bp-direct@" + wantDigest, "previous-digest": unfixedDigest, "changed": "true", "platform": "linux/amd64"})
	if rs := naming(reqs, unfixedDigest, sha(unfixedConfig)); len(rs) > 0 {
		t.Errorf("requests naming the unfixed manifest %s or config %s, want none: %q", unfixedDigest, sha(unfixedConfig), rs)
	}
	// The control: the same look finds the fixed manifest and config.
	if rs := naming(reqs, wantDigest); len(rs) == 0 {
		t.Errorf("no request named the fixed manifest %s: the recording cannot tell what was sent: %q", wantDigest, reqs)
	}
	if rs := naming(reqs, sha(wantConfig)); len(rs) == 0 {
		t.Errorf("no request named the fixed config %s: the recording cannot tell what was sent: %q", sha(wantConfig), reqs)
	}
	if got := fetch(t, reg+"/bp-direct:1.0"); got.digest != wantDigest || !bytes.Equal(got.config, wantConfig) {
		t.Errorf("bp-direct:1.0 in the registry: %s, config %s; want %s, pack's own config %s", got.digest, got.config, wantDigest, wantConfig)
	}
	for _, ref := range []string{reg + "/bp-direct@" + unfixedDigest, reg + "/bp@" + unfixedDigest} {
		if _, err := remote.Head(parseRef(t, ref)); !isNotFound(err) {
			t.Errorf("HEAD %s = %v, want 404: the registry must never hold the unfixed manifest", ref, err)
		}
	}
	expectSameFile(t, unfixed, []byte(packed))

	// 7. Again, into the repository that holds the fixed image's blobs:
	// the manifest is the only write.
	rec.take()
	res = runAction(t, ts.tool, ws, map[string]string{"image": "oci-archive:unfixed.cnb", "platform": "linux/amd64", "tag": reg + "/bp:1.1"})
	reqs = rec.take()
	expectStep(t, res, map[string]string{"digest": wantDigest, "changed": "true"})
	var writes []recorded
	for _, r := range reqs {
		if r.method != http.MethodGet && r.method != http.MethodHead {
			writes = append(writes, r)
		}
	}
	if len(writes) != 1 || !strings.HasPrefix(writes[0].String(), "PUT /v2/bp/manifests/1.1 "+wantDigest) {
		t.Errorf("publishing into a repository that holds the blobs: writes %q, want only the manifest PUT", writes)
	}
	t.Logf("publishing again where the blobs are: %d requests, %d write", len(reqs), len(writes))
}

// expectStep checks an action step that must succeed with outputs want.
func expectStep(t *testing.T, res actionRun, want map[string]string) {
	t.Helper()
	if res.exit != 0 || len(errorLines(res.stdout)) > 0 {
		t.Fatalf("action step: exit %d, ::error:: lines %q, want exit 0 and none", res.exit, errorLines(res.stdout))
	}
	for k, v := range want {
		if res.outputs[k] != v {
			t.Errorf("output %s = %q, want %q", k, res.outputs[k], v)
		}
	}
}

// newMetaBuildpack writes a meta-buildpack whose order is interop/hello
// (newBuildpack's), taken from the .cnb at dep by file URI, and returns its
// package.toml.
func newMetaBuildpack(t *testing.T, dep string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "buildpack.toml"), `api = "0.10"

[buildpack]
  id = "interop/meta"
  version = "0.0.1"

[[order]]
  [[order.group]]
    id = "interop/hello"
    version = "0.0.1"
`, 0o644)
	pkg := filepath.Join(dir, "package.toml")
	write(t, pkg, "[buildpack]\n  uri = \".\"\n\n[[dependencies]]\n  uri = \"file://"+dep+"\"\n\n[platform]\n  os = \"linux\"\n", 0o644)
	return pkg
}

// expectPodmanReads has podman pull src into a store of its own and checks
// that it holds linux/amd64 under the image ID id (the config's digest).
func expectPodmanReads(t *testing.T, src, id string) {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Error("podman is not on PATH: nothing checked that podman reads " + src)
		return
	}
	pm := podmanArgs(t)
	from := src
	if rest, ok := strings.CutPrefix(src, "oci:"); ok {
		// podman names an image pulled from oci:PATH after PATH, and
		// refuses one with upper case (a test's temporary directory): the
		// layout is read through a link of a lower-case name.
		dir, ref, _ := strings.Cut(rest, ":")
		link := filepath.Join(shortTempDir(t, "layout-"), "layout")
		if err := os.Symlink(dir, link); err != nil {
			t.Fatal(err)
		}
		from = "oci:" + link + ":" + ref
	}
	got := strings.TrimSpace(must(t, nil, "podman", append(slices.Clone(pm), "pull", "-q", from)...))
	if "sha256:"+got != id {
		t.Errorf("podman pull %s: image ID %s, want the config's digest %s", src, got, id)
	}
	if p := strings.TrimSpace(must(t, nil, "podman", append(slices.Clone(pm), "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", got)...)); p != "linux/amd64" {
		t.Errorf("podman image inspect of %s: %s, want linux/amd64", src, p)
	}
}

// skopeoConfig is the config of src as skopeo reads it, its string fields.
func skopeoConfig(t *testing.T, src string) map[string]string {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(must(t, nil, "skopeo", "inspect", "--config", src)), &raw); err != nil {
		t.Fatalf("skopeo inspect --config %s: %v", src, err)
	}
	cfg := map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			cfg[k] = s
		}
	}
	return cfg
}

// skopeoInspect is what `skopeo inspect src` says of its manifest.
func skopeoInspect(t *testing.T, src string) (digest string, layers []string) {
	t.Helper()
	var got struct {
		Digest string
		Layers []string
	}
	if err := json.Unmarshal([]byte(must(t, nil, "skopeo", "inspect", src)), &got); err != nil {
		t.Fatalf("skopeo inspect %s: %v", src, err)
	}
	return got.Digest, got.Layers
}

func skopeoDigest(t *testing.T, src string) string {
	t.Helper()
	d, _ := skopeoInspect(t, src)
	return d
}

func skopeoLayers(t *testing.T, src string) []string {
	t.Helper()
	_, l := skopeoInspect(t, src)
	return l
}

// firstEntry is the name of the first entry of the tar at p.
func firstEntry(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr, err := tar.NewReader(f).Next()
	if err != nil {
		t.Fatalf("reading %s as a tar: %v", p, err)
	}
	return hdr.Name
}

// archiveBlob is the blob of digest in the OCI layout tar at p, read
// from the tar itself (names with or without pack's leading "/").
func archiveBlob(t *testing.T, p, digest string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:")
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("finding %s in %s: %v", want, p, err)
		}
		if path.Clean(strings.TrimPrefix(hdr.Name, "/")) == want {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// registryBlob fetches the blob ref (repository@digest) from the registry.
func registryBlob(t *testing.T, ref string) []byte {
	t.Helper()
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	l, err := remote.Layer(d)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatalf("fetching %s: %v", ref, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("fetching %s: %v", ref, err)
	}
	return b
}

func parseRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// isNotFound reports whether err is the registry's 404.
func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// fileState is what a run must not change of a file: its bytes' digest
// and its modification time.
type fileState struct {
	digest string
	mtime  time.Time
}

func stat(t *testing.T, p string) fileState {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{sha([]byte(readFile(t, p))), fi.ModTime()}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
