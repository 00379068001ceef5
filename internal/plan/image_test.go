package plan

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

const testdata = "../../testdata"

func read(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{testdata}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPlatform(t *testing.T, s string) platform.Platform {
	t.Helper()
	p, _, err := platform.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fixture reads an image of the testdata folder as the registry serves it.
func fixture(t *testing.T, dir string) (Image, *Manifest) {
	t.Helper()
	man := read(t, dir, "manifest.json")
	mt, _, _ := patch.Get(man, patch.Path{"mediaType"})
	img := Image{MediaType: types.MediaType(mt[1 : len(mt)-1]), Manifest: man, Digest: oci.Digest(man), Config: read(t, dir, "config.json")}
	m, err := ParseManifest(img.MediaType, man)
	if err != nil {
		t.Fatalf("ParseManifest(%s) = %v", dir, err)
	}
	return img, m
}

func TestSetImageGolden(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"pack-buildpack-package", "pack-build", "buildx-oci"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			img, m := fixture(t, dir)
			c, err := SetImage(NewImage(img, m, nil), mustPlatform(t, "linux/amd64"), true)
			if err != nil {
				t.Fatalf("SetImage(%s, linux/amd64) = %v", dir, err)
			}
			if diff := cmp.Diff(string(read(t, dir, "config.linux-amd64.golden")), string(c.Config)); diff != "" {
				t.Errorf("SetImage(%s) config (-want +got):\n%s", dir, diff)
			}
			if diff := cmp.Diff(string(read(t, dir, "manifest.linux-amd64.golden")), string(c.Manifest)); diff != "" {
				t.Errorf("SetImage(%s) manifest (-want +got):\n%s", dir, diff)
			}
			if !c.Changed || !c.ConfigChanged || c.Digest != oci.Digest(c.Manifest) || c.PreviousDigest != img.Digest || c.MediaType != img.MediaType {
				t.Errorf("SetImage(%s) = changed %t, config changed %t, digest %s of %s, media type %s; want changed, the digest of the new manifest, media type %s", dir, c.Changed, c.ConfigChanged, c.Digest, oci.Digest(c.Manifest), c.MediaType, img.MediaType)
			}
			// Applying the same platform again changes nothing.
			again, err := SetImage(NewImage(Image{MediaType: c.MediaType, Manifest: c.Manifest, Digest: c.Digest, Config: c.Config}, mustParse(t, c), nil), mustPlatform(t, "linux/amd64"), false)
			if err != nil || again.Changed || again.Digest != c.Digest {
				t.Errorf("SetImage(result, linux/amd64) = changed %t digest %v err %v, want unchanged %s", again.Changed, again.Digest, err, c.Digest)
			}
		})
	}
}

func mustParse(t *testing.T, c *Change) *Manifest {
	t.Helper()
	m, err := ParseManifest(c.MediaType, c.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSetImageOverwrite(t *testing.T) {
	t.Parallel()
	img, m := fixture(t, "buildx-oci") // linux/arm64/v8
	_, err := SetImage(NewImage(img, m, nil), mustPlatform(t, "linux/amd64"), false)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Have.Architecture != "arm64" {
		t.Fatalf("SetImage(arm64 image, linux/amd64, no overwrite) = %v, want a *ConflictError naming arm64", err)
	}
	// arm64 without variant is the same platform as arm64/v8: already
	// there, nothing to write.
	c, err := SetImage(NewImage(img, m, nil), mustPlatform(t, "linux/arm64"), false)
	if err != nil {
		t.Fatalf("SetImage(arm64/v8 image, linux/arm64) = %v, want no error", err)
	}
	if c.Changed || c.ConfigChanged || c.Digest != img.Digest || !bytes.Equal(c.Config, img.Config) {
		t.Errorf("SetImage(arm64/v8 image, linux/arm64) = changed %t, config changed %t, digest %s; want unchanged %s", c.Changed, c.ConfigChanged, c.Digest, img.Digest)
	}
}

// imageWith makes an image whose config starts with the raw members
// cfgPlatform, as a registry may serve it.
func imageWith(t *testing.T, cfgPlatform string) (Image, *Manifest) {
	t.Helper()
	c := child(t, "x", cfgPlatform)
	return c.Read, c.Manifest
}

func TestSetImageEquivalent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		config, want string
		// after is the platform the image has afterwards.
		after   string
		changed bool
	}{
		{`"architecture":"arm64","os":"linux","variant":"v8",`, "linux/arm64", "linux/arm64/v8", false},
		{`"architecture":"arm64","os":"linux",`, "linux/arm64/v8", "linux/arm64", false},
		{`"architecture":"amd64","os":"linux",`, "linux/amd64/v1", "linux/amd64", false},
		{`"architecture":"amd64","os":"linux","variant":"v1",`, "linux/amd64", "linux/amd64/v1", false},
		{`"architecture":"arm64","os":"linux","variant":"v8",`, "linux/arm64/8", "linux/arm64/v8", false},
		{`"architecture":"arm","os":"linux","variant":"v7",`, "linux/arm/7", "linux/arm/v7", false},
		// Not equivalent: a missing arm variant is filled in.
		{`"architecture":"arm","os":"linux",`, "linux/arm/v7", "linux/arm/v7", true},
		{`"architecture":"amd64","os":"linux",`, "linux/amd64/v2", "linux/amd64/v2", true},
	}
	for _, tt := range tests {
		t.Run(tt.config+tt.want, func(t *testing.T) {
			t.Parallel()
			img, m := imageWith(t, tt.config)
			c, err := SetImage(NewImage(img, m, nil), mustPlatform(t, tt.want), false)
			if err != nil {
				t.Fatalf("SetImage(%s, %s) = %v, want no error", tt.config, tt.want, err)
			}
			if c.Changed != tt.changed || c.ConfigChanged != tt.changed {
				t.Errorf("SetImage(%s, %s) = changed %t, config changed %t, want %t", tt.config, tt.want, c.Changed, c.ConfigChanged, tt.changed)
			}
			if !tt.changed && (c.Digest != img.Digest || !bytes.Equal(c.Manifest, img.Manifest) || !bytes.Equal(c.Config, img.Config)) {
				t.Errorf("SetImage(%s, %s) = digest %s, want the image's own %s and bytes", tt.config, tt.want, c.Digest, img.Digest)
			}
			if got, _ := patch.ReadPlatform(c.Config, nil); got.String() != tt.after || c.After.String() != tt.after {
				t.Errorf("SetImage(%s, %s) platform = %s (After %s), want %s", tt.config, tt.want, got, c.After, tt.after)
			}
		})
	}
}

func TestSetImageInvalidFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		config, want string
	}{
		{`"architecture":"arm64\nlinux/amd64","os":"linux",`, "linux/arm64"},
		{`"architecture":"amd64\r\r## All images passed","os":"linux",`, "linux/amd64"},
		{`"architecture":"arm64","os":"linux","variant":"v8\u001b[2K",`, "linux/arm64"},
		{`"architecture":"amd64","os":"linux ",`, "linux/amd64"},
		{`"architecture":"amd64","os":"windows","os.version":"10.0/1",`, "windows/amd64"},
		// Missing fields are filled in, but an invalid one next to them
		// still needs overwrite.
		{`"architecture":"","os":"linux","variant":"v8/",`, "linux/arm64/v8"},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			t.Parallel()
			img, m := imageWith(t, tt.config)
			want := mustPlatform(t, tt.want)
			_, err := SetImage(NewImage(img, m, nil), want, false)
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("SetImage(%s, %s, no overwrite) = %v, want a *ConflictError", tt.config, tt.want, err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r\x1b") {
				t.Errorf("SetImage(%s) error = %q, holds a control character", tt.config, msg)
			}
			c, err := SetImage(NewImage(img, m, nil), want, true)
			if err != nil {
				t.Fatalf("SetImage(%s, %s, overwrite) = %v, want no error", tt.config, tt.want, err)
			}
			if got, _ := patch.ReadPlatform(c.Config, nil); got != want || !c.Changed {
				t.Errorf("SetImage(%s, %s, overwrite) = %#v, changed %t, want %#v, changed", tt.config, tt.want, got, c.Changed, want)
			}
		})
	}
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, want string
		conflict   bool
	}{
		{"", "linux/amd64", false},
		{"linux/", "linux/amd64", false},
		{"windows/", "linux/amd64", true},
		{"linux/arm64", "linux/arm64/v8", false},
		{"linux/arm64/v8", "linux/arm64", false},
		{"linux/arm/v6", "linux/arm/v7", true},
		{"linux/amd64", "linux/arm64", true},
		{"windows/amd64", "windows/amd64:10.0.17763.6659", false},
		{"windows/amd64:10.0.20348.1", "windows/amd64:10.0.17763.6659", true},
		// A field that is not a valid name is present and different.
		{"linux/arm64\nlinux/amd64", "linux/arm64", true},
		{"linux/arm64/v8\n", "linux/arm64", true},
		{"linux /", "linux/amd64", true},
	}
	for _, tt := range tests {
		have := platform.Platform{}
		if tt.have != "" {
			have = parseLoose(tt.have)
		}
		if got := Conflicts(have, mustPlatform(t, tt.want)); got != tt.conflict {
			t.Errorf("Conflicts(%q, %q) = %t, want %t", tt.have, tt.want, got, tt.conflict)
		}
	}
}

// parseLoose splits os/arch[/variant][:version] without validation, for
// platforms as registries hold them (partly empty).
func parseLoose(s string) platform.Platform {
	var p platform.Platform
	s, p.OSVersion, _ = strings.Cut(s, ":")
	parts := append(strings.Split(s, "/"), "", "")
	p.OS, p.Architecture, p.Variant = parts[0], parts[1], parts[2]
	return p
}

func TestParseManifestRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mediaType types.MediaType
		body      string
	}{
		{"index", types.OCIImageIndex, `{"schemaVersion":2,"manifests":[]}`},
		{"manifest list", types.DockerManifestList, `{"schemaVersion":2,"manifests":[]}`},
		{"schema 1", types.DockerManifestSchema1Signed, `{"schemaVersion":1,"fsLayers":[]}`},
		{"artifact", types.OCIManifestSchema1, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}`},
		{"unknown", "application/vnd.example+json", `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseManifest(tt.mediaType, []byte(tt.body))
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Errorf("ParseManifest(%s) = %v, want an *UnsupportedError", tt.name, err)
			}
		})
	}
}
