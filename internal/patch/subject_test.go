package patch

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSetSubject(t *testing.T) {
	t.Parallel()
	const (
		old  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		next = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	for _, tc := range []struct {
		name, doc, want string
		err             error
	}{
		{
			name: "indented, digest and size only",
			doc:  "{\n  \"artifactType\": \"application/spdx+json\",\n  \"subject\": {\n    \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n    \"digest\": \"" + old + "\",\n    \"size\": 1234,\n    \"annotations\": {\"a\": \"\\u00e9\"}\n  },\n  \"annotations\": {\"z\": \"1\"}\n}\n",
			want: "{\n  \"artifactType\": \"application/spdx+json\",\n  \"subject\": {\n    \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n    \"digest\": \"" + next + "\",\n    \"size\": 99,\n    \"annotations\": {\"a\": \"\\u00e9\"}\n  },\n  \"annotations\": {\"z\": \"1\"}\n}\n",
		},
		{
			name: "compact, size already right",
			doc:  `{"subject":{"size":99,"digest":"` + old + `","mediaType":"m"},"layers":[]}`,
			want: `{"subject":{"size":99,"digest":"` + next + `","mediaType":"m"},"layers":[]}`,
		},
		{name: "no subject", doc: `{"layers":[]}`, err: ErrNotFound},
		{name: "subject in another case", doc: `{"Subject":{"digest":"` + old + `","size":1}}`, err: ErrDuplicateKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := SetSubject([]byte(tc.doc), next, 99)
			if !errors.Is(err, tc.err) {
				t.Fatalf("SetSubject(%s) = %v, want %v", tc.doc, err, tc.err)
			}
			if diff := cmp.Diff(tc.want, string(got)); tc.err == nil && diff != "" {
				t.Errorf("SetSubject(%s) (-want +got):\n%s", tc.doc, diff)
			}
		})
	}
}

func TestPutManifestEntry(t *testing.T) {
	t.Parallel()
	const entry = `{"mediaType":"m","digest":"sha256:bb","size":2}`
	for _, tc := range []struct {
		name, index, want string
		err               bool
	}{
		{
			name:  "into an empty list",
			index: `{"schemaVersion":2,"manifests":[]}`,
			want:  `{"schemaVersion":2,"manifests":[` + entry + `]}`,
		},
		{
			name:  "appended like the entries before it",
			index: "{\n  \"manifests\": [\n    {\"digest\": \"sha256:aa\"},\n    {\"digest\": \"sha256:cc\"}\n  ],\n  \"annotations\": {}\n}",
			want:  "{\n  \"manifests\": [\n    {\"digest\": \"sha256:aa\"},\n    {\"digest\": \"sha256:cc\"},\n    " + entry + "\n  ],\n  \"annotations\": {}\n}",
		},
		{
			name:  "replaces the entry with its digest",
			index: `{"manifests":[{"digest":"sha256:aa"},{"digest":"sha256:bb","size":1},{"digest":"sha256:cc"}]}`,
			want:  `{"manifests":[{"digest":"sha256:aa"},` + entry + `,{"digest":"sha256:cc"}]}`,
		},
		{name: "no manifests", index: `{"schemaVersion":2}`, err: true},
		{name: "manifests not an array", index: `{"manifests":{}}`, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := PutManifestEntry([]byte(tc.index), []byte(entry))
			if (err != nil) != tc.err {
				t.Fatalf("PutManifestEntry(%s) = %v, want error %t", tc.index, err, tc.err)
			}
			if diff := cmp.Diff(tc.want, string(got)); !tc.err && diff != "" {
				t.Errorf("PutManifestEntry(%s) (-want +got):\n%s", tc.index, diff)
			}
		})
	}
}
