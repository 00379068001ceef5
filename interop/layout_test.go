package interop

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/layout"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// TestLayoutsReadBySkopeo writes, with the layout package, the fix of an
// image whose architecture is empty into every kind of layout and archive
// (as the engine will once it is wired: the config patched, the manifest
// re-pointed, index.json or manifest.json edited, an archive rewritten),
// and asks skopeo to read each result: inspect shows the platform, and a
// copy to a directory reads every blob against its digest.
func TestLayoutsReadBySkopeo(t *testing.T) {
	layer, _ := appLayer(t)
	config := fmt.Appendf(nil, `{"architecture":"","os":"linux","config":{"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[%q]}}`, sha(layer))
	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		sha(config), len(config), sha(layer), len(layer))
	hexOf := func(b []byte) string { return strings.TrimPrefix(sha(b), "sha256:") }
	oci := []layoutFile{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", fmt.Appendf(nil, "{\n  \"schemaVersion\": 2,\n  \"manifests\": [\n    {\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\", \"digest\": %q, \"size\": %d, \"annotations\": {\"io.containerd.image.name\": \"docker.io/library/app:1\", \"org.opencontainers.image.ref.name\": \"1\"}}\n  ]\n}\n", sha(manifest), len(manifest))},
		{"blobs/sha256/" + hexOf(manifest), manifest},
		{"blobs/sha256/" + hexOf(config), config},
		{"blobs/sha256/" + hexOf(layer), layer},
	}
	engine25 := append(oci[:len(oci):len(oci)], layoutFile{"manifest.json", fmt.Appendf(nil, `[{"Config":"blobs/sha256/%s","RepoTags":["app:1"],"Layers":["blobs/sha256/%s"]}]`, hexOf(config), hexOf(layer))})
	legacy := []layoutFile{
		{"0000000000000000000000000000000000000000000000000000000000000001/layer.tar", layer},
		{hexOf(config) + ".json", config},
		{"manifest.json", fmt.Appendf(nil, `[{"Config":"%s.json","RepoTags":["app:1"],"Layers":["0000000000000000000000000000000000000000000000000000000000000001/layer.tar"]}]`, hexOf(config))},
	}
	tests := []struct {
		name   string
		kind   imageref.Transport
		files  []layoutFile
		prefix string // of archive names: pack writes "/"
		ref    string // the REF written; "" for the only image
		read   []string
		copyTo string // when set, files are first copied by skopeo to this (PATH is the new file)
	}{
		{"oci in place", imageref.OCI, oci, "", "1", []string{"oci:PATH:1"}, ""},
		{"oci new tag", imageref.OCI, oci, "", "1-fixed", []string{"oci:PATH:1-fixed"}, ""},
		{"oci-archive as pack writes a .cnb", imageref.OCIArchive, oci, "/", "", []string{"oci-archive:PATH"}, ""},
		{"oci-archive", imageref.OCIArchive, oci, "", "1", []string{"oci-archive:PATH:1"}, ""},
		{"docker save of Engine 25", imageref.OCIArchive, engine25, "", "1", []string{"oci-archive:PATH:1", "docker-archive:PATH"}, ""},
		{"docker-archive", imageref.DockerArchive, legacy, "", "", []string{"docker-archive:PATH"}, ""},
		// A tag naming a layout that does not exist yet: the image saved
		// into a new one.
		{"new oci", imageref.OCI, nil, "", "1.0", []string{"oci:PATH:1.0"}, ""},
		{"new oci-archive", imageref.OCIArchive, nil, "", "1.0", []string{"oci-archive:PATH:1.0"}, ""},
		// What skopeo itself writes, read and fixed.
		{"oci by skopeo", imageref.OCI, oci, "", "1", []string{"oci:PATH:1"}, "oci:PATH:1"},
		{"oci-archive by skopeo", imageref.OCIArchive, oci, "", "1", []string{"oci-archive:PATH:1"}, "oci-archive:PATH:1"},
		{"docker-archive by skopeo", imageref.DockerArchive, oci, "", "app:1", []string{"docker-archive:PATH"}, "docker-archive:PATH:app:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p string
			if tt.files == nil {
				p = filepath.Join(t.TempDir(), "new")
				saveLayout(t, tt.kind, p, tt.ref, []byte(fixConfig(t, config)), manifest, layer)
			} else {
				p = writeLayout(t, tt.kind, tt.prefix, tt.files)
				if tt.copyTo != "" {
					src := "oci:" + writeLayout(t, imageref.OCI, "", tt.files) + ":1"
					p = filepath.Join(t.TempDir(), "copied")
					must(t, nil, "skopeo", "copy", "--quiet", src, strings.Replace(tt.copyTo, "PATH", p, 1))
				}
				fixLayout(t, tt.kind, p, tt.ref)
			}
			for _, read := range tt.read {
				expectSkopeoReads(t, strings.Replace(read, "PATH", p, 1))
			}
		})
	}
}

