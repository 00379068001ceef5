package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// layoutImage is an image as builders leave it on disk: a config whose
// architecture is "" (pack buildpack package without --target), one
// layer, an OCI manifest.
type layoutImage struct {
	config, manifest, layer []byte
}

// newLayoutImage makes a layoutImage whose config's architecture is arch
// ("" as pack writes it); seed makes its bytes its own.
func newLayoutImage(seed, arch string) layoutImage {
	layer := []byte("layer of " + seed)
	return newLayoutImageWith(seed, arch, layer, "application/vnd.oci.image.layer.v1.tar", sha256Digest(layer))
}

// newLayoutImageWith is newLayoutImage with the layer blob, its media
// type and diff ID given (a layer of binaries, for platform auto).
func newLayoutImageWith(seed, arch string, layer []byte, mediaType, diffID string) layoutImage {
	config := fmt.Appendf(nil, `{"architecture": %q, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [%q]}, "config": {"Labels": {"seed": %q}}}`, arch, diffID, seed)
	manifest := fmt.Appendf(nil, `{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": %q, "size": %d},
  "layers": [{"mediaType": %q, "digest": %q, "size": %d}]
}`, sha256Digest(config), len(config), mediaType, sha256Digest(layer), len(layer))
	return layoutImage{config: config, manifest: manifest, layer: layer}
}

// dockerArchiveFiles is a docker save tar of Engine 24 and older holding
// im under tag: <config hex>.json, <id>/layer.tar, manifest.json.
func dockerArchiveFiles(im layoutImage, tag string) []layoutFile {
	id := strings.Repeat("1", 64)
	config := strings.TrimPrefix(sha256Digest(im.config), "sha256:")
	mj := fmt.Sprintf(`[{"Config":"%s.json","RepoTags":[%q],"Layers":["%s/layer.tar"]}]`, config, tag, id)
	return []layoutFile{
		{name: id + "/layer.tar", body: im.layer},
		{name: config + ".json", body: im.config},
		{name: "manifest.json", body: []byte(mj)},
	}
}

// layoutFile is a file of a layout by its name inside it.
type layoutFile struct {
	name string
	body []byte
}

// layoutFiles is an OCI image layout holding images, image i under the
// ref.name refs[i] ("" for none), index.json indented as pack writes it.
func layoutFiles(images []layoutImage, refs []string) []layoutFile {
	var entries []string
	files := []layoutFile{{name: "oci-layout", body: []byte(`{"imageLayoutVersion": "1.0.0"}`)}}
	for i, im := range images {
		e := fmt.Sprintf(`{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": %q, "size": %d`, sha256Digest(im.manifest), len(im.manifest))
		if refs[i] != "" {
			e += fmt.Sprintf(`, "annotations": {"org.opencontainers.image.ref.name": %q}`, refs[i])
		}
		entries = append(entries, e+"}")
		for _, b := range [][]byte{im.manifest, im.config, im.layer} {
			files = append(files, layoutFile{name: "blobs/sha256/" + strings.TrimPrefix(sha256Digest(b), "sha256:"), body: b})
		}
	}
	index := "{\n  \"schemaVersion\": 2,\n  \"manifests\": [\n    " + strings.Join(entries, ",\n    ") + "\n  ]\n}\n"
	return append(files, layoutFile{name: "index.json", body: []byte(index)})
}

