package interop

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

// TestSavedLayoutsReadBySkopeo has the built tool save a registry image
// whose architecture is empty, fixed, into a new layout and a new
// archive (tag: oci:DIR:REF, oci-archive:FILE:REF), and a .cnb into a new
// layout, and asks skopeo to read each: inspect shows linux/amd64, and a
// copy to a directory reads every blob against its digest.
func TestSavedLayoutsReadBySkopeo(t *testing.T) {
	tool := buildTool(t)
	layer, _ := appLayer(t)
	config := fmt.Appendf(nil, `{"architecture":"","os":"linux","config":{"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[%q]}}`, sha(layer))
	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		sha(config), len(config), sha(layer), len(layer))
	hexOf := func(b []byte) string { return strings.TrimPrefix(sha(b), "sha256:") }
	files := []layoutFile{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", fmt.Appendf(nil, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}`, sha(manifest), len(manifest))},
		{"blobs/sha256/" + hexOf(manifest), manifest},
		{"blobs/sha256/" + hexOf(config), config},
		{"blobs/sha256/" + hexOf(layer), layer},
	}
	host := startRegistry(t)
	src := host + "/app:1"
	must(t, nil, "skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:"+writeLayout(t, imageref.OCI, "", files)+":1", "docker://"+src)
	cnb := writeLayout(t, imageref.OCIArchive, "/", files)
	for _, tt := range []struct{ name, image, tag string }{
		{"registry to oci", src, "oci:PATH:1.0"},
		{"registry to oci-archive", src, "oci-archive:PATH:1.0"},
		{"cnb to oci", "oci-archive:" + cnb, "oci:PATH:1.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			into := strings.Replace(tt.tag, "PATH", filepath.Join(t.TempDir(), "saved"), 1)
			must(t, nil, tool, "--platform", "linux/amd64", "--tag", into, tt.image)
			expectSkopeoReads(t, into)
		})
	}
}

// expectSkopeoReads fails t unless skopeo reads the image src names as
// linux/amd64 (inspect --config) and copies it to a directory, which
// reads every blob against its digest.
func expectSkopeoReads(t *testing.T, src string) {
	t.Helper()
	var cfg struct{ Architecture, OS string }
	if err := json.Unmarshal([]byte(must(t, nil, "skopeo", "inspect", "--config", src)), &cfg); err != nil {
		t.Fatalf("skopeo inspect --config %s: %v", src, err)
	}
	if cfg.OS+"/"+cfg.Architecture != "linux/amd64" {
		t.Errorf("skopeo inspect --config %s: platform %s/%s, want linux/amd64", src, cfg.OS, cfg.Architecture)
	}
	must(t, nil, "skopeo", "copy", "--quiet", src, "dir:"+t.TempDir())
}
