package layout

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

// TestListLike lists a carried referrer in index.json as the one it was
// carried from: that entry's bytes with another digest and size, its
// ref.name left out, appended last; a rerun changes nothing.
func TestListLike(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	art, moved := []byte(`{"art":1}`), []byte(`{"art":2}`)
	index := `{
  "schemaVersion": 2,
  "manifests": [
    ` + a.entryJSON("v1") + `,
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/spdx+json", "digest": "` + sha(art).String() + `", "size": 9, "annotations": {"org.opencontainers.image.ref.name": "sbom", "k": "v"}}
  ]
}`
	files := append(a.blobs(), file{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)}, file{name: "index.json", body: []byte(index)},
		file{name: "blobs/sha256/" + sha(art).Hex, body: art})
	dir := writeDir(t, files)
	l := openRef(t, imageref.OCI, dir)
	if err := l.PutManifest(context.Background(), sha(moved).String(), moved, "application/vnd.oci.image.manifest.v1+json"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := l.ListLike(sha(art), sha(moved), int64(len(moved))); err != nil {
			t.Fatalf("ListLike(%s, %s) = %v, want nil", sha(art), sha(moved), err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := index[:len(index)-6] + `,
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/spdx+json", "digest": "` + sha(moved).String() + `", "size": 9, "annotations": {"k": "v"}}
  ]
}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("index.json after ListLike (-want +got):\n%s", diff)
	}
	if ok, err := l.Lists(sha(moved)); !ok || err != nil {
		t.Errorf("Lists(%s) = %v, %v, want true, nil", sha(moved), ok, err)
	}
	if err := l.ListLike(sha([]byte("none")), sha([]byte("new")), 3); err == nil {
		t.Errorf("ListLike(unlisted) = nil, want an error")
	}
}
