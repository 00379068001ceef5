package layout

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

// repointed is index with the entry of from moved to to: its digest and
// size replaced where they stand, every other byte as it was.
func repointed(index []byte, from, to img) []byte {
	old := fmt.Sprintf(`"digest":%q,"size":%d`, sha(from.manifest), len(from.manifest))
	now := fmt.Sprintf(`"digest":%q,"size":%d`, sha(to.manifest), len(to.manifest))
	return bytes.Replace(index, []byte(old), []byte(now), 1)
}

func indexOf(t testing.TB, files []file) []byte {
	t.Helper()
	for _, f := range files {
		if f.name == "index.json" {
			return f.body
		}
	}
	t.Fatal("no index.json")
	return nil
}

func TestDirPutManifest(t *testing.T) {
	t.Parallel()
	a, b, c := newImage("a"), newImage("b"), newImage("c")
	files := ociFiles([]img{a, b, c}, []string{"1.0", "docker.io/library/app:v1", ""})
	index := indexOf(t, files)
	tests := []struct {
		name, ref string
		from      img
		want      func() []byte
	}{
		{"re-points a full name by its tag", "v1", b, func() []byte { return repointed(index, b, b.fixed()) }},
		{"re-points a ref.name", "1.0", a, func() []byte { return repointed(index, a, a.fixed()) }},
		// A manifest by digest is a blob: index.json stays as it was.
		{"stores by digest", "@" + sha(c.fixed().manifest).String(), c, func() []byte { return index }},
		{"appends a new tag last", "1.0-fixed", a, func() []byte {
			e := fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"annotations":{"org.opencontainers.image.ref.name":"1.0-fixed"}}`, sha(a.fixed().manifest), len(a.fixed().manifest))
			i := bytes.LastIndex(index, []byte("\n  ]"))
			return slices.Concat(index[:i], []byte(",\n    "+e), index[i:])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeDir(t, files)
			l := openRef(t, imageref.OCI, dir)
			fixed := tt.from.fixed()
			push(t, l, tt.ref, fixed)
			got, err := os.ReadFile(filepath.Join(dir, "index.json"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(tt.want()), string(got)); diff != "" {
				t.Errorf("index.json after PutManifest(%q) mismatch (-want +got):\n%s", tt.ref, diff)
			}
			for _, blob := range [][]byte{fixed.config, fixed.manifest} {
				b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", sha(blob).Hex))
				if err != nil || !bytes.Equal(b, blob) {
					t.Errorf("blob %s = %v, want it written", sha(blob), err)
				}
			}
			tmps, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".tmp-*"))
			tmps2, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
			if len(tmps)+len(tmps2) > 0 {
				t.Errorf("temporary files left: %v %v", tmps, tmps2)
			}
			if strings.HasPrefix(tt.ref, "@") {
				return
			}
			m, err := l.GetManifest(context.Background(), tt.ref)
			if err != nil || !bytes.Equal(m.Bytes, fixed.manifest) {
				t.Errorf("GetManifest(%q) after the write = %v, want the new manifest", tt.ref, err)
			}
			// What another reader sees: the layout opened again.
			again := openRef(t, imageref.OCI, dir)
			if m, err := again.GetManifest(context.Background(), tt.ref); err != nil || !bytes.Equal(m.Bytes, fixed.manifest) {
				t.Errorf("GetManifest(%q) of the layout opened again = %v, want the new manifest", tt.ref, err)
			}
		})
	}
}

func TestPutManifestRefusesPatternAndAmbiguity(t *testing.T) {
	t.Parallel()
	a, b := newImage("a"), newImage("b")
	dir := writeDir(t, ociFiles([]img{a, b}, []string{"x/app:1", "y/app:1"}))
	l := openRef(t, imageref.OCI, dir)
	ctx := context.Background()
	before := snapshot(t, filepath.Join(dir, "index.json"))
	for _, ref := range []string{"v*", "1", ""} {
		err := l.PutManifest(ctx, ref, a.fixed().manifest, "application/vnd.oci.image.manifest.v1+json")
		if err == nil {
			t.Errorf("PutManifest(%q) = nil, want an error", ref)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, filepath.Join(dir, "index.json"))); diff != "" {
		t.Errorf("index.json changed (-want +got):\n%s", diff)
	}
}

// TestConcurrentTagWrites: tags written at once each land; none is lost to
// another's edit of index.json.
func TestConcurrentTagWrites(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	files := ociFiles([]img{a}, []string{"base"})
	for _, kind := range []imageref.Transport{imageref.OCI, imageref.OCIArchive} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			p := writeKind(t, kind, "", files)
			l := openRef(t, kind, p)
			const n = 16
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { push(t, l, fmt.Sprintf("t%02d", i), newImage(fmt.Sprint(i)).fixed()) })
			}
			wg.Wait()
			if err := l.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			again := openRef(t, kind, p)
			tags, err := again.Tags(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(tags)
			want := []string{"base"}
			for i := range n {
				want = append(want, fmt.Sprintf("t%02d", i))
			}
			if diff := cmp.Diff(want, tags); diff != "" {
				t.Errorf("Tags() after %d concurrent writes mismatch (-want +got):\n%s", n, diff)
			}
		})
	}
}

// TestArchiveRewrite: an archive is untouched until Commit, which
// rewrites it once: every entry in its order, name and bytes, index.json
// re-pointed byte-faithfully, the new blobs appended in the archive's
// spelling of names.
func TestArchiveRewrite(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"/", "", "./"} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			t.Parallel()
			a := newImage("a")
			files := ociFiles([]img{a}, []string{""})
			p := writeArchive(t, prefix, files)
			names, bodies := readTar(t, p)
			dirBefore := snapshot(t, filepath.Dir(p))
			l := openRef(t, imageref.OCIArchive, p)
			fixed := a.fixed()
			push(t, l, "", fixed)
			if got := snapshot(t, filepath.Dir(p))[p]; got != dirBefore[p] {
				t.Errorf("the archive changed before Commit")
			}
			if err := l.Commit(context.Background()); err != nil {
				t.Fatalf("Commit() = %v", err)
			}
			added := []string{prefix + "blobs/sha256/" + sha(fixed.config).Hex, prefix + "blobs/sha256/" + sha(fixed.manifest).Hex}
			slices.Sort(added)
			gotNames, gotBodies := readTar(t, p)
			if diff := cmp.Diff(append(slices.Clone(names), added...), gotNames); diff != "" {
				t.Errorf("entries after Commit mismatch (-want +got):\n%s", diff)
			}
			for _, n := range names {
				want := bodies[n]
				if n == prefix+"index.json" {
					want = repointed(want, a, fixed)
				}
				if diff := cmp.Diff(string(want), string(gotBodies[n])); diff != "" {
					t.Errorf("entry %q after Commit mismatch (-want +got):\n%s", n, diff)
				}
			}
			fi, err := os.Stat(p)
			if err != nil || fi.Mode().Perm() != 0o640 {
				t.Errorf("mode after Commit = %v, %v, want 0640 kept", fi.Mode(), err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
				t.Errorf("files beside the archive after Close: %v, want only the archive", ents)
			}
			again := openRef(t, imageref.OCIArchive, p)
			if m, err := again.GetManifest(context.Background(), ""); err != nil || !bytes.Equal(m.Bytes, fixed.manifest) {
				t.Errorf("GetManifest() of the rewritten archive = %v, want the new manifest", err)
			}
		})
	}
}

// TestArchiveFailedRewrite: a rewrite that fails midway leaves the old
// archive, byte for byte, and nothing beside it once closed.
func TestArchiveFailedRewrite(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	p := writeArchive(t, "/", ociFiles([]img{a}, []string{"v1"}))
	before := snapshot(t, filepath.Dir(p))
	l := openRef(t, imageref.OCIArchive, p)
	push(t, l, "v1", a.fixed())
	// A staged blob lost: the rewrite cannot finish.
	for _, tmp := range l.staged {
		os.Remove(tmp)
	}
	if err := l.Commit(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "rewriting ") {
		t.Fatalf("Commit() = %v, want an error", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, snapshot(t, filepath.Dir(p))); diff != "" {
		t.Errorf("a failed rewrite changed the directory (-want +got):\n%s", diff)
	}
}

// engine25Files is a docker save of Engine 25 and later: an OCI layout
// with docker's manifest.json beside index.json.
func engine25Files(im img) []file {
	files := ociFiles([]img{im}, []string{"docker.io/library/app:1"})
	mj := fmt.Sprintf(`[{"Config":"blobs/sha256/%s","RepoTags":["app:1"],"Layers":["blobs/sha256/%s"]}]`+"\n", sha(im.config).Hex, sha(im.layer).Hex)
	return append(files, file{name: "manifest.json", body: []byte(mj)})
}

func TestDockerSaveManifestJSONInStep(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	fixed := a.fixed()
	files := engine25Files(a)
	mj := files[len(files)-1].body
	tests := []struct {
		ref  string
		want string
	}{
		{"1", strings.Replace(string(mj), sha(a.config).Hex, sha(fixed.config).Hex, 1)},
		{"2", strings.TrimSuffix(string(mj), "]\n") + fmt.Sprintf(`,{"Config":"blobs/sha256/%s","RepoTags":["app:2"],"Layers":["blobs/sha256/%s"]}]`+"\n", sha(fixed.config).Hex, sha(a.layer).Hex)},
	}
	for _, tt := range tests {
		for _, kind := range []imageref.Transport{imageref.OCIArchive, imageref.OCI} {
			t.Run(tt.ref+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				p := writeKind(t, kind, "", files)
				l := openRef(t, kind, p)
				push(t, l, tt.ref, fixed)
				if err := l.Commit(context.Background()); err != nil {
					t.Fatal(err)
				}
				var got []byte
				if kind == imageref.OCI {
					got, _ = os.ReadFile(filepath.Join(p, "manifest.json"))
				} else {
					_, bodies := readTar(t, p)
					got = bodies["manifest.json"]
				}
				if diff := cmp.Diff(tt.want, string(got)); diff != "" {
					t.Errorf("manifest.json after PutManifest(%q) mismatch (-want +got):\n%s", tt.ref, diff)
				}
				var items []dockerItem
				if err := json.Unmarshal(got, &items); err != nil {
					t.Errorf("manifest.json does not parse: %v", err)
				}
			})
		}
	}
}

// TestOneImageManyNames: names that all point at one manifest are one
// image: no REF is needed, and a write moves every name that matched.
func TestOneImageManyNames(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	fixed := a.fixed()
	for _, ref := range []string{"", "1"} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			files := ociFiles([]img{a, a}, []string{"docker.io/library/app:1", "ghcr.io/o/app:1"})
			index := indexOf(t, files)
			dir := writeDir(t, files)
			l := openRef(t, imageref.OCI, dir)
			if _, err := l.GetManifest(context.Background(), ref); err != nil {
				t.Fatalf("GetManifest(%q) = %v", ref, err)
			}
			push(t, l, ref, fixed)
			got, _ := os.ReadFile(filepath.Join(dir, "index.json"))
			want := repointed(repointed(index, a, fixed), a, fixed)
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("index.json after PutManifest(%q) mismatch (-want +got):\n%s", ref, diff)
			}
		})
	}
}

// TestCreate: a tag naming a place that does not exist yet starts it: a
// directory at once, an archive only when Commit writes it.
func TestCreate(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	ctx := context.Background()
	for _, kind := range []imageref.Transport{imageref.OCI, imageref.OCIArchive} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "out")
			ref, err := imageref.Parse(string(kind)+":"+p+":1.0", "/")
			if err != nil {
				t.Fatal(err)
			}
			l, err := Create(ref)
			if err != nil {
				t.Fatalf("Create(%s) = %v", ref, err)
			}
			defer l.Close()
			if err := l.PushBlob(ctx, sha(a.layer), int64(len(a.layer)), bytes.NewReader(a.layer)); err != nil {
				t.Fatal(err)
			}
			push(t, l, "1.0", a)
			if _, err := os.Stat(p); kind == imageref.OCIArchive && err == nil {
				t.Errorf("the archive exists before Commit")
			}
			if err := l.Commit(ctx); err != nil {
				t.Fatalf("Commit() = %v", err)
			}
			if kind == imageref.OCIArchive {
				names, _ := readTar(t, p)
				if len(names) != 5 || names[0] != "oci-layout" || names[1] != "index.json" {
					t.Errorf("entries of the new archive = %q, want oci-layout, index.json and 3 blobs", names)
				}
			}
			again := openRef(t, kind, p)
			if m, err := again.GetManifest(ctx, "1.0"); err != nil || !bytes.Equal(m.Bytes, a.manifest) {
				t.Errorf("GetManifest(1.0) of the new layout = %v, want the image", err)
			}
		})
	}
	t.Run("docker-archive", func(t *testing.T) {
		t.Parallel()
		ref, _ := imageref.Parse("docker-archive:"+filepath.Join(t.TempDir(), "x.tar"), "/")
		if _, err := Create(ref); err == nil || !strings.Contains(err.Error(), "cannot be started") {
			t.Errorf("Create(%s) = %v, want a refusal", ref, err)
		}
	})
}

// TestArchiveRewriteKeepsAlignment: after index.json grows or shrinks,
// the entries after it stay at the same offset within a page, so that the
// kernel copies them page by page.
func TestArchiveRewriteKeepsAlignment(t *testing.T) {
	t.Parallel()
	for _, grow := range []int{0, 1, 100, 511, 512, 1000, 3000, 5000} {
		t.Run(fmt.Sprint(grow), func(t *testing.T) {
			t.Parallel()
			a := newImage("a")
			files := ociFiles([]img{a}, []string{"v1"})
			p := writeArchive(t, "/", files)
			before := openRef(t, imageref.OCIArchive, p)
			layer := "blobs/sha256/" + sha(a.layer).Hex
			want := before.tar.files[layer].offset % pageSize
			l := openRef(t, imageref.OCIArchive, p)
			push(t, l, strings.Repeat("x", grow)+"v2", a.fixed())
			if err := l.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			after := openRef(t, imageref.OCIArchive, p)
			if got := after.tar.files[layer].offset % pageSize; got != want {
				t.Errorf("layer at %d within a page after the rewrite, want %d", got, want)
			}
			if _, err := after.GetManifest(context.Background(), "v1"); err != nil {
				t.Errorf("GetManifest(v1) after the rewrite = %v", err)
			}
		})
	}
}

// TestArchiveRewriteInPieces rewrites an archive whose layer spans
// several writeback pieces, and one whose end is not a piece's: every
// byte of the layer comes through (OpenBlob checks its digest).
func TestArchiveRewriteInPieces(t *testing.T) {
	t.Parallel()
	for _, size := range []int{2 * writebackChunk, 2*writebackChunk + 12345} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			layer := make([]byte, size)
			rand.Read(layer)
			a := newImageLayer("pieces", layer)
			p := writeArchive(t, "/", ociFiles([]img{a}, []string{"v1"}))
			l := openRef(t, imageref.OCIArchive, p)
			push(t, l, "v1", a.fixed())
			if err := l.Commit(context.Background()); err != nil {
				t.Fatalf("Commit() = %v", err)
			}
			rc, err := openRef(t, imageref.OCIArchive, p).OpenBlob(context.Background(), sha(layer))
			if err != nil {
				t.Fatalf("OpenBlob(layer) = %v", err)
			}
			defer rc.Close()
			if n, err := io.Copy(io.Discard, rc); err != nil || n != int64(size) {
				t.Errorf("reading the layer after the rewrite = %d bytes, %v; want %d bytes, nil", n, err, size)
			}
		})
	}
}
