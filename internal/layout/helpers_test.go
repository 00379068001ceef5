package layout

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

// file is one file of a fixture layout, by its name in the archive.
type file struct {
	name string
	body []byte
	typ  byte   // tar type; 0 is a regular file
	link string // a link's target
}

func sha(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// img is an image built from bytes: a config with an empty architecture,
// as pack's .cnb has, one layer, and an OCI manifest.
type img struct {
	config, manifest, layer []byte
}

func newImage(seed string) img { return newImageLayer(seed, []byte("layer of "+seed)) }

// newImageLayer is newImage with the given layer.
func newImageLayer(seed string, layer []byte) img {
	config := fmt.Appendf(nil, `{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":[%q]},"config":{"Labels":{"seed":%q}}}`, sha(layer), seed)
	manifest := fmt.Appendf(nil, `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": %q, "size": %d},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": %q, "size": %d}]
}`, sha(config), len(config), sha(layer), len(layer))
	return img{config: config, manifest: manifest, layer: layer}
}

// fixed is im with architecture amd64: what the engine would write.
func (im img) fixed() img {
	config := bytes.Replace(im.config, []byte(`"architecture":""`), []byte(`"architecture":"amd64"`), 1)
	manifest := bytes.Replace(im.manifest, []byte(sha(im.config).String()), []byte(sha(config).String()), 1)
	manifest = bytes.Replace(manifest, fmt.Appendf(nil, `"size": %d}`, len(im.config)), fmt.Appendf(nil, `"size": %d}`, len(config)), 1)
	return img{config: config, manifest: manifest, layer: im.layer}
}

func (im img) blobs() []file {
	var out []file
	for _, b := range [][]byte{im.manifest, im.config, im.layer} {
		out = append(out, file{name: "blobs/sha256/" + sha(b).Hex, body: b})
	}
	return out
}

// entryJSON is an index.json entry for im named ref (none when "").
func (im img) entryJSON(ref string) string {
	s := fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d`, sha(im.manifest), len(im.manifest))
	if ref != "" {
		s += fmt.Sprintf(`,"annotations":{"org.opencontainers.image.created":"2026-01-01T00:00:00Z","org.opencontainers.image.ref.name":%q}`, ref)
	}
	return s + "}"
}

// ociFiles is a layout holding images under names (one name each, ""
// for none), index.json laid out with two-space indentation.
func ociFiles(images []img, refs []string) []file {
	index := "{\n  \"schemaVersion\": 2,\n  \"manifests\": ["
	for i, im := range images {
		if i > 0 {
			index += ","
		}
		index += "\n    " + im.entryJSON(refs[i])
	}
	index += "\n  ]\n}\n"
	files := []file{
		{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{name: "index.json", body: []byte(index)},
	}
	for _, im := range images {
		files = append(files, im.blobs()...)
	}
	return files
}

// tarBytes writes files into a tar, each name prefixed (pack writes "/").
func tarBytes(t testing.TB, prefix string, files []file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Typeflag: typ, Name: prefix + f.name, Size: int64(len(f.body)), Mode: 0o644, ModTime: time.Unix(315532801, 0)}
		hdr.Linkname = f.link
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("WriteHeader(%q) = %v", hdr.Name, err)
		}
		if typ == tar.TypeReg {
			tw.Write(f.body)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeArchive writes a tar of files into a new directory and returns its
// path.
func writeArchive(t testing.TB, prefix string, files []file) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(p, tarBytes(t, prefix, files), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeDir writes files as a layout directory and returns its path.
func writeDir(t testing.TB, files []file) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeKind writes files as a layout directory or, for an archive kind, a
// tar whose names start with prefix, and returns its path.
func writeKind(t testing.TB, kind imageref.Transport, prefix string, files []file) string {
	t.Helper()
	if kind.Archive() {
		return writeArchive(t, prefix, files)
	}
	return writeDir(t, files)
}

// openRef opens transport:path[:ref] and closes it when the test ends.
func openRef(t testing.TB, transport imageref.Transport, path string) *Layout {
	t.Helper()
	ref, err := imageref.Parse(string(transport)+":"+path, "/")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(ref)
	if err != nil {
		t.Fatalf("Open(%s) = %v", ref, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// snapshot is every file under dir with its bytes and modification time:
// what a read must leave as it was.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		if d.IsDir() {
			out[p] = "dir"
			return nil
		}
		b, _ := os.ReadFile(p)
		out[p] = fmt.Sprintf("%s %v %v", sha(b), fi.ModTime().UnixNano(), fi.Mode())
		return nil
	})
	return out
}

// readTar lists a tar's entry names and bodies, in order.
func readTar(t testing.TB, path string) (names []string, bodies map[string][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	bodies = map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		var buf bytes.Buffer
		buf.ReadFrom(tr)
		names = append(names, hdr.Name)
		bodies[hdr.Name] = buf.Bytes()
	}
	return names, bodies
}

// push writes im's new config and manifest to l under ref, as the engine
// will: the config blob, then the manifest.
func push(t testing.TB, l *Layout, ref string, im img) {
	t.Helper()
	ctx := context.Background()
	if err := l.PushBlob(ctx, sha(im.config), int64(len(im.config)), bytes.NewReader(im.config)); err != nil {
		t.Fatalf("PushBlob(config) = %v", err)
	}
	if err := l.PutManifest(ctx, ref, im.manifest, "application/vnd.oci.image.manifest.v1+json"); err != nil {
		t.Fatalf("PutManifest(%q) = %v", ref, err)
	}
}

// dockerFiles is a docker save archive of Engine 24 and older holding im
// as app:1: <hex>.json, <id>/layer.tar, manifest.json, repositories.
func dockerFiles(im img) []file {
	id := strings.Repeat("1", 64)
	mj := fmt.Sprintf(`[{"Config":"%s.json","RepoTags":["app:1"],"Layers":["%s/layer.tar"]}]`, sha(im.config).Hex, id)
	return []file{
		{name: id + "/", typ: tar.TypeDir},
		{name: id + "/layer.tar", body: im.layer},
		{name: sha(im.config).Hex + ".json", body: im.config},
		{name: "manifest.json", body: []byte(mj)},
		{name: "repositories", body: []byte(`{"app":{"1":"` + id + `"}}`)},
	}
}
