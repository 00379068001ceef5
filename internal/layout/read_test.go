package layout

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// repository is the method set *registry.Repository has that a layout
// shares: the interface the engine will take is extracted from it.
type repository interface {
	Name() string
	GetManifest(ctx context.Context, ref string) (*registry.Manifest, error)
	HeadManifest(ctx context.Context, ref string, mediaType types.MediaType) (v1.Hash, error)
	PutManifest(ctx context.Context, ref string, body []byte, mediaType types.MediaType) error
	GetBlob(ctx context.Context, d v1.Hash, limit int64, what string) ([]byte, error)
	OpenBlob(ctx context.Context, d v1.Hash) (io.ReadCloser, error)
	PushBlob(ctx context.Context, d v1.Hash, size int64, body io.ReadSeeker) error
	Tags(ctx context.Context) ([]string, error)
	ReferrersPage(ctx context.Context, d v1.Hash, page string) (body []byte, next string, err error)
}

var (
	_ repository = (*registry.Repository)(nil)
	_ repository = (*Layout)(nil)
)

func TestGetManifestByRef(t *testing.T) {
	t.Parallel()
	a, b, c, d := newImage("a"), newImage("b"), newImage("c"), newImage("d")
	files := ociFiles([]img{a, b, c, d}, []string{"1.0", "docker.io/library/app:2.0", "ghcr.io/o/app:2.0", "ghcr.io/o/app@" + sha(d.manifest).String()})
	dir := writeDir(t, files)
	l := openRef(t, imageref.OCI, dir)
	tests := []struct {
		ref  string
		want img
	}{
		{"1.0", a},
		{"docker.io/library/app:2.0", b},
		{"ghcr.io/o/app:2.0", c},
		{sha(d.manifest).String(), d},
		{"@" + sha(d.manifest).String(), d},
		{sha(a.manifest).String(), a},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			m, err := l.GetManifest(context.Background(), tt.ref)
			if err != nil {
				t.Fatalf("GetManifest(%q) = %v", tt.ref, err)
			}
			want := &registry.Manifest{MediaType: types.OCIManifestSchema1, Bytes: tt.want.manifest, Digest: sha(tt.want.manifest)}
			if diff := cmp.Diff(want, m); diff != "" {
				t.Errorf("GetManifest(%q) mismatch (-want +got):\n%s", tt.ref, diff)
			}
			h, err := l.HeadManifest(context.Background(), tt.ref, types.OCIManifestSchema1)
			if err != nil || h != want.Digest {
				t.Errorf("HeadManifest(%q) = %v, %v, want %v", tt.ref, h, err, want.Digest)
			}
		})
	}
}

func TestGetManifestErrors(t *testing.T) {
	t.Parallel()
	a, b := newImage("a"), newImage("b")
	two := writeDir(t, ociFiles([]img{a, b}, []string{"docker.io/library/app:1.0", "ghcr.io/o/app:1.0"}))
	none := writeDir(t, []file{{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {name: "index.json", body: []byte(`{"schemaVersion":2,"manifests":[]}`)}})
	tests := []struct {
		dir, ref string
		want     string
		notFound bool
	}{
		{two, "", `holds 2 images ("docker.io/library/app:1.0", "ghcr.io/o/app:1.0"): name one, as in PATH:REF`, false},
		{two, "1.0", `"1.0" names 2 images in`, false},
		{two, "2.0", `"2.0" not found in "` + two + `": it holds "docker.io/library/app:1.0", "ghcr.io/o/app:1.0"`, true},
		// A tag is matched after the last colon, not inside a name; a
		// full name is the same reference, not a suffix of one.
		{two, "o/app:1.0", `not found`, true},
		{two, "sha256:" + strings.Repeat("0", 64), "not found", true},
		{none, "", "an image not found", true},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			l := openRef(t, imageref.OCI, tt.dir)
			_, err := l.GetManifest(context.Background(), tt.ref)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("GetManifest(%q) = %v, want an error holding %q", tt.ref, err, tt.want)
			}
			var nf interface{ NotFound() bool }
			if got := errors.As(err, &nf) && nf.NotFound(); got != tt.notFound {
				t.Errorf("GetManifest(%q) = %v, NotFound %v, want %v", tt.ref, err, got, tt.notFound)
			}
		})
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	ims := []img{newImage("a"), newImage("b"), newImage("c"), newImage("d"), newImage("e")}
	dir := writeDir(t, ociFiles(ims, []string{"v1.0", "docker.io/library/app:v1.1", "", "ghcr.io/o/app@" + sha(ims[3].manifest).String(), "localhost:5000/app:v1.0"}))
	l := openRef(t, imageref.OCI, dir)
	got, err := l.Tags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"v1.0", "v1.1"}, got); diff != "" {
		t.Errorf("Tags() mismatch (-want +got):\n%s", diff)
	}
}

