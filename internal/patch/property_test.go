package patch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// propertyPlatforms are set on every object that may carry a platform; the
// last ones need escaping in JSON.
var propertyPlatforms = []platform.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm", Variant: "v7"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
	{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"},
	{OS: "linux", Architecture: "amd64", Variant: "v3", OSVersion: "5.15"},
	{OS: "lin\"ux", Architecture: "<amd64>&\u2028", Variant: "\x01é"},
}

// TestPropertyFixtures runs platform, descriptor, replace and delete edits
// over every fixture and checks that only the edited members change.
func TestPropertyFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(testdataDir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("listing fixtures: %v, %d files (run: go run ./testdata/gen)", err, len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			doc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(doc); err != nil {
				t.Fatalf("Validate = %v", err)
			}
			checkPropertyAll(t, doc)
		})
	}
}

// checkPropertyAll runs the edit battery on doc.
func checkPropertyAll(t *testing.T, doc []byte) {
	t.Helper()
	top, err := membersOf(trimWS(doc))
	if err != nil {
		t.Fatalf("reading members: %v", err)
	}
	for _, kv := range top {
		// Delete and replace each top-level member.
		for _, v := range [][]byte{nil, []byte(`null`), []byte(`{"x":[1,2]}`)} {
			out, err := Apply(doc, Edit{Path: Path{kv.Key}, Value: v})
			if err != nil {
				t.Fatalf("Apply(%q = %s) = %v", kv.Key, v, err)
			}
			if err := checkPreserved(doc, out, nil, kv.Key); err != nil {
				t.Errorf("Apply(%q = %s): %v", kv.Key, v, err)
			}
		}
	}
	out, err := Apply(doc, Edit{Path: Path{"new key"}, Value: []byte(`"v"`)})
	if err != nil {
		t.Fatalf("Apply(insert) = %v", err)
	}
	if err := checkPreserved(doc, out, nil, "new key"); err != nil {
		t.Errorf("Apply(insert): %v", err)
	}

	var shape struct {
		Manifests []json.RawMessage `json:"manifests"`
		Config    json.RawMessage   `json:"config"`
		MediaType string            `json:"mediaType"`
	}
	if err := json.Unmarshal(doc, &shape); err != nil {
		t.Fatal(err)
	}
	const digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	isManifest := shape.Config != nil && len(shape.Manifests) == 0 && shape.MediaType != ""
	switch {
	case len(shape.Manifests) > 0:
		for i := range shape.Manifests {
			entry := Path{"manifests", i}
			for _, p := range propertyPlatforms {
				checkSetPlatform(t, doc, with(entry, "platform"), p)
			}
			out, err := SetDescriptor(doc, entry, digest, 42)
			if err != nil {
				t.Fatalf("SetDescriptor(%s) = %v", entry, err)
			}
			if err := checkPreserved(doc, out, entry, "digest", "size"); err != nil {
				t.Errorf("SetDescriptor(%s): %v", entry, err)
			}
			// The entry without its platform, then with one again.
			bare, err := Apply(doc, Edit{Path: with(entry, "platform")})
			if err != nil {
				t.Fatalf("deleting platform of %s: %v", entry, err)
			}
			checkSetPlatform(t, bare, with(entry, "platform"), propertyPlatforms[1])
		}
	case isManifest:
		out, err := SetDescriptor(doc, Path{"config"}, digest, 42)
		if err != nil {
			t.Fatalf("SetDescriptor(config) = %v", err)
		}
		if err := checkPreserved(doc, out, Path{"config"}, "digest", "size"); err != nil {
			t.Errorf("SetDescriptor(config): %v", err)
		}
	default: // an image config
		for _, p := range propertyPlatforms {
			checkSetPlatform(t, doc, nil, p)
		}
	}
}

// checkSetPlatform sets p at path and checks the result: the property, the
// platform read back, and that setting it again changes nothing.
func checkSetPlatform(t *testing.T, doc []byte, path Path, p platform.Platform) {
	t.Helper()
	_, existed, err := Get(doc, path)
	if err != nil {
		t.Fatalf("Get(%s) = %v", path, err)
	}
	out, err := SetPlatform(doc, path, p)
	if err != nil {
		t.Fatalf("SetPlatform(%s, %+v) = %v", path, p, err)
	}
	objPath, edited := path, platformEdited
	if !existed {
		objPath, edited = path[:len(path)-1], []string{path[len(path)-1].(string)}
	}
	if err := checkPreserved(doc, out, objPath, edited...); err != nil {
		t.Errorf("SetPlatform(%s, %+v): %v", path, p, err)
	}
	if got, err := ReadPlatform(out, path); err != nil || got != p {
		t.Errorf("ReadPlatform(SetPlatform(%s, %+v)) = %+v, %v, want %+v", path, p, got, err, p)
	}
	if again, err := SetPlatform(out, path, p); err != nil || string(again) != string(out) {
		t.Errorf("SetPlatform(%s, %+v) twice changed the document: %v", path, p, err)
	}
}

func trimWS(b []byte) []byte {
	for len(b) > 0 && isWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// TestCheckPreserved makes sure the property check itself catches changes.
func TestCheckPreserved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		before, after string
		objPath       Path
		edited        []string
		wantErr       bool
	}{
		{"edited member only", `{"a":1,"b":2}`, `{"a":3,"b":2}`, nil, []string{"a"}, false},
		{"edited member removed", `{"a":1,"b":2}`, `{"b":2}`, nil, []string{"a"}, false},
		{"unedited member changed", `{"a":1,"b":2}`, `{"a":1,"b":3}`, nil, []string{"a"}, true},
		{"unedited member respelled", `{"a":1,"b":1.0}`, `{"a":2,"b":1}`, nil, []string{"a"}, true},
		{"members reordered", `{"a":1,"b":2}`, `{"b":2,"a":1}`, nil, []string{"x"}, true},
		{"bytes before changed", ` {"a":1}`, `{"a":2}`, nil, []string{"a"}, true},
		{"bytes after object changed", `{"x":{"a":1},"y":1}`, `{"x":{"a":2},"y":2}`, Path{"x"}, []string{"a"}, true},
		{"bytes before object changed", `{"w":0,"x":{"a":1}}`, `{"w":1,"x":{"a":2}}`, Path{"x"}, []string{"a"}, true},
		{"result invalid", `{"a":1}`, `{"a":}`, nil, []string{"a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkPreserved([]byte(tt.before), []byte(tt.after), tt.objPath, tt.edited...)
			if (err != nil) != tt.wantErr {
				t.Errorf("checkPreserved(%q, %q, %s, %q) = %v, want error %v", tt.before, tt.after, tt.objPath, tt.edited, err, tt.wantErr)
			}
		})
	}
}
