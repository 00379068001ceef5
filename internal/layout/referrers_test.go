package layout

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

func TestReferrers(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	empty := []byte(`{}`)
	sig := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d},"annotations":{"k":"v"}}`, sha(empty), sha(a.manifest), len(a.manifest))
	sbom := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/spdx+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d}}`, sha(empty), sha(a.manifest), len(a.manifest))
	other := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/spdx+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":1}}`, sha(empty), sha([]byte("other")))
	// The sbom sits in an index that index.json lists, as a referrers
	// tag schema index would hold it.
	nested := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d}]}`, sha(sbom), len(sbom))
	index := fmt.Sprintf(`{"schemaVersion":2,"manifests":[%s,{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d},{"mediaType":"application/vnd.oci.image.index.v1+json","digest":%q,"size":%d,"annotations":{"org.opencontainers.image.ref.name":"sha256-%s"}}]}`,
		a.entryJSON("v1"), sha(sig), len(sig), sha(other), len(other), sha(nested), len(nested), sha(a.manifest).Hex)
	files := append(a.blobs(),
		file{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		file{name: "index.json", body: []byte(index)})
	for _, b := range [][]byte{empty, sig, sbom, other, nested} {
		files = append(files, file{name: "blobs/sha256/" + sha(b).Hex, body: b})
	}
	l := openRef(t, imageref.OCI, writeDir(t, files))
	ctx := context.Background()
	got, err := l.Referrers(ctx, sha(a.manifest))
	if err != nil {
		t.Fatal(err)
	}
	want := []v1.Descriptor{
		{MediaType: types.OCIManifestSchema1, Digest: sha(sig), Size: int64(len(sig)), ArtifactType: "application/vnd.dev.sigstore.bundle.v0.3+json", Annotations: map[string]string{"k": "v"}},
		{MediaType: types.OCIManifestSchema1, Digest: sha(sbom), Size: int64(len(sbom)), ArtifactType: "application/spdx+json"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Referrers(%s) mismatch (-want +got):\n%s", sha(a.manifest), diff)
	}
	body, next, err := l.ReferrersPage(ctx, sha(a.manifest), "")
	if err != nil || next != "" {
		t.Fatalf("ReferrersPage() = %v, %q", err, next)
	}
	var page v1.IndexManifest
	if err := json.Unmarshal(body, &page); err != nil || page.MediaType != types.OCIImageIndex {
		t.Fatalf("ReferrersPage() body = %s, %v, want an OCI index", body, err)
	}
	if diff := cmp.Diff(want, page.Manifests); diff != "" {
		t.Errorf("ReferrersPage() manifests mismatch (-want +got):\n%s", diff)
	}
	if got, err := l.Referrers(ctx, sha(sig)); err != nil || len(got) != 0 {
		t.Errorf("Referrers(signature) = %v, %v, want none", got, err)
	}
}
