package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	dockerConfig   = "application/vnd.docker.container.image.v1+json"
	dockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	ociManifest    = "application/vnd.oci.image.manifest.v1+json"
	ociIndex       = "application/vnd.oci.image.index.v1+json"
	ociConfig      = "application/vnd.oci.image.config.v1+json"
	ociLayer       = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// blob is content with its digest.
type blob struct {
	data      []byte
	digest    string
	mediaType string
}

func newBlob(mediaType string, data []byte) blob {
	return blob{data: data, digest: sha256Digest(data), mediaType: mediaType}
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// layer is a gzipped tar blob and the digest of its tar.
type layer struct {
	blob
	diffID string
}

// image is a fixture whose manifest bytes are fully under the test's
// control, so that the expected bytes after a change can be rendered.
type image struct {
	manifestType string
	config       blob
	layers       []layer
	// render returns the manifest bytes for a config descriptor.
	render func(configDigest string, configSize int, layers []layer) []byte
}

// manifest returns the fixture's manifest bytes.
func (im image) manifest() []byte {
	return im.render(im.config.digest, len(im.config.data), im.layers)
}

// manifestDigest returns the fixture's manifest digest.
func (im image) manifestDigest() string { return sha256Digest(im.manifest()) }

// withConfig returns the fixture with other config bytes.
func (im image) withConfig(cfg []byte) image {
	im.config = newBlob(im.config.mediaType, cfg)
	return im
}

// layerDigests returns the digests of the layer blobs.
func (im image) layerDigests() []string {
	var ds []string
	for _, l := range im.layers {
		ds = append(ds, l.digest)
	}
	return ds
}

// randomLayers returns n small gzipped tar layers with random content.
func randomLayers(tb testing.TB, n int, mediaType string) []layer {
	tb.Helper()
	var ls []layer
	for i := range n {
		content := make([]byte, 2048)
		if _, err := rand.Read(content); err != nil {
			tb.Fatal(err)
		}
		ls = append(ls, binLayer(tb, mediaType, dataFile(fmt.Sprintf("layer%d/data.bin", i), content)))
	}
	return ls
}

func diffIDsJSON(ls []layer) string {
	var q []string
	for _, l := range ls {
		q = append(q, `"`+l.diffID+`"`)
	}
	return strings.Join(q, ",")
}

// packConfig is a config like `pack buildpack package` writes: compact,
// "architecture" empty, labels holding escaped JSON (with \u0026 and
// \u003c escapes that a re-encoder may spell differently).
func packConfig(ls []layer, platformKeys string) []byte {
	var hist []string
	for range ls {
		hist = append(hist, `{"created":"1980-01-01T00:00:01Z"}`)
	}
	return []byte(`{` + platformKeys + `,"created":"1980-01-01T00:00:01Z","history":[` + strings.Join(hist, ",") +
		`],"os":"linux","rootfs":{"type":"layers","diff_ids":[` + diffIDsJSON(ls) + `]},` +
		`"config":{"Labels":{"io.buildpacks.buildpackage.metadata":"{\"id\":\"paketo-buildpacks/go\",\"name\":\"Paketo Buildpack for Go\",\"version\":\"4.13.1\",\"homepage\":\"https://github.com/paketo-buildpacks/go\",\"stacks\":[{\"id\":\"*\"}]}",` +
		`"io.buildpacks.buildpack.layers":"{\"paketo-buildpacks/go-build\":{\"2.2.0\":{\"api\":\"0.8\",\"stacks\":[{\"id\":\"*\"}],\"homepage\":\"https://example.test/?a=1\u0026b=\u003cc\u003e\"}}}"}}}`)
}

// packImage is a Docker v2 image shaped like `pack buildpack package`
// output: compact manifest, "architecture":"" in the config.
func packImage(tb testing.TB, nLayers int) image {
	tb.Helper()
	return packImageWith(tb, nLayers, `"architecture":""`)
}

// packImageWith is packImage whose config starts with platformKeys instead
// of "architecture":"" (e.g. `"architecture":"arm64","variant":"v8"`);
// "os" is "linux" further on.
func packImageWith(tb testing.TB, nLayers int, platformKeys string) image {
	tb.Helper()
	ls := randomLayers(tb, nLayers, dockerLayer)
	return image{
		manifestType: dockerManifest,
		config:       newBlob(dockerConfig, packConfig(ls, platformKeys)),
		layers:       ls,
		render:       renderDockerManifest,
	}
}

// buildxImage is an OCI image like `docker buildx build` pushes: indented
// manifest with annotations; a config with sorted keys, buildkit's
// buildinfo, an unknown key, no "architecture" and an empty "os".
func buildxImage(tb testing.TB, nLayers int) image {
	tb.Helper()
	ls := randomLayers(tb, nLayers, ociLayer)
	var hist []string
	for i := range ls {
		hist = append(hist, fmt.Sprintf(`{"created":"2024-05-01T10:00:0%dZ","created_by":"COPY app%d / # buildkit","comment":"buildkit.dockerfile.v0"}`, i%10, i))
	}
	cfg := `{"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/app"],"WorkingDir":"/","OnBuild":null},` +
		`"created":"2024-05-01T10:00:00.123456789Z","history":[` + strings.Join(hist, ",") + `],` +
		`"moby.buildkit.buildinfo.v1":"eyJmcm9udGVuZCI6ImRvY2tlcmZpbGUudjAiLCJzb3VyY2VzIjpbXX0=",` +
		`"os":"","rootfs":{"type":"layers","diff_ids":[` + diffIDsJSON(ls) + `]},` +
		`"x.example.unknown":{"zeta":1,"alpha":[true,null,1.50]}}`
	return image{
		manifestType: ociManifest,
		config:       newBlob(ociConfig, []byte(cfg)),
		layers:       ls,
		render: func(d string, size int, ls []layer) []byte {
			var descs []string
			for _, l := range ls {
				descs = append(descs, fmt.Sprintf("    {\n      \"mediaType\": %q,\n      \"digest\": %q,\n      \"size\": %d\n    }", l.mediaType, l.digest, len(l.data)))
			}
			return []byte(fmt.Sprintf("{\n  \"schemaVersion\": 2,\n  \"mediaType\": %q,\n  \"config\": {\n    \"mediaType\": %q,\n    \"digest\": %q,\n    \"size\": %d\n  },\n  \"layers\": [\n%s\n  ],\n  \"annotations\": {\n    \"org.opencontainers.image.created\": \"2024-05-01T10:00:00Z\",\n    \"org.opencontainers.image.source\": \"https://github.com/octocat/hello\"\n  }\n}",
				ociManifest, ociConfig, d, size, strings.Join(descs, ",\n")))
		},
	}
}

// rawManifest is a remote.Taggable with exact bytes.
type rawManifest struct {
	body      []byte
	mediaType string
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.body, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.MediaType(r.mediaType), nil }

// push uploads im's blobs and manifest straight to the registry (not
// through the proxy) at ref ("repo:tag" or "repo@digest") and returns the
// manifest digest.
func (r *testRegistry) push(tb testing.TB, ref string, im image) string {
	tb.Helper()
	parsed := r.parse(tb, ref)
	blobs := []blob{im.config}
	for _, l := range im.layers {
		blobs = append(blobs, l.blob)
	}
	for _, b := range blobs {
		if err := remote.WriteLayer(parsed.Context(), static.NewLayer(b.data, types.MediaType(b.mediaType)), remote.WithAuth(r.auth)); err != nil {
			tb.Fatalf("pushing blob %s to %s: %v", b.digest, ref, err)
		}
	}
	return r.putManifest(tb, ref, im.manifest(), im.manifestType)
}

// putManifest puts raw manifest bytes at ref and returns their digest.
func (r *testRegistry) putManifest(tb testing.TB, ref string, body []byte, mediaType string) string {
	tb.Helper()
	parsed := r.parse(tb, ref)
	if err := remote.Put(parsed, rawManifest{body: body, mediaType: mediaType}, remote.WithAuth(r.auth)); err != nil {
		tb.Fatalf("putting manifest %s: %v", ref, err)
	}
	return sha256Digest(body)
}

// putRaw puts a manifest at repo:ref straight at the registry from inside
// a fault function (no testing.TB there), as another writer would.
func putRaw(reg *testRegistry, repo, ref string, im image) error {
	req, err := http.NewRequest(http.MethodPut, "http://"+reg.host+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(im.manifest()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", im.manifestType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT %s:%s = %d", repo, ref, resp.StatusCode)
	}
	return nil
}