func TestBlobDigestChecked(t *testing.T) {
	t.Parallel()
	im := newImage("a")
	files := ociFiles([]img{im}, []string{"v1"})
	for i := range files {
		if files[i].name == "blobs/sha256/"+sha(im.layer).Hex {
			files[i].body = []byte("tampered")
		}
	}
	for _, kind := range []imageref.Transport{imageref.OCI, imageref.OCIArchive} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			p := writeKind(t, kind, "/", files)
			l := openRef(t, kind, p)
			ctx := context.Background()
			if _, err := l.GetBlob(ctx, sha(im.layer), 1<<20, "layer"); !errors.Is(err, registry.ErrDigestMismatch) {
				t.Errorf("GetBlob(tampered) = %v, want ErrDigestMismatch", err)
			}
			rc, err := l.OpenBlob(ctx, sha(im.layer))
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if _, err := io.ReadAll(rc); !errors.Is(err, registry.ErrDigestMismatch) {
				t.Errorf("reading OpenBlob(tampered) = %v, want ErrDigestMismatch", err)
			}
			rc, err = l.OpenBlob(ctx, sha(im.config))
			if err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, im.config) {
				t.Errorf("reading OpenBlob(config) = %q, %v, want the config", b, err)
			}
			rc.Close()
		})
	}
}

func TestBlobLimits(t *testing.T) {
	t.Parallel()
	im := newImage("a")
	l := openRef(t, imageref.OCIArchive, writeArchive(t, "", ociFiles([]img{im}, []string{"v1"})))
	_, err := l.GetBlob(context.Background(), sha(im.config), 10, "config")
	var tl *registry.TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 10 {
		t.Errorf("GetBlob(config, limit 10) = %v, want a *registry.TooLargeError", err)
	}
	big := append([]byte(`{"manifests":[],"pad":"`), bytes.Repeat([]byte("x"), int(registry.MaxManifestSize))...)
	big = append(big, `"}`...)
	p := writeArchive(t, "", []file{{name: "index.json", body: big}})
	ref, _ := imageref.Parse("oci-archive:"+p, "/")
	if _, err := Open(ref); !errors.As(err, &tl) {
		t.Errorf("Open(index.json over %d bytes) = %v, want a *registry.TooLargeError", registry.MaxManifestSize, err)
	}
}

// TestBlobNamesOnlyFromDigests: a digest whose hex is not hex never
// becomes a path.
func TestBlobNamesOnlyFromDigests(t *testing.T) {
	t.Parallel()
	l := openRef(t, imageref.OCI, writeDir(t, ociFiles([]img{newImage("a")}, []string{"v1"})))
	for _, d := range []v1.Hash{{Algorithm: "sha256", Hex: "../../index.json"}, {Algorithm: "../x", Hex: strings.Repeat("0", 64)}} {
		if _, err := l.GetBlob(context.Background(), d, 1<<20, "blob"); err == nil || !strings.Contains(err.Error(), "64 lowercase hex") {
			t.Errorf("GetBlob(%q) = %v, want a refusal", d, err)
		}
	}
}

// countingReaderAt counts the bytes read from an archive.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// sparseArchive is a tar whose big entries' bytes are zeros made on
// demand: a 1 GiB archive with no 1 GiB in memory or on disk.
type sparseArchive struct {
	parts []part
	size  int64
}

type part struct {
	off   int64
	bytes []byte // nil for zeros
	n     int64
}

func (s *sparseArchive) add(b []byte) {
	s.parts = append(s.parts, part{s.size, b, int64(len(b))})
	s.size += int64(len(b))
}
func (s *sparseArchive) zeros(n int64) {
	s.parts = append(s.parts, part{off: s.size, n: n})
	s.size += n
}

