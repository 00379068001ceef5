package interop

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// stored is an image as the registry holds it: its manifest's digest and the
// exact bytes of its manifest and config.
type stored struct {
	digest           string
	manifest, config []byte
	parsed           *v1.Manifest
}

// fetch reads ref's manifest and config bytes from the registry.
func fetch(t *testing.T, ref string) stored {
	t.Helper()
	desc := get(t, ref)
	img, err := desc.Image()
	if err != nil {
		t.Fatalf("reading %s as an image: %v", ref, err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatalf("reading the config of %s: %v", ref, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		t.Fatalf("parsing the manifest of %s: %v", ref, err)
	}
	return stored{digest: desc.Digest.String(), manifest: desc.Manifest, config: cfg, parsed: m}
}

// get reads ref's descriptor and manifest from the registry.
func get(t *testing.T, ref string) *remote.Descriptor {
	t.Helper()
	desc, err := remote.Get(parseRef(t, ref))
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	return desc
}

// fetchIndex reads ref as an image index.
func fetchIndex(t *testing.T, ref string) *v1.IndexManifest {
	t.Helper()
	idx, err := v1.ParseIndexManifest(bytes.NewReader(get(t, ref).Manifest))
	if err != nil {
		t.Fatalf("parsing %s as an index: %v", ref, err)
	}
	return idx
}

// entryPlatforms renders every entry's platform as the index holds it.
func entryPlatforms(idx *v1.IndexManifest) string {
	var ps []string
	for _, m := range idx.Manifests {
		b, _ := json.Marshal(m.Platform)
		ps = append(ps, string(b))
	}
	return strings.Join(ps, ", ")
}

// rawManifest is a manifest pushed exactly as written.
type rawManifest struct {
	body []byte
	mt   types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.body, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// pushRaw pushes a Docker v2 image made of one layer and config, both given
// as bytes, so that the config's keys are exactly the ones written here.
func pushRaw(t *testing.T, ref string, layer []byte, config []byte) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, blob := range []v1.Layer{static.NewLayer(layer, types.DockerLayer), static.NewLayer(config, types.DockerConfigJSON)} {
		if err := remote.WriteLayer(r.Context(), blob); err != nil {
			t.Fatalf("pushing a blob to %s: %v", ref, err)
		}
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"size":%d,"digest":%q},"layers":[{"mediaType":%q,"size":%d,"digest":%q}]}`,
		types.DockerManifestSchema2, types.DockerConfigJSON, len(config), sha(config), types.DockerLayer, len(layer), sha(layer))
	if err := remote.Put(r, rawManifest{body: []byte(m), mt: types.DockerManifestSchema2}); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// keyPaths lists every object key of a JSON document, depth first, in the
// order written, as paths joined with "/" (keys such as
// "moby.buildkit.buildinfo.v1" hold dots).
func keyPaths(t *testing.T, raw []byte) []string {
	t.Helper()
	var paths []string
	dec := json.NewDecoder(bytes.NewReader(raw))
	var walk func(prefix string)
	walk = func(prefix string) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("reading JSON: %v", err)
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					t.Fatalf("reading JSON: %v", err)
				}
				p := prefix + k.(string)
				paths = append(paths, p)
				walk(p + "/")
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				walk(prefix + "[]/")
			}
			dec.Token()
		}
	}
	walk("")
	return paths
}

// topKeys lists a JSON object's own keys in the order written.
func topKeys(t *testing.T, raw []byte) []string {
	var top []string
	for _, p := range keyPaths(t, raw) {
		if !strings.Contains(p, "/") {
			top = append(top, p)
		}
	}
	return top
}

// missing lists the entries of want that got lacks.
func missing(want, got []string) []string {
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
	}
	var out []string
	for _, w := range want {
		if !have[w] {
			out = append(out, w)
		}
	}
	return out
}
