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

// TestLayoutsReadBySkopeo has the built binary, run as the runner runs
// the action, fix an image whose architecture is empty in every kind of
// layout and archive (the config patched, the manifest re-pointed,
// index.json or manifest.json edited, an archive rewritten), and asks
// skopeo and podman to read each result: skopeo's inspect shows the
// platform and its copy to a directory reads every blob against its
// digest; podman pulls it and names it by the fixed config's digest.
func TestLayoutsReadBySkopeo(t *testing.T) {
	tool := buildTool(t)
	im := newEmptyArchImage(t)
	config, manifest, layer, oci := im.config, im.manifest, im.layer, im.oci
	tests := []struct {
		name   string
		kind   imageref.Transport
		files  []layoutFile
		prefix string // of archive names: pack writes "/"
		ref    string // the REF fixed; "" for the only image
		tag    string // the tag input
		read   []string
		copyTo string // when set, files are first copied by skopeo to this (PATH is the new file)
	}{
		{"oci in place", imageref.OCI, oci, "", "1", "", []string{"oci:PATH:1"}, ""},
		{"oci new tag", imageref.OCI, oci, "", "1", "1-fixed", []string{"oci:PATH:1-fixed"}, ""},
		{"oci-archive as pack writes a .cnb", imageref.OCIArchive, oci, "/", "", "", []string{"oci-archive:PATH"}, ""},
		{"oci-archive", imageref.OCIArchive, oci, "", "1", "", []string{"oci-archive:PATH:1"}, ""},
		{"docker save of Engine 25", imageref.OCIArchive, im.engine25, "", "1", "", []string{"oci-archive:PATH:1", "docker-archive:PATH"}, ""},
		{"docker-archive", imageref.DockerArchive, im.legacy, "", "", "", []string{"docker-archive:PATH"}, ""},
		// A tag naming a layout that does not exist yet: the image saved
		// into a new one. The binary refuses such a tag until it is wired
		// (docs/layouts.md), so the layout package writes these two.
		{"new oci", imageref.OCI, nil, "", "1.0", "", []string{"oci:PATH:1.0"}, ""},
		{"new oci-archive", imageref.OCIArchive, nil, "", "1.0", "", []string{"oci-archive:PATH:1.0"}, ""},
		// What skopeo itself writes, read and fixed.
		{"oci by skopeo", imageref.OCI, oci, "", "1", "", []string{"oci:PATH:1"}, "oci:PATH:1"},
		{"oci-archive by skopeo", imageref.OCIArchive, oci, "", "1", "", []string{"oci-archive:PATH:1"}, "oci-archive:PATH:1"},
		{"docker-archive by skopeo", imageref.DockerArchive, oci, "", "app:1", "", []string{"docker-archive:PATH"}, "docker-archive:PATH:app:1"},
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
				ws, base := filepath.Split(p)
				line := string(tt.kind) + ":" + base
				if tt.ref != "" {
					line += ":" + tt.ref
				}
				expectStep(t, runAction(t, tool, ws, map[string]string{"image": line, "platform": "linux/amd64", "tag": tt.tag}),
					map[string]string{"changed": "true", "platform": "linux/amd64"})
			}
			for _, read := range tt.read {
				src := strings.Replace(read, "PATH", p, 1)
				expectSkopeoReads(t, src)
				expectPodmanReads(t, src, sha([]byte(fixConfig(t, config))))
			}
		})
	}
}

// emptyArchImage is a one-layer image whose config's architecture is
// empty, and its files as each kind of layout or archive holds them.
type emptyArchImage struct {
	layer, config, manifest []byte
	oci                     []layoutFile // an OCI layout, under ref.name "1"
	engine25                []layoutFile // docker save of Engine 25: oci and manifest.json, tagged app:1
	legacy                  []layoutFile // docker save of Engine 24 and older, tagged app:1
}

