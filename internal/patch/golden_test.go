package patch

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

var update = flag.Bool("update", false, "rewrite the golden files in the root testdata folder")

// testdataDir is the repository's root testdata folder.
const testdataDir = "../../testdata"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("reading fixture: %v (run: go run ./testdata/gen)", err)
	}
	return b
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func mustParse(t *testing.T, s string) platform.Platform {
	t.Helper()
	// A local parser keeps these tests independent of the platform
	// package's validation rules: "os/arch[/variant][:os.version]".
	p := platform.Platform{}
	rest, ver, _ := strings.Cut(s, ":")
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || len(parts) > 3 {
		t.Fatalf("bad test platform %q", s)
	}
	p.OS, p.Architecture, p.OSVersion = parts[0], parts[1], ver
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p
}

// goldenCase edits one fixture; the result must equal the golden file, and
// the edited object at objPath may differ from the input only in the
// edited keys.
type goldenCase struct {
	golden  string
	input   string
	objPath Path
	edited  []string
	edit    func(t *testing.T, in []byte) ([]byte, error)
}

// setConfigPlatform sets platform p on a config (the object at the root).
func setConfigPlatform(p string) func(*testing.T, []byte) ([]byte, error) {
	return func(t *testing.T, in []byte) ([]byte, error) {
		return SetPlatform(in, nil, mustParse(t, p))
	}
}

// setManifestConfig sets linux/amd64 on the manifest's config fixture and
// points the manifest at the result, as the planner does.
func setManifestConfig(configFixture string) func(*testing.T, []byte) ([]byte, error) {
	return func(t *testing.T, in []byte) ([]byte, error) {
		cfg, err := SetPlatform(readFixture(t, configFixture), nil, mustParse(t, "linux/amd64"))
		if err != nil {
			return nil, err
		}
		return SetDescriptor(in, Path{"config"}, sha256Digest(cfg), int64(len(cfg)))
	}
}

// setEntry sets an index entry's platform and points it at a new child.
func setEntry(i int, p, childSeed string) func(*testing.T, []byte) ([]byte, error) {
	return func(t *testing.T, in []byte) ([]byte, error) {
		out, err := SetPlatform(in, Path{"manifests", i, "platform"}, mustParse(t, p))
		if err != nil {
			return nil, err
		}
		return SetDescriptor(out, Path{"manifests", i}, sha256Digest([]byte(childSeed)), int64(len(childSeed)))
	}
}

var platformEdited = []string{"architecture", "os", "variant", "os.version"}