// writeLayout writes files at p: a tar whose entry names start with "/"
// as pack v0.40.3 names those of a .cnb when archive, else a directory.
func writeLayout(tb testing.TB, p string, archive bool, files []layoutFile) {
	tb.Helper()
	if !archive {
		for _, f := range files {
			fp := filepath.Join(p, filepath.FromSlash(f.name))
			if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(fp, f.body, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
		return
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: "/" + f.name, Size: int64(len(f.body)), Mode: 0o644, ModTime: time.Unix(315532801, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatalf("WriteHeader(%q) = %v", hdr.Name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// treeState is every file under root (a directory, or one file) with its
// digest, mode and modification time: what a run that writes nothing
// leaves exactly as it was. The action's results file, which it writes
// into the workspace by design, is left out.
func treeState(tb testing.TB, root string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[p] = "dir " + fi.Mode().String()
			return nil
		}
		if strings.HasPrefix(d.Name(), resultsFilePrefix) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%s %v %d", sha256Digest(b), fi.Mode(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		tb.Fatalf("walking %s: %v", root, err)
	}
	return out
}

// resultsFilePrefix starts the name of the results file the action
// writes into the workspace.
const resultsFilePrefix = "set-image-platform-results-"

// readLayoutFiles reads the files of the layout at p (a directory, or a
// tar whose names may start with "/"), by their names inside it, and the
// archive's entry names in order.
func readLayoutFiles(tb testing.TB, p string, archive bool) (map[string][]byte, []string) {
	tb.Helper()
	files := map[string][]byte{}
	if !archive {
		err := filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(fp)
			rel, _ := filepath.Rel(p, fp)
			files[filepath.ToSlash(rel)] = b
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
		return files, nil
	}
	f, err := os.Open(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("reading %s: %v", p, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		names = append(names, hdr.Name)
		files[path.Clean(strings.TrimPrefix(hdr.Name, "/"))] = b
	}
	return files, names
}

// layoutPlatform reads the layout at p as a client does: index.json's
// only entry, its manifest, its config. It returns the manifest digest
// and the config's "os/architecture", and fails tb when a blob misses its
// digest.
func layoutPlatform(tb testing.TB, p string, archive bool) (digest, platform string) {
	tb.Helper()
	files, _ := readLayoutFiles(tb, p, archive)
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		tb.Fatalf("index.json of %s = %s (%v), want one entry", p, files["index.json"], err)
	}
	digest = index.Manifests[0].Digest
	var m struct{ Config struct{ Digest string } }
	if err := json.Unmarshal(layoutBlob(tb, p, files, digest), &m); err != nil {
		tb.Fatal(err)
	}
	var c struct{ OS, Architecture string }
	if err := json.Unmarshal(layoutBlob(tb, p, files, m.Config.Digest), &c); err != nil {
		tb.Fatal(err)
	}
	return digest, c.OS + "/" + c.Architecture
}

// layoutBlob is blob d of the layout at p (its files), failing tb when it
// is missing or misses its digest.
func layoutBlob(tb testing.TB, p string, files map[string][]byte, d string) []byte {
	tb.Helper()
	b, ok := files["blobs/sha256/"+strings.TrimPrefix(d, "sha256:")]
	if !ok || sha256Digest(b) != d {
		tb.Fatalf("blob %s of %s: missing or not its digest", d, p)
	}
	return b
}

// savedImage reads the image named ref in the layout at p as a client
// pulls it, every blob checked against its digest: the index.json entry
// whose ref.name is ref, its manifest and, for an index, each child's, and
// every config and layer they name. It returns the entry's digest and
// each image's config platform ("os/architecture"), in index order.
func savedImage(tb testing.TB, p string, archive bool, ref string) (digest string, platforms []string) {
	tb.Helper()
	files, _ := readLayoutFiles(tb, p, archive)
	digest, ok := layoutNames(tb, p, archive)[ref]
	if !ok {
		tb.Fatalf("index.json of %s = %s, want an entry named %q", p, files["index.json"], ref)
	}
	var walk func(d string)
	walk = func(d string) {
		var m struct {
			Manifests []struct{ Digest string }
			Config    *struct{ Digest, MediaType string }
			Layers    []struct{ Digest string }
		}
		if err := json.Unmarshal(layoutBlob(tb, p, files, d), &m); err != nil {
			tb.Fatalf("manifest %s of %s: %v", d, p, err)
		}
		for _, c := range m.Manifests {
			walk(c.Digest)
		}
		for _, l := range m.Layers {
			layoutBlob(tb, p, files, l.Digest)
		}
		if m.Config == nil {
			return
		}
		var c struct{ OS, Architecture string }
		if err := json.Unmarshal(layoutBlob(tb, p, files, m.Config.Digest), &c); err != nil {
			tb.Fatal(err)
		}
		if strings.Contains(m.Config.MediaType, "image.config") || strings.Contains(m.Config.MediaType, "container.image") {
			platforms = append(platforms, c.OS+"/"+c.Architecture)
		}
	}
	walk(digest)
	return digest, platforms
}

// runActionIn runs the binary as runAction does, with the workspace
// prepared by setup first (which gets its path).
func runActionIn(tb testing.TB, setup func(workspace string), inputs map[string]string) Result {
	tb.Helper()
	res := runActionSetup(tb, setup, inputs)
	tb.Logf("action run: %s", res)
	return res
}

// layoutRun is a run of the action on a workspace holding one layout or
// archive: the workspace, and its state before the run.
type layoutRun struct {
	Result
	workspace string
	before    map[string]string
}

// runOnLayout writes files as name in a fresh workspace (a tar when
// archive; nothing when files is nil), notes its state, and runs the
// action there with inputs.
func runOnLayout(tb testing.TB, name string, archive bool, files []layoutFile, inputs map[string]string) layoutRun {
	tb.Helper()
	var r layoutRun
	r.Result = runActionIn(tb, func(w string) {
		r.workspace = w
		if files != nil {
			writeLayout(tb, filepath.Join(w, name), archive, files)
		}
		r.before = treeState(tb, w)
	}, inputs)
	return r
}

// expectUnchanged fails tb unless the run left the workspace as it was:
// every file's bytes, mode and modification time.
func (r layoutRun) expectUnchanged(tb testing.TB, what string) {
	tb.Helper()
	if diff := cmp.Diff(r.before, treeState(tb, r.workspace)); diff != "" {
		tb.Errorf("%s changed the workspace (-before +after):\n%s", what, diff)
	}
}

// withSBOM adds to files (a layout of layoutFiles holding im) an SBOM
// artifact whose subject is im, listed in index.json after im's entry as
// oras leaves it, and returns the files and the artifact's digest.
func withSBOM(files []layoutFile, im layoutImage) ([]layoutFile, string) {
	files, art := withArtifact(files, im, "application/spdx+json", false)
	return files, sha256Digest(art)
}

// withArtifact adds to files (a layout of layoutFiles holding im) an
// artifact of artifactType whose subject is im, and returns the files and
// the artifact's manifest. It is listed in index.json last, as oras leaves
// it, or when nested by an index named sha256-<hex of im> listed there, as
// the OCI referrers tag schema has it.
func withArtifact(files []layoutFile, im layoutImage, artifactType string, nested bool) ([]layoutFile, []byte) {
	empty := []byte("{}")
	art := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":%q,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[{"mediaType":%q,"digest":%q,"size":2}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d}}`,
		artifactType, sha256Digest(empty), artifactType, sha256Digest(empty), sha256Digest(im.manifest), len(im.manifest))
	listed := art
	entry := fmt.Sprintf(`,
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": %q, "digest": %q, "size": %d}`, artifactType, sha256Digest(art), len(art))
	if nested {
		listed = fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":%q,"digest":%q,"size":%d}]}`, artifactType, sha256Digest(art), len(art))
		entry = fmt.Sprintf(`,
    {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": %q, "size": %d, "annotations": {"org.opencontainers.image.ref.name": %q}}`, sha256Digest(listed), len(listed), strings.Replace(sha256Digest(im.manifest), ":", "-", 1))
	}
	out := append([]layoutFile(nil), files[:len(files)-1]...)
	index := strings.Replace(string(files[len(files)-1].body), "\n  ]", entry+"\n  ]", 1)
	for _, b := range [][]byte{empty, art, listed} {
		f := layoutFile{name: "blobs/sha256/" + strings.TrimPrefix(sha256Digest(b), "sha256:"), body: b}
		// Each once: an archive holding a name twice is refused.
		if !slices.ContainsFunc(out, func(g layoutFile) bool { return g.name == f.name }) {
			out = append(out, f)
		}
	}
	return append(out, layoutFile{name: "index.json", body: []byte(index)}), art
}

// repointed is art, an artifact of withArtifact, with its subject the
// manifest subject: what carrying it writes.
func repointed(art []byte, was layoutImage, subject []byte) []byte {
	return bytes.Replace(art, fmt.Appendf(nil, `"digest":%q,"size":%d}}`, sha256Digest(was.manifest), len(was.manifest)), fmt.Appendf(nil, `"digest":%q,"size":%d}}`, sha256Digest(subject), len(subject)), 1)
}

// layoutEntry is an entry of a layout's index.json, as a test reads it.
type layoutEntry struct {
	Digest      string
	Platform    map[string]string
	Annotations map[string]string
}

// indexEntries reads the entries of the index.json of the layout at p.
func indexEntries(tb testing.TB, p string, archive bool) []layoutEntry {
	tb.Helper()
	files, _ := readLayoutFiles(tb, p, archive)
	var index struct{ Manifests []layoutEntry }
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		tb.Fatalf("index.json of %s: %v", p, err)
	}
	return index.Manifests
}

// layoutNames maps each org.opencontainers.image.ref.name in the
// index.json of the layout at p to the digest its entry names.
func layoutNames(tb testing.TB, p string, archive bool) map[string]string {
	tb.Helper()
	names := map[string]string{}
	for _, m := range indexEntries(tb, p, archive) {
		names[m.Annotations["org.opencontainers.image.ref.name"]] = m.Digest
	}
	return names
}

// entryPlatforms maps each org.opencontainers.image.ref.name in the
// index.json of the layout at p to its entry's digest and platform,
// "sha256:… os/architecture" ("sha256:… /" for an entry without one).
func entryPlatforms(tb testing.TB, p string, archive bool) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, m := range indexEntries(tb, p, archive) {
		out[m.Annotations["org.opencontainers.image.ref.name"]] = m.Digest + " " + m.Platform["os"] + "/" + m.Platform["architecture"]
	}
	return out
}
