package layout

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// made is the manifest a docker-archive gives for im: Docker schema 2,
// the layer by its diff ID.
func made(im img) []byte {
	return fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":%q},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":%d,"digest":%q}]}`,
		len(im.config), sha(im.config), len(im.layer), sha(im.layer))
}

func TestDockerArchiveRead(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	l := openRef(t, imageref.DockerArchive, writeArchive(t, "", dockerFiles(a)))
	ctx := context.Background()
	for _, ref := range []string{"", "app:1", "1"} {
		m, err := l.GetManifest(ctx, ref)
		if err != nil {
			t.Fatalf("GetManifest(%q) = %v", ref, err)
		}
		want := &registry.Manifest{MediaType: types.DockerManifestSchema2, Bytes: made(a), Digest: sha(made(a))}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("GetManifest(%q) mismatch (-want +got):\n%s", ref, diff)
		}
	}
	for _, blob := range [][]byte{a.config, a.layer} {
		if b, err := l.GetBlob(ctx, sha(blob), 1<<20, "blob"); err != nil || !bytes.Equal(b, blob) {
			t.Errorf("GetBlob(%s) = %q, %v, want it", sha(blob), b, err)
		}
	}
	tags, err := l.Tags(ctx)
	if diff := cmp.Diff([]string{"1"}, tags); diff != "" || err != nil {
		t.Errorf("Tags() = %v mismatch (-want +got):\n%s", err, diff)
	}
}

func TestDockerArchiveSet(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	fixed := a.fixed()
	files := dockerFiles(a)
	mj := string(files[3].body)
	tests := []struct {
		ref, want string
	}{
		{"", strings.Replace(mj, sha(a.config).Hex, sha(fixed.config).Hex, 1)},
		{"app:1", strings.Replace(mj, sha(a.config).Hex, sha(fixed.config).Hex, 1)},
		{"fixed", strings.TrimSuffix(mj, "]") + fmt.Sprintf(`,{"Config":"%s.json","RepoTags":["app:fixed"],"Layers":["%s/layer.tar"]}]`, sha(fixed.config).Hex, strings.Repeat("1", 64))},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			p := writeArchive(t, "", files)
			l := openRef(t, imageref.DockerArchive, p)
			ctx := context.Background()
			if err := l.PushBlob(ctx, sha(fixed.config), int64(len(fixed.config)), bytes.NewReader(fixed.config)); err != nil {
				t.Fatal(err)
			}
			m := &registry.Manifest{MediaType: types.DockerManifestSchema2, Bytes: made(fixed), Digest: sha(made(fixed))}
			if err := l.PutManifest(ctx, tt.ref, m.Bytes, m.MediaType); err != nil {
				t.Fatalf("PutManifest(%q) = %v", tt.ref, err)
			}
			if d, err := l.OutputDigest(m); err != nil || d != sha(fixed.config) {
				t.Errorf("OutputDigest() = %v, %v, want the config's digest %v (the image ID)", d, err, sha(fixed.config))
			}
			if err := l.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			names, bodies := readTar(t, p)
			if diff := cmp.Diff(tt.want, string(bodies["manifest.json"])); diff != "" {
				t.Errorf("manifest.json mismatch (-want +got):\n%s", diff)
			}
			if names[len(names)-1] != sha(fixed.config).Hex+".json" || !bytes.Equal(bodies[names[len(names)-1]], fixed.config) {
				t.Errorf("last entry = %q, want the new config %s.json", names[len(names)-1], sha(fixed.config).Hex)
			}
			again := openRef(t, imageref.DockerArchive, p)
			ref := tt.ref
			if ref == "" {
				ref = "app:1"
			}
			got, err := again.GetManifest(ctx, ref)
			if err != nil || !bytes.Equal(got.Bytes, made(fixed)) {
				t.Errorf("GetManifest(%q) of the rewritten archive = %v, want the fixed image", ref, err)
			}
		})
	}
}

func TestDockerArchiveRefuses(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	fixed := a.fixed()
	ctx := context.Background()
	t.Run("a layer changed", func(t *testing.T) {
		t.Parallel()
		l := openRef(t, imageref.DockerArchive, writeArchive(t, "", dockerFiles(a)))
		l.PushBlob(ctx, sha(fixed.config), int64(len(fixed.config)), bytes.NewReader(fixed.config))
		other := bytes.Replace(made(fixed), []byte(sha(a.layer).String()), []byte(sha([]byte("x")).String()), 1)
		if err := l.PutManifest(ctx, "", other, types.DockerManifestSchema2); err == nil || !strings.Contains(err.Error(), "not its layers") {
			t.Errorf("PutManifest(new layer) = %v, want a refusal", err)
		}
	})
	t.Run("config not pushed", func(t *testing.T) {
		t.Parallel()
		l := openRef(t, imageref.DockerArchive, writeArchive(t, "", dockerFiles(a)))
		if err := l.PutManifest(ctx, "", made(fixed), types.DockerManifestSchema2); err == nil || !strings.Contains(err.Error(), "not pushed first") {
			t.Errorf("PutManifest(config missing) = %v, want a refusal", err)
		}
	})
	t.Run("index.json as well", func(t *testing.T) {
		t.Parallel()
		l := openRef(t, imageref.DockerArchive, writeArchive(t, "", engine25Files(a)))
		m, err := l.GetManifest(ctx, "")
		if err != nil {
			t.Fatalf("GetManifest() = %v", err)
		}
		var mf v1.Manifest
		json.Unmarshal(m.Bytes, &mf)
		if mf.Layers[0].Digest != sha(a.layer) {
			t.Errorf("layer digest = %v, want the blob name's %v", mf.Layers[0].Digest, sha(a.layer))
		}
		l.PushBlob(ctx, sha(fixed.config), int64(len(fixed.config)), bytes.NewReader(fixed.config))
		if err := l.PutManifest(ctx, "", made(fixed), types.DockerManifestSchema2); err == nil || !strings.Contains(err.Error(), "name it oci-archive:") {
			t.Errorf("PutManifest() = %v, want a refusal naming oci-archive:", err)
		}
	})
}

// TestDockerArchiveLinks: docker save links a layer two images share (the
// second image's <id>/layer.tar to the first's); the link is followed
// inside the archive. A loop of links is a file not found, not a hang.
func TestDockerArchiveLinks(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	b := newImageLayer("b", a.layer)
	id1, id2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	mj := fmt.Sprintf(`[{"Config":"%s.json","RepoTags":["app:1"],"Layers":["%s/layer.tar"]},{"Config":"%s.json","RepoTags":["app:2"],"Layers":["%s/layer.tar"]}]`,
		sha(a.config).Hex, id1, sha(b.config).Hex, id2)
	files := []file{
		{name: id1 + "/layer.tar", body: a.layer},
		{name: id2 + "/layer.tar", typ: tar.TypeSymlink, link: "../" + id1 + "/layer.tar"},
		{name: sha(a.config).Hex + ".json", body: a.config},
		{name: sha(b.config).Hex + ".json", body: b.config},
		{name: "loop/a", typ: tar.TypeSymlink, link: "b"},
		{name: "loop/b", typ: tar.TypeSymlink, link: "a"},
		{name: "manifest.json", body: []byte(mj)},
	}
	l := openRef(t, imageref.DockerArchive, writeArchive(t, "", files))
	ctx := context.Background()
	m, err := l.GetManifest(ctx, "app:2")
	if err != nil || !bytes.Equal(m.Bytes, made(b)) {
		t.Fatalf("GetManifest(app:2) = %v, want the second image", err)
	}
	if got, err := l.GetBlob(ctx, sha(a.layer), 1<<20, "layer"); err != nil || !bytes.Equal(got, a.layer) {
		t.Errorf("GetBlob(layer) = %v, want the shared layer", err)
	}
	if _, err := l.readFile("loop/a", 1<<20, "loop"); !isNotFound(err) {
		t.Errorf("readFile(a link loop) = %v, want not found", err)
	}
}
