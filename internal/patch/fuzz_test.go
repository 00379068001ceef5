package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// seedDocs are small documents covering the layouts the edits care about.
var seedDocs = []string{
	`{}`,
	`{"a":1}`,
	`{"a":1,"b":2,"c":3}`,
	"{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [1, 2]\n  }\n}\n",
	"{\r\n\t\"a\" : 1 ,\r\n\t\"b\" : {}\r\n}",
	`{"architecture":"","os":"linux","rootfs":{"type":"layers"}}`,
	`{"architecture":"arm64","os":"linux","variant":"v8"}`,
	`{"os\u002eversion":"1","\u0061rchitecture":"amd\u0036\u0034"}`,
	`{"manifests":[{"digest":"sha256:aa","size":1},{"platform":{"architecture":"","os":"linux"}}]}`,
	`{"n":-0,"m":1e3,"s":"\"\\\u00e9<>&"}`,
	"{\n  \"manifests\": [\n    {\n      \"size\": 1\n    },\n    {\n      \"platform\": {}\n    }\n  ]\n}",
}

// addFixtureSeeds adds each fixture file through add.
func addFixtureSeeds(f *testing.F, add func(doc []byte)) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
	for _, d := range seedDocs {
		add([]byte(d))
	}
}

// objectPath descends from the top level into the first object-valued
// member, n times at most, using encoding/json only.
func objectPath(doc []byte, n int) Path {
	var path Path
	for range n {
		start, end, ok, err := locate(doc, path)
		if err != nil || !ok {
			return path
		}
		members, err := membersOf(doc[start:end])
		if err != nil {
			return path
		}
		found := false
		for _, kv := range members {
			if len(kv.Raw) > 0 && kv.Raw[0] == '{' {
				path = with(path, kv.Key)
				found = true
				break
			}
		}
		if !found {
			return path
		}
	}
	return path
}

func FuzzApply(f *testing.F) {
	addFixtureSeeds(f, func(doc []byte) {
		f.Add(doc, "architecture", []byte(`"amd64"`), false, uint8(0))
		f.Add(doc, "os", []byte(nil), true, uint8(0))
		f.Add(doc, "new", []byte(` {"k": [1, "x"]} `), false, uint8(1))
		f.Add(doc, "Labels", []byte(`null`), false, uint8(2))
	})
	f.Fuzz(func(t *testing.T, doc []byte, key string, value []byte, del bool, depth uint8) {
		if Validate(doc) != nil {
			if out, err := Apply(doc, Edit{Path: Path{key}, Value: []byte(`1`)}); err == nil {
				t.Fatalf("Apply(%q) of an invalid document = %q, want an error", doc, out)
			}
			return
		}
		objPath := objectPath(doc, int(depth%4))
		e := Edit{Path: with(objPath, key), Value: value}
		if del {
			e.Value = nil
		} else if value == nil {
			e.Value = []byte{}
		}
		out, err := Apply(doc, e)
		if err != nil {
			if !utf8.ValidString(key) {
				return // refused: it could not be written faithfully
			}
			if e.Value == nil {
				t.Fatalf("Apply(%q, delete %s) = %v", doc, e.Path, err)
			}
			if json.Valid(e.Value) && !errors.Is(err, ErrDuplicateKey) && !errors.Is(err, ErrTooDeep) {
				t.Fatalf("Apply(%q, %s = %q) = %v, want success for valid JSON", doc, e.Path, e.Value, err)
			}
			return
		}
		if !utf8.ValidString(key) && e.Value != nil {
			t.Fatalf("Apply(%q, %s = %q) = %q, want an error for a key that is not UTF-8", doc, e.Path, e.Value, out)
		}
		if e.Value != nil && !json.Valid(e.Value) {
			t.Fatalf("Apply(%q, %s = %q) = %q, want an error for invalid JSON", doc, e.Path, e.Value, out)
		}
		if err := checkPreserved(doc, out, objPath, key); err != nil {
			t.Fatalf("Apply(%q, %s = %q): %v", doc, e.Path, e.Value, err)
		}
		start, end, ok, err := locate(out, e.Path)
		switch {
		case err != nil:
			t.Fatalf("locating %s in %q: %v", e.Path, out, err)
		case e.Value == nil && ok:
			t.Fatalf("Apply(%q, delete %s) = %q, member still there", doc, e.Path, out)
		case e.Value != nil && (!ok || !bytes.Equal(out[start:end], trimWS(e.Value))):
			t.Fatalf("Apply(%q, %s = %q) = %q, value not there", doc, e.Path, e.Value, out)
		}
	})
}

