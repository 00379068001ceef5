package oci

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestDigest(t *testing.T) {
	t.Parallel()
	// sha256 of "abc", FIPS 180-2's first example.
	want := "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := Digest([]byte("abc")).String(); got != want {
		t.Errorf("Digest(%q) = %s, want %s", "abc", got, want)
	}
}

func TestMediaTypes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body         string
		wantDeclared, want types.MediaType
	}{
		{name: "declared", body: `{"mediaType":"application/vnd.oci.image.index.v1+json","config":{}}`, wantDeclared: types.OCIImageIndex, want: types.OCIImageIndex},
		{name: "schema 1", body: `{"schemaVersion":1,"fsLayers":[]}`, want: types.DockerManifestSchema1},
		{name: "an index's manifests", body: `{"schemaVersion":2,"manifests":[]}`, want: types.OCIImageIndex},
		{name: "an image's config", body: `{"schemaVersion":2,"config":{"digest":"sha256:00"}}`, want: types.OCIManifestSchema1},
		{name: "manifests whatever they hold", body: `{"manifests":null}`, want: types.OCIImageIndex},
		{name: "nothing says", body: `{"schemaVersion":2}`},
		{name: "not JSON", body: `mediaType`},
		{name: "mediaType not a string", body: `{"mediaType":1,"config":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Declared([]byte(tc.body)); got != tc.wantDeclared {
				t.Errorf("Declared(%s) = %q, want %q", tc.body, got, tc.wantDeclared)
			}
			if got := Shape([]byte(tc.body)); got != tc.want {
				t.Errorf("Shape(%s) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	body := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44","size":2},"layers":[{"mediaType":"text/spdx","digest":"sha256:aa","size":3,"annotations":{"k":"v"}}],"subject":{"digest":"sha256:bb"},"annotations":{"a":"b"},"extra":[1]}`
	want := Manifest{
		MediaType:    "application/vnd.oci.image.manifest.v1+json",
		ArtifactType: "application/spdx+json",
		Config:       Descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: "sha256:44", Size: 2},
		Layers:       []Descriptor{{MediaType: "text/spdx", Digest: "sha256:aa", Size: 3, Annotations: map[string]string{"k": "v"}}},
		Subject:      &Descriptor{Digest: "sha256:bb"},
		Annotations:  map[string]string{"a": "b"},
	}
	got, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse(%s) error = %v", body, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(%s) (-want +got):\n%s", body, diff)
	}
	if _, err := Parse([]byte(`{"layers":{}}`)); err == nil {
		t.Errorf("Parse(%s) error = nil, want one", `{"layers":{}}`)
	}
}
