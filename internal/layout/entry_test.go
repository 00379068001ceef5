package layout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// entryPlatformFiles is a layout of two images, "1.0" (the image it
// returns) listed with a platform as crane writes it, "2.0" without.
func entryPlatformFiles() ([]file, img) {
	a, b := newImage("a"), newImage("b")
	files := ociFiles([]img{a, b}, []string{"1.0", "2.0"})
	for i, f := range files {
		if f.name == "index.json" {
			files[i].body = []byte(strings.Replace(string(f.body), `,"annotations"`, `,"platform":{"architecture":"arm64","os":"linux"},"annotations"`, 1))
		}
	}
	return files, a
}

func TestEntryPlatform(t *testing.T) {
	t.Parallel()
	files, a := entryPlatformFiles()
	l := openRef(t, imageref.OCI, writeDir(t, files))
	tests := []struct {
		ref  string
		want string // "" for no platform
	}{
		{"1.0", "linux/arm64"},
		{"@" + sha(a.manifest).String(), "linux/arm64"},
		{"2.0", ""},
		// A manifest blob index.json does not list has no entry.
		{sha(a.config).String(), ""},
	}
	for _, tt := range tests {
		p, ok, err := l.EntryPlatform(tt.ref)
		got := ""
		if ok {
			got = p.String()
		}
		if err != nil || got != tt.want {
			t.Errorf("EntryPlatform(%q) = %q, %v, want %q", tt.ref, got, err, tt.want)
		}
	}
	if _, _, err := l.EntryPlatform("3.0"); !isNotFound(err) {
		t.Errorf("EntryPlatform(%q) = %v, want a not-found error", "3.0", err)
	}
}

func TestSetEntryPlatform(t *testing.T) {
	t.Parallel()
	amd64 := platform.Platform{OS: "linux", Architecture: "amd64"}
	for _, k := range []imageref.Transport{imageref.OCI, imageref.OCIArchive} {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			files, _ := entryPlatformFiles()
			index := string(indexOf(t, files))
			path := writeKind(t, k, "/", files)
			l := openRef(t, k, path)
			if err := l.SetEntryPlatform("1.0", amd64); err != nil {
				t.Fatalf("SetEntryPlatform(%q) = %v", "1.0", err)
			}
			if err := l.SetEntryPlatform("2.0", amd64); err != nil {
				t.Fatalf("SetEntryPlatform(%q) = %v", "2.0", err)
			}
			if err := l.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := readIndexJSON(t, k, path)
			// Entry 1.0: one value replaced; entry 2.0: a platform added
			// after its last member; every other byte as it was.
			second := strings.Index(index, "\n    {\"mediaType\"")
			second += 1 + strings.Index(index[second+1:], "\n    {")
			if want := strings.Replace(index[:second], `"arm64"`, `"amd64"`, 1); !strings.HasPrefix(got, want) {
				t.Errorf("index.json = %s, want it to start with %s", got, want)
			}
			if want := "}}\n  ]\n}\n"; !strings.HasSuffix(got, want) {
				t.Errorf("index.json = %s, want it to end as it did, %q", got, want)
			}
			for _, ref := range []string{"1.0", "2.0"} {
				if p, ok, err := openRef(t, k, path).EntryPlatform(ref); err != nil || !ok || p != amd64 {
					t.Errorf("EntryPlatform(%q) after SetEntryPlatform = %v, %t, %v, want %v", ref, p, ok, err, amd64)
				}
			}
		})
	}
}

// readIndexJSON reads index.json of the layout or archive at path.
func readIndexJSON(t testing.TB, k imageref.Transport, path string) string {
	t.Helper()
	if k == imageref.OCI {
		b, err := os.ReadFile(filepath.Join(path, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	_, bodies := readTar(t, path)
	return string(bodies["/index.json"])
}

func TestEntryPlatformDockerArchive(t *testing.T) {
	t.Parallel()
	l := openRef(t, imageref.DockerArchive, writeArchive(t, "", dockerFiles(newImage("d"))))
	if _, ok, err := l.EntryPlatform(""); ok || err != nil {
		t.Errorf("EntryPlatform(%q) = %t, %v, want no entry and no error", "", ok, err)
	}
	if err := l.SetEntryPlatform("", platform.Platform{OS: "linux", Architecture: "amd64"}); err == nil {
		t.Errorf("SetEntryPlatform(%q) = nil, want an error: a docker-archive has no index.json", "")
	}
}
