package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

// orasVersion is the oras release the suite builds from its module
// source to read the layouts the tool carries referrers in.
const orasVersion = "v1.2.0"

// TestOrasDiscoversCarried attaches an SBOM to an image of an OCI layout
// with oras, as a user does, fixes the image in place with the tool run
// as the action with referrers: carry, and asks oras what refers to the
// image: the SBOM re-pointed to the new digest; the one oras attached
// stays listed in index.json.
func TestOrasDiscoversCarried(t *testing.T) {
	tool := buildTool(t)
	oras := filepath.Join(t.TempDir(), "oras")
	dir, err := moduleSource("oras.land/oras@" + orasVersion)
	if err != nil {
		t.Fatal(err)
	}
	if err := goBuild(dir, oras, "./cmd/oras"); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	out := filepath.Join(ws, "out")
	if err := os.CopyFS(out, os.DirFS(writeLayout(t, imageref.OCI, "", newEmptyArchImage(t).oci))); err != nil {
		t.Fatal(err)
	}
	sbom := filepath.Join(t.TempDir(), "sbom.spdx.json")
	write(t, sbom, `{"spdxVersion":"SPDX-2.3"}`, 0o644)
	cmd := []string{"attach", "--oci-layout", out + ":1", "--artifact-type", "application/spdx+json", "--disable-path-validation", sbom}
	must(t, nil, oras, cmd...)
	was := discovered(t, oras, out+":1")
	if len(was) != 1 {
		t.Fatalf("oras discover before the fix = %v, want the SBOM oras attached", was)
	}
	res := runAction(t, tool, ws, map[string]string{"image": "oci:out:1", "platform": "linux/amd64", "referrers": "carry"})
	if res.exit != 0 || res.errors() != 0 {
		t.Fatalf("the tool with referrers carry: %s", res)
	}
	now := discovered(t, oras, out+":1")
	if len(now) != 1 || now[0] == was[0] {
		t.Errorf("oras discover %s:1 after the fix = %v, want one SBOM, not the old %s", out, now, was[0])
	}
	// oras resolves a digest only through index.json, which names the
	// fixed image now: the SBOM it attached is checked there instead.
	index, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), was[0]) {
		t.Errorf("index.json = %s, want it to list the SBOM oras attached, %s, still", index, was[0])
	}
	if len(now) == 1 {
		body, err := os.ReadFile(filepath.Join(out, "blobs", "sha256", strings.TrimPrefix(now[0], "sha256:")))
		var m struct{ Subject struct{ Digest string } }
		if err != nil || json.Unmarshal(body, &m) != nil || m.Subject.Digest != res.outputs["digest"] {
			t.Errorf("carried SBOM %s = %s (%v), want its subject %s", now[0], body, err, res.outputs["digest"])
		}
	}
}

// discovered are the digests oras discover lists as referrers of ref in
// an OCI layout.
func discovered(t *testing.T, oras, ref string) []string {
	t.Helper()
	var found struct{ Manifests []struct{ Digest string } }
	text := must(t, nil, oras, "discover", "--oci-layout", "--format", "json", ref)
	if err := json.Unmarshal([]byte(text), &found); err != nil {
		t.Fatalf("oras discover %s: %v\n%s", ref, err, text)
	}
	var out []string
	for _, m := range found.Manifests {
		out = append(out, m.Digest)
	}
	return out
}