func (s *sparseArchive) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for _, pt := range s.parts {
		if n == len(p) {
			break
		}
		at := off + int64(n)
		if at < pt.off || at >= pt.off+pt.n {
			continue
		}
		k := min(int64(len(p)-n), pt.off+pt.n-at)
		if pt.bytes != nil {
			copy(p[n:], pt.bytes[at-pt.off:at-pt.off+k])
		} else {
			clear(p[n : n+int(k)])
		}
		n += int(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// bigCNB is a .cnb of about size bytes, pack's way (names with a leading
// "/"): index.json, the manifest and config, and four layers of zeros.
func bigCNB(t testing.TB, size int64) (*sparseArchive, img) {
	t.Helper()
	const layers = 4
	per := size / layers
	config := []byte(`{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	var ls string
	for i := range layers {
		if i > 0 {
			ls += ","
		}
		ls += fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%064x","size":%d}`, i+1, per)
	}
	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[%s]}`, sha(config), len(config), ls)
	im := img{config: config, manifest: manifest}
	a := &sparseArchive{}
	var hdrs bytes.Buffer
	// A tar.Writer per entry: one whose entry's bytes are left to the
	// zeros cannot go on.
	tw := tar.NewWriter(&hdrs)
	flush := func() { a.add(bytes.Clone(hdrs.Bytes())); hdrs.Reset(); tw = tar.NewWriter(&hdrs) }
	writeFile := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(b)), Mode: 0o644})
		tw.Write(b)
		tw.Flush()
		flush()
	}
	writeFile("/oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	writeFile("/index.json", fmt.Appendf(nil, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d}]}`, sha(manifest), len(manifest)))
	// The layers first, as pack writes them: reading the config must
	// seek over them.
	for i := range layers {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("/blobs/sha256/%064x", i+1), Size: per, Mode: 0o644})
		flush()
		a.zeros(per) // a multiple of 512: no padding
	}
	writeFile("/blobs/sha256/"+sha(manifest).Hex, manifest)
	writeFile("/blobs/sha256/"+sha(config).Hex, config)
	tw.Close()
	flush()
	return a, im
}

// TestCheckReadsLittle: what check reads of a 1 GiB .cnb (index.json, the
// manifest, the config) costs at most a few MiB of it, whatever its
// layers.
func TestCheckReadsLittle(t *testing.T) {
	t.Parallel()
	const size = 1 << 30
	a, im := bigCNB(t, size)
	c := &countingReaderAt{r: a}
	l, err := openArchive(imageref.OCIArchive, "big.cnb", c, a.size)
	if err != nil {
		t.Fatalf("openArchive(1 GiB) = %v", err)
	}
	ctx := context.Background()
	m, err := l.GetManifest(ctx, "")
	if err != nil || !bytes.Equal(m.Bytes, im.manifest) {
		t.Fatalf("GetManifest() = %v, want the manifest", err)
	}
	if _, err := l.GetBlob(ctx, sha(im.config), registry.MaxConfigSize, "config"); err != nil {
		t.Fatalf("GetBlob(config) = %v", err)
	}
	if a.size < size {
		t.Fatalf("archive is %d bytes, want at least %d", a.size, size)
	}
	t.Logf("checking a %d MiB archive read %d bytes of it", a.size>>20, c.n.Load())
	if got := c.n.Load(); got > 4<<20 {
		t.Errorf("checking a %d MiB archive read %d bytes, want at most 4 MiB", a.size>>20, got)
	}
}

// TestReadChangesNothing: opening and reading every kind writes nothing
// (content and mtime unchanged, nothing new beside it).
func TestReadChangesNothing(t *testing.T) {
	t.Parallel()
	im := newImage("a")
	files := ociFiles([]img{im}, []string{"v1"})
	for _, tc := range []struct {
		kind imageref.Transport
		path func(t *testing.T) string
	}{
		{imageref.OCI, func(t *testing.T) string { return writeDir(t, files) }},
		{imageref.OCIArchive, func(t *testing.T) string { return writeArchive(t, "/", files) }},
		{imageref.DockerArchive, func(t *testing.T) string { return writeArchive(t, "", dockerFiles(im)) }},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			p := tc.path(t)
			dir := p
			if tc.kind.Archive() {
				dir = filepath.Dir(p)
			}
			before := snapshot(t, dir)
			l := openRef(t, tc.kind, p)
			ctx := context.Background()
			m, err := l.GetManifest(ctx, "")
			if err != nil {
				t.Fatalf("GetManifest() = %v", err)
			}
			if _, err := l.Tags(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := l.GetBlob(ctx, sha(im.config), 1<<20, "config"); err != nil {
				t.Fatalf("GetBlob(config) = %v", err)
			}
			if err := l.Commit(ctx); err != nil {
				t.Fatalf("Commit() = %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			_ = m
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Errorf("reading %s changed files (-want +got):\n%s", tc.kind, diff)
			}
		})
	}
}

// TestFullNames: a full name as a person writes it finds the one tools
// wrote (skopeo and podman write docker.io/library/app:1).
func TestFullNames(t *testing.T) {
	t.Parallel()
	a, b := newImage("a"), newImage("b")
	l := openRef(t, imageref.OCI, writeDir(t, ociFiles([]img{a, b}, []string{"docker.io/library/app:1", "ghcr.io/o/app:1"})))
	for ref, want := range map[string]img{"app:1": a, "index.docker.io/library/app:1": a, "ghcr.io/o/app:1": b} {
		if m, err := l.GetManifest(context.Background(), ref); err != nil || !bytes.Equal(m.Bytes, want.manifest) {
			t.Errorf("GetManifest(%q) = %v, want its image", ref, err)
		}
	}
}