func FuzzSetPlatform(f *testing.F) {
	addFixtureSeeds(f, func(doc []byte) {
		f.Add(doc, "linux", "amd64", "", "", false)
		f.Add(doc, "linux", "arm", "v7", "", false)
		f.Add(doc, "windows", "amd64", "", "10.0.17763.6659", true)
		f.Add(doc, "linux", "arm64", "v8", "", true)
	})
	f.Fuzz(func(t *testing.T, doc []byte, goos, arch, variant, osVersion string, entry bool) {
		p := platform.Platform{OS: goos, Architecture: arch, Variant: variant, OSVersion: osVersion}
		var path Path
		if entry {
			path = Path{"manifests", 0, "platform"}
		}
		out, err := SetPlatform(doc, path, p)
		validUTF8 := utf8.ValidString(goos + arch + variant + osVersion)
		if Validate(doc) != nil || p.OS == "" || p.Architecture == "" || !validUTF8 {
			if err == nil {
				t.Fatalf("SetPlatform(%q, %+v) = %q, want an error", doc, p, out)
			}
			return
		}
		_, readErr := ReadPlatform(doc, path)
		if err != nil {
			if readErr == nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrTooDeep) && !errors.Is(err, ErrNotObject) {
				t.Fatalf("SetPlatform(%q, %s, %+v) = %v, but ReadPlatform succeeds", doc, path, p, err)
			}
			return
		}
		if readErr != nil {
			t.Fatalf("SetPlatform(%q, %s, %+v) succeeded, but ReadPlatform = %v", doc, path, p, readErr)
		}
		_, existed, _ := Get(doc, path)
		objPath, edited := path, platformEdited
		if !existed {
			objPath, edited = path[:len(path)-1], []string{"platform"}
		}
		if err := checkPreserved(doc, out, objPath, edited...); err != nil {
			t.Fatalf("SetPlatform(%q, %s, %+v): %v", doc, path, p, err)
		}
		if got, err := ReadPlatform(out, path); err != nil || got != p {
			t.Fatalf("ReadPlatform(SetPlatform(%q, %s, %+v)) = %+v, %v", doc, path, p, got, err)
		}
		if again, err := SetPlatform(out, path, p); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("SetPlatform(%q, %s, %+v) twice = %q, %v, want %q", doc, path, p, again, err, out)
		}
	})
}

// FuzzValidate checks the scanner against encoding/json.
func FuzzValidate(f *testing.F) {
	addFixtureSeeds(f, func(doc []byte) { f.Add(doc) })
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`[1]`))
	f.Add([]byte(`{"a":1e}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := Validate(doc)
		valid := json.Valid(doc)
		switch {
		case err == nil && !valid:
			t.Fatalf("Validate(%q) = nil, but encoding/json refuses it", doc)
		case err == nil:
			var m map[string]json.RawMessage
			if jerr := json.Unmarshal(doc, &m); jerr != nil {
				t.Fatalf("Validate(%q) = nil, but it does not decode as an object: %v", doc, jerr)
			}
		case errors.Is(err, ErrInvalidJSON) && valid:
			t.Fatalf("Validate(%q) = %v, but encoding/json accepts it", doc, err)
		case valid && errors.Is(err, ErrNotObject) && bytes.HasPrefix(trimWS(doc), []byte("{")):
			t.Fatalf("Validate(%q) = %v, but it is one object", doc, err)
		}
	})
}

// FuzzReadPlatformDisplay reads the platform of whatever config or index a
// registry serves and checks that String and Display, which every log,
// summary and output goes through, hold printable text only, and quote
// exactly the fields that are not valid names.
func FuzzReadPlatformDisplay(f *testing.F) {
	addFixtureSeeds(f, func(doc []byte) {
		f.Add(doc, false)
		f.Add(doc, true)
	})
	f.Add([]byte(`{"architecture":"arm64\nlinux/amd64","os":"linux"}`), false)
	f.Add([]byte(`{"architecture":"amd64\r\r## All images passed, merge away","os":"linux"}`), false)
	f.Add([]byte(`{"architecture":"\u001b[2K\u001b[32mamd64","os":"li\u202enux","variant":"\u2028","os.version":"\ud800"}`), false)
	f.Add([]byte("{\"manifests\":[{\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\\u0000\"}}]}"), true)
	f.Fuzz(func(t *testing.T, doc []byte, entry bool) {
		var path Path
		if entry {
			path = Path{"manifests", 0, "platform"}
		}
		p, err := ReadPlatform(doc, path)
		if err != nil {
			return
		}
		for _, s := range []string{p.String(), p.Display()} {
			for _, r := range s {
				if !strconv.IsPrint(r) {
					t.Fatalf("ReadPlatform(%q) = %#v, which formats as %q, holding %U", doc, p, s, r)
				}
			}
		}
		if quoted := strings.ContainsRune(p.String(), '"'); quoted == p.Valid() {
			t.Fatalf("ReadPlatform(%q) = %#v: String() = %q, Valid() = %t; want quotes exactly when invalid", doc, p, p.String(), p.Valid())
		}
	})
}