type layoutFile struct {
	name string
	body []byte
}

// writeLayout writes files as a directory (oci) or a tar whose names
// start with prefix, and returns its path.
func writeLayout(t *testing.T, kind imageref.Transport, prefix string, files []layoutFile) string {
	t.Helper()
	dir := t.TempDir()
	if kind == imageref.OCI {
		for _, f := range files {
			write(t, filepath.Join(dir, f.name), string(f.body), 0o644)
		}
		return dir
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: prefix + f.name, Size: int64(len(f.body)), Mode: 0o644, ModTime: time.Unix(315532801, 0)}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.body)
	}
	tw.Close()
	p := filepath.Join(dir, "image.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fixLayout sets linux/amd64 on the image at ref of the layout at p as
// the engine does: the config patched byte-faithfully, then pushed, the
// manifest re-pointed and put under ref, the archive committed. A ref
// with "fixed" in it is a new tag for the only image.
func fixLayout(t *testing.T, kind imageref.Transport, p, ref string) {
	t.Helper()
	src := ""
	if ref != "" && !strings.Contains(ref, "fixed") {
		src = ref
	}
	l := openLayout(t, kind, p, layout.Open)
	defer l.Close()
	fixImage(t, l, src, ref)
	if err := l.Commit(context.Background()); err != nil {
		t.Fatalf("Commit() = %v", err)
	}
}

// readImage reads the manifest at ref of l and its config.
func readImage(t *testing.T, l *layout.Layout, ref string) (*registry.Manifest, []byte) {
	t.Helper()
	ctx := context.Background()
	m, err := l.GetManifest(ctx, ref)
	if err != nil {
		t.Fatalf("GetManifest(%q) of %s = %v", ref, l.Name(), err)
	}
	var mf v1.Manifest
	if err := json.Unmarshal(m.Bytes, &mf); err != nil {
		t.Fatal(err)
	}
	config, err := l.GetBlob(ctx, mf.Config.Digest, registry.MaxConfigSize, "config")
	if err != nil {
		t.Fatalf("GetBlob(config) of %s = %v", l.Name(), err)
	}
	return m, config
}

// fixImage sets linux/amd64 on the image at from and puts it at to; it
// returns the manifest put.
func fixImage(t *testing.T, l *layout.Layout, from, to string) *registry.Manifest {
	t.Helper()
	ctx := context.Background()
	m, config := readImage(t, l, from)
	fixed := []byte(fixConfig(t, config))
	fd, err := v1.NewHash(sha(fixed))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PushBlob(ctx, fd, int64(len(fixed)), bytes.NewReader(fixed)); err != nil {
		t.Fatalf("PushBlob(config) = %v", err)
	}
	body, err := patch.SetDescriptor(m.Bytes, patch.Path{"config"}, sha(fixed), int64(len(fixed)))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PutManifest(ctx, to, body, m.MediaType); err != nil {
		t.Fatalf("PutManifest(%q) = %v", to, err)
	}
	return &registry.Manifest{MediaType: m.MediaType, Bytes: body}
}

// fixConfig is config with linux/amd64 set, as the engine patches it.
func fixConfig(t *testing.T, config []byte) string {
	t.Helper()
	fixed, err := patch.SetPlatform(config, nil, platform.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	return string(fixed)
}

// saveLayout writes an image (config, manifest re-pointed at it, layer)
// under ref into a layout or archive at p that does not exist yet.
func saveLayout(t *testing.T, kind imageref.Transport, p, ref string, config, manifest, layer []byte) {
	t.Helper()
	ctx := context.Background()
	l := openLayout(t, kind, p, layout.Create)
	defer l.Close()
	body, err := patch.SetDescriptor(manifest, patch.Path{"config"}, sha(config), int64(len(config)))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{layer, config} {
		d, _ := v1.NewHash(sha(b))
		if err := l.PushBlob(ctx, d, int64(len(b)), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.PutManifest(ctx, ref, body, "application/vnd.oci.image.manifest.v1+json"); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// openLayout opens the layout of kind at p with open (layout.Open or
// layout.Create).
func openLayout(t *testing.T, kind imageref.Transport, p string, open func(imageref.Reference) (*layout.Layout, error)) *layout.Layout {
	t.Helper()
	r, err := imageref.Parse(string(kind)+":"+p, "/")
	if err != nil {
		t.Fatal(err)
	}
	l, err := open(r)
	if err != nil {
		t.Fatalf("opening %s: %v", r, err)
	}
	return l
}

// TestDockerLoadsFixedArchives: what docker save writes (Engine 20.10 here:
// manifest.json only) is read and fixed by the layout package, and docker
// load takes it back: the image has the platform, and its ID is the digest
// OutputDigest reports (SPEC: the new image ID is the digest output).
func TestDockerLoadsFixedArchives(t *testing.T) {
	env := dockerEnv(t)
	layer, _ := appLayer(t)
	config := fmt.Appendf(nil, `{"architecture":"","os":"linux","config":{"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[%q]}}`, sha(layer))
	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		sha(config), len(config), sha(layer), len(layer))
	dir := filepath.Join(t.TempDir(), "src")
	saveLayout(t, imageref.OCI, dir, "1", config, manifest, layer)

	// skopeo writes a docker-archive, docker loads it and saves it again.
	skopeoTar := filepath.Join(t.TempDir(), "skopeo.tar")
	must(t, nil, "skopeo", "copy", "--quiet", "oci:"+dir+":1", "docker-archive:"+skopeoTar+":interop-layout/app:1")
	must(t, env, "docker", "load", "-i", skopeoTar)
	savedTar := filepath.Join(t.TempDir(), "saved.tar")
	must(t, env, "docker", "save", "-o", savedTar, "interop-layout/app:1")
	must(t, env, "docker", "rmi", "interop-layout/app:1")

	for name, p := range map[string]string{"docker save": savedTar, "skopeo": skopeoTar} {
		t.Run(name, func(t *testing.T) {
			id := fixDockerArchive(t, p)
			out := must(t, env, "docker", "load", "-i", p)
			t.Logf("docker load: %s", strings.TrimSpace(out))
			got := strings.Fields(must(t, env, "docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{.Id}}", "interop-layout/app:1"))
			if len(got) != 2 || got[0] != "linux/amd64" || got[1] != id {
				t.Errorf("docker image inspect after loading the fixed %s archive = %v, want linux/amd64 %s", name, got, id)
			}
			must(t, env, "docker", "rmi", "interop-layout/app:1")
		})
	}
}

// fixDockerArchive sets linux/amd64 on the only image of the docker-archive
// at p and returns the digest OutputDigest reports.
func fixDockerArchive(t *testing.T, p string) string {
	t.Helper()
	l := openLayout(t, imageref.DockerArchive, p, layout.Open)
	defer l.Close()
	id, err := l.OutputDigest(fixImage(t, l, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(context.Background()); err != nil {
		t.Fatalf("Commit() = %v", err)
	}
	return id.String()
}

// TestPackCNBFixed: the .cnb pack v0.40.3 writes with `pack buildpack
// package --format file` and no --target (architecture "") is read where
// it lies (its names start with "/": the archive's root), fixed in place,
// and then holds the config pack itself writes with --target linux/amd64,
// byte for byte; skopeo reads the result.
func TestPackCNBFixed(t *testing.T) {
	packBin := filepath.Join(t.TempDir(), "pack")
	if err := buildPack(t.TempDir(), packBin); err != nil {
		t.Fatal(err)
	}
	p := newPacker(t, packBin)
	bp := newBuildpack(t, "amd64")
	out := t.TempDir()
	cnb, target := filepath.Join(out, "hello.cnb"), filepath.Join(out, "hello-target.cnb")
	for _, args := range [][]string{{cnb}, {target, "--target", "linux/amd64"}} {
		must(t, p.env, p.path, append([]string{"buildpack", "package", args[0], "--config", filepath.Join(bp, "package.toml"), "--format", "file"}, args[1:]...)...)
	}
	f, err := os.Open(cnb)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := tar.NewReader(f).Next()
	f.Close()
	if err != nil || !strings.HasPrefix(hdr.Name, "/") {
		t.Errorf("the first entry of pack's .cnb is %v, %v; SPEC says pack v0.40.3 names entries from \"/\"", hdr, err)
	}
	before := configOf(t, cnb)
	if got := platformOf(t, before); got != "linux/" {
		t.Fatalf("pack buildpack package --format file without --target: platform %q, want linux/ (architecture empty)", got)
	}
	fixLayout(t, imageref.OCIArchive, cnb, "")
	if got, want := configOf(t, cnb), configOf(t, target); !bytes.Equal(got, want) {
		t.Errorf("config of the fixed .cnb:\n%s\nwant pack's own with --target linux/amd64:\n%s", got, want)
	}
	var cfg struct{ Architecture, OS string }
	if err := json.Unmarshal([]byte(must(t, nil, "skopeo", "inspect", "--config", "oci-archive:"+cnb)), &cfg); err != nil || cfg.OS+"/"+cfg.Architecture != "linux/amd64" {
		t.Errorf("skopeo inspect --config oci-archive:%s = %+v, %v, want linux/amd64", cnb, cfg, err)
	}
}

// configOf is the config of the only image of the oci-archive at p.
func configOf(t *testing.T, p string) []byte {
	t.Helper()
	l := openLayout(t, imageref.OCIArchive, p, layout.Open)
	defer l.Close()
	_, config := readImage(t, l, "")
	return config
}