func newEmptyArchImage(t *testing.T) emptyArchImage {
	t.Helper()
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
	return emptyArchImage{
		layer: layer, config: config, manifest: manifest, oci: oci,
		engine25: append(oci[:len(oci):len(oci)], layoutFile{"manifest.json", fmt.Appendf(nil, `[{"Config":"blobs/sha256/%s","RepoTags":["app:1"],"Layers":["blobs/sha256/%s"]}]`, hexOf(config), hexOf(layer))}),
		legacy: []layoutFile{
			{"0000000000000000000000000000000000000000000000000000000000000001/layer.tar", layer},
			{hexOf(config) + ".json", config},
			{"manifest.json", fmt.Appendf(nil, `[{"Config":"%s.json","RepoTags":["app:1"],"Layers":["0000000000000000000000000000000000000000000000000000000000000001/layer.tar"]}]`, hexOf(config))},
		},
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
// manifest.json only), skopeo's docker-archive, and a docker save of
// Engine 25 (index.json and manifest.json) are fixed in place by the built
// binary, run as the runner runs the action, and docker load takes them
// back: the image has the platform and the fixed config's digest as its ID,
// which is a docker-archive's digest output (SPEC: the new image ID is the
// digest). skopeo and podman read them by manifest.json too.
func TestDockerLoadsFixedArchives(t *testing.T) {
	tool := buildTool(t)
	env := dockerEnv(t)
	im := newEmptyArchImage(t)
	dir := filepath.Join(t.TempDir(), "src")
	saveLayout(t, imageref.OCI, dir, "1", im.config, im.manifest, im.layer)

	// skopeo writes a docker-archive, docker loads it and saves it again.
	ws := t.TempDir()
	must(t, nil, "skopeo", "copy", "--quiet", "oci:"+dir+":1", "docker-archive:"+filepath.Join(ws, "skopeo.tar")+":interop-layout/app:1")
	must(t, env, "docker", "load", "-i", filepath.Join(ws, "skopeo.tar"))
	must(t, env, "docker", "save", "-o", filepath.Join(ws, "saved.tar"), "interop-layout/app:1")
	must(t, env, "docker", "rmi", "interop-layout/app:1")

	// And the tar docker save of Engine 25 writes (index.json and
	// manifest.json), which this engine reads by its manifest.json.
	if err := os.Rename(writeLayout(t, imageref.OCIArchive, "", im.engine25), filepath.Join(ws, "engine25.tar")); err != nil {
		t.Fatal(err)
	}

	// The image ID every engine and podman give the fixed image: its
	// config's digest; for a docker-archive it is the digest output too.
	id := sha([]byte(fixConfig(t, im.config)))
	for _, tc := range []struct {
		name, file, line, loaded string
		idIsDigest               bool
	}{
		{"docker save", "saved.tar", "docker-archive:saved.tar", "interop-layout/app:1", true},
		{"skopeo", "skopeo.tar", "docker-archive:skopeo.tar", "interop-layout/app:1", true},
		{"docker save of Engine 25", "engine25.tar", "oci-archive:engine25.tar:1", "app:1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(ws, tc.file)
			res := runAction(t, tool, ws, map[string]string{"image": tc.line, "platform": "linux/amd64"})
			expectStep(t, res, map[string]string{"changed": "true", "platform": "linux/amd64"})
			if got := res.outputs["digest"]; tc.idIsDigest && got != id {
				t.Errorf("digest output for %s = %s, want the new image ID %s", tc.line, got, id)
			}
			cfg := skopeoConfig(t, "docker-archive:"+p)
			if got := cfg["os"] + "/" + cfg["architecture"]; got != "linux/amd64" {
				t.Errorf("skopeo inspect --config docker-archive:%s: %s, want linux/amd64", p, got)
			}
			expectPodmanReads(t, "docker-archive:"+p, id)
			out := must(t, env, "docker", "load", "-i", p)
			t.Logf("docker load: %s", strings.TrimSpace(out))
			got := strings.Fields(must(t, env, "docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{.Id}}", tc.loaded))
			if len(got) != 2 || got[0] != "linux/amd64" || got[1] != id {
				t.Errorf("docker image inspect after loading the fixed %s archive = %v, want linux/amd64 %s", tc.name, got, id)
			}
			must(t, env, "docker", "rmi", tc.loaded)
		})
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