func goldenCases() []goldenCase {
	entryEdited := []string{"digest", "size", "platform"}
	return []goldenCase{
		{"pack-buildpack-package/config.linux-amd64.golden", "pack-buildpack-package/config.json", nil, platformEdited, setConfigPlatform("linux/amd64")},
		{"pack-buildpack-package/config.linux-arm-v7.golden", "pack-buildpack-package/config.json", nil, platformEdited, setConfigPlatform("linux/arm/v7")},
		{"pack-buildpack-package/manifest.linux-amd64.golden", "pack-buildpack-package/manifest.json", Path{"config"}, []string{"digest", "size"}, setManifestConfig("pack-buildpack-package/config.json")},
		{"pack-build/config.linux-amd64.golden", "pack-build/config.json", nil, platformEdited, setConfigPlatform("linux/amd64")},
		{"pack-build/config.windows-amd64-10.0.17763.6659.golden", "pack-build/config.json", nil, platformEdited, setConfigPlatform("windows/amd64:10.0.17763.6659")},
		{"pack-build/manifest.linux-amd64.golden", "pack-build/manifest.json", Path{"config"}, []string{"digest", "size"}, setManifestConfig("pack-build/config.json")},
		{"buildx-oci/config.linux-amd64.golden", "buildx-oci/config.json", nil, platformEdited, setConfigPlatform("linux/amd64")},
		{"buildx-oci/config.linux-arm-v7.golden", "buildx-oci/config.json", nil, platformEdited, setConfigPlatform("linux/arm/v7")},
		{"buildx-oci/manifest.linux-amd64.golden", "buildx-oci/manifest.json", Path{"config"}, []string{"digest", "size"}, setManifestConfig("buildx-oci/config.json")},
		{"indented/config.linux-amd64.golden", "indented/config.json", nil, platformEdited, setConfigPlatform("linux/amd64")},
		{"indented/config.windows-amd64-10.0.17763.6659.golden", "indented/config.json", nil, platformEdited, setConfigPlatform("windows/amd64:10.0.17763.6659")},
		{"buildx-index/index.entry0-linux-amd64-v3.golden", "buildx-index/index.json", Path{"manifests", 0}, entryEdited, setEntry(0, "linux/amd64/v3", "new amd64 child")},
		{"buildx-index/index.entry1-linux-arm64.golden", "buildx-index/index.json", Path{"manifests", 1}, entryEdited, setEntry(1, "linux/arm64", "new arm64 child")},
		{"manifest-list/index.entry1-linux-arm-v6.golden", "manifest-list/index.json", Path{"manifests", 1}, entryEdited, setEntry(1, "linux/arm/v6", "new arm child")},
		{"manifest-list/index.entry3-windows-amd64-10.0.20348.2966.golden", "manifest-list/index.json", Path{"manifests", 3}, entryEdited, setEntry(3, "windows/amd64:10.0.20348.2966", "new windows child")},
		{"crane-index/index.entry0-linux-amd64.golden", "crane-index/index.json", Path{"manifests", 0}, entryEdited, setEntry(0, "linux/amd64", "new app child")},
		{"crane-index/index.entry1-linux-amd64.golden", "crane-index/index.json", Path{"manifests", 1}, entryEdited, setEntry(1, "linux/amd64", "new buildpack child")},
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range goldenCases() {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			in := readFixture(t, tt.input)
			got, err := tt.edit(t, in)
			if err != nil {
				t.Fatalf("editing %s: %v", tt.input, err)
			}
			if err := checkPreserved(in, got, tt.objPath, tt.edited...); err != nil {
				t.Errorf("editing %s: %v", tt.input, err)
			}
			path := filepath.Join(testdataDir, filepath.FromSlash(tt.golden))
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatalf("writing golden: %v", err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden: %v (run: go test ./internal/patch -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("editing %s = %d bytes, want the %d bytes of %s; first difference at offset %d",
					tt.input, len(got), len(want), tt.golden, firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestFixtureDigests checks the fixtures hold real digests where they hold
// the bytes pointed to.
func TestFixtureDigests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc    string
		path   Path
		target string
	}{
		{"pack-buildpack-package/manifest.json", Path{"config"}, "pack-buildpack-package/config.json"},
		{"pack-build/manifest.json", Path{"config"}, "pack-build/config.json"},
		{"buildx-oci/manifest.json", Path{"config"}, "buildx-oci/config.json"},
		{"buildx-index/index.json", Path{"manifests", 1}, "buildx-oci/manifest.json"},
		{"crane-index/index.json", Path{"manifests", 0}, "pack-build/manifest.json"},
		{"crane-index/index.json", Path{"manifests", 1}, "pack-buildpack-package/manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.doc+" "+tt.path.String(), func(t *testing.T) {
			t.Parallel()
			doc, target := readFixture(t, tt.doc), readFixture(t, tt.target)
			digest, _, err := Get(doc, with(tt.path, "digest"))
			if err != nil {
				t.Fatal(err)
			}
			size, _, err := Get(doc, with(tt.path, "size"))
			if err != nil {
				t.Fatal(err)
			}
			if want := `"` + sha256Digest(target) + `"`; string(digest) != want {
				t.Errorf("%s %s digest = %s, want %s", tt.doc, tt.path, digest, want)
			}
			if want := strconv.Itoa(len(target)); string(size) != want {
				t.Errorf("%s %s size = %s, want %s", tt.doc, tt.path, size, want)
			}
		})
	}
}
