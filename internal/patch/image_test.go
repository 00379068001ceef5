package patch

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

func TestReadPlatform(t *testing.T) {
	t.Parallel()
	const index = `{"manifests":[{"digest":"sha256:aa","platform":{"architecture":"arm","os":"linux","variant":"v7"}},{"digest":"sha256:bb"},{"platform":"linux"}]}`
	tests := []struct {
		name    string
		doc     string
		path    Path
		want    platform.Platform
		wantErr error // with invalid: nil means any error
		invalid bool
	}{
		{"config", `{"architecture":"amd64","os":"linux","rootfs":{}}`, nil, platform.Platform{OS: "linux", Architecture: "amd64"}, nil, false},
		{"config all keys", `{"os.version":"10.0.17763.6659","variant":"","os":"windows","architecture":"amd64"}`, Path{}, platform.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"}, nil, false},
		{"empty architecture", `{"architecture":"","os":"linux"}`, nil, platform.Platform{OS: "linux"}, nil, false},
		{"missing keys", `{"config":{}}`, nil, platform.Platform{}, nil, false},
		{"escaped keys and values", `{"os\u002eversion":"1\u002e0","\u006fs":"linu\u0078"}`, nil, platform.Platform{OS: "linux", OSVersion: "1.0"}, nil, false},
		{"index entry", index, Path{"manifests", 0, "platform"}, platform.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, nil, false},
		{"index entry without platform", index, Path{"manifests", 1, "platform"}, platform.Platform{}, nil, false},
		{"index entry missing", index, Path{"manifests", 7, "platform"}, platform.Platform{}, nil, false},
		{"platform not an object", index, Path{"manifests", 2, "platform"}, platform.Platform{}, ErrNotObject, true},
		{"non-string value", `{"architecture":null,"os":"linux"}`, nil, platform.Platform{}, nil, true},
		{"number value", `{"architecture":"amd64","os":"linux","variant":8}`, nil, platform.Platform{}, nil, true},
		{"case variant", `{"Architecture":"amd64","os":"linux"}`, nil, platform.Platform{}, ErrDuplicateKey, true},
		{"case variant of path key", `{"manifests":[{"Platform":{},"platform":{}}]}`, Path{"manifests", 0, "platform"}, platform.Platform{}, ErrDuplicateKey, true},
		{"duplicate keys", `{"os":"linux","os":"windows"}`, nil, platform.Platform{}, ErrDuplicateKey, true},
		{"not an object", `["os"]`, nil, platform.Platform{}, ErrNotObject, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadPlatform([]byte(tt.doc), tt.path)
			if (err != nil) != tt.invalid {
				t.Fatalf("ReadPlatform(%q, %s) = %+v, %v, want error %v", tt.doc, tt.path, got, err, tt.invalid)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("ReadPlatform(%q, %s) = %v, want one wrapping %v", tt.doc, tt.path, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadPlatform(%q, %s) mismatch (-want +got):\n%s", tt.doc, tt.path, diff)
			}
		})
	}
}

func TestSetPlatform(t *testing.T) {
	t.Parallel()
	amd64 := platform.Platform{OS: "linux", Architecture: "amd64"}
	armv7 := platform.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	windows := platform.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"}
	tests := []struct {
		name string
		doc  string
		path Path
		p    platform.Platform
		want string
	}{
		{"empty architecture", `{"architecture":"","created":"1980-01-01T00:00:01Z","os":"linux","rootfs":{}}`, nil, amd64,
			`{"architecture":"amd64","created":"1980-01-01T00:00:01Z","os":"linux","rootfs":{}}`},
		{"keys missing", `{"rootfs":{}}`, nil, armv7, `{"rootfs":{},"architecture":"arm","os":"linux","variant":"v7"}`},
		{"empty object", `{}`, nil, windows, `{"architecture":"amd64","os":"windows","os.version":"10.0.17763.6659"}`},
		{"variant deleted", `{"architecture":"arm64","os":"linux","rootfs":{},"variant":"v8"}`, nil, amd64, `{"architecture":"amd64","os":"linux","rootfs":{}}`},
		{"variant deleted pretty", "{\n  \"architecture\": \"arm64\",\n  \"variant\": \"v8\",\n  \"os\": \"linux\"\n}\n", nil, amd64, "{\n  \"architecture\": \"amd64\",\n  \"os\": \"linux\"\n}\n"},
		{"os.version inserted pretty", "{\n  \"architecture\": \"\",\n  \"os\": \"linux\"\n}", nil, windows, "{\n  \"architecture\": \"amd64\",\n  \"os\": \"windows\",\n  \"os.version\": \"10.0.17763.6659\"\n}"},
		{"os.version deleted", `{"architecture":"amd64","os":"windows","os.version":"10.0.17763.6659","x":1}`, nil, amd64, `{"architecture":"amd64","os":"linux","x":1}`},
		{"escaped equal value untouched", `{"architecture":"amd\u0036\u0034","os":"linux"}`, nil, amd64, `{"architecture":"amd\u0036\u0034","os":"linux"}`},
		{"escaped key replaced in place", `{"os\u002eversion":"1","architecture":"amd64","os":"windows"}`, nil, windows, `{"os\u002eversion":"10.0.17763.6659","architecture":"amd64","os":"windows"}`},
		{"no html escaping", `{}`, nil, platform.Platform{OS: "linux", Architecture: "amd64", Variant: "<v&>"}, `{"architecture":"amd64","os":"linux","variant":"<v&>"}`},
		{"index entry existing", `{"manifests":[{"digest":"sha256:aa","platform":{"architecture":"","os":"linux"}}]}`, Path{"manifests", 0, "platform"}, armv7,
			`{"manifests":[{"digest":"sha256:aa","platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}`},
		{"index entry inserted", `{"manifests":[{"digest":"sha256:aa","size":1}]}`, Path{"manifests", 0, "platform"}, windows,
			`{"manifests":[{"digest":"sha256:aa","size":1,"platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.6659"}}]}`},
		{"index entry inserted pretty", "{\n  \"manifests\": [\n    {\n      \"digest\": \"sha256:aa\",\n      \"size\": 1\n    }\n  ]\n}", Path{"manifests", 0, "platform"}, amd64,
			"{\n  \"manifests\": [\n    {\n      \"digest\": \"sha256:aa\",\n      \"size\": 1,\n      \"platform\": {\n        \"architecture\": \"amd64\",\n        \"os\": \"linux\"\n      }\n    }\n  ]\n}"},
		{"index entry inserted crlf tabs", "{\"manifests\":[{\r\n\t\t\"size\" : 1\r\n\t}]}", Path{"manifests", 0, "platform"}, armv7,
			"{\"manifests\":[{\r\n\t\t\"size\" : 1,\r\n\t\t\"platform\" : {\r\n\t\t\t\"architecture\" : \"arm\",\r\n\t\t\t\"os\" : \"linux\",\r\n\t\t\t\"variant\" : \"v7\"\r\n\t\t}\r\n\t}]}"},
		{"index entry inserted spaced", `{"manifests":[{ "size": 1 }]}`, Path{"manifests", 0, "platform"}, amd64,
			`{"manifests":[{ "size": 1, "platform": {"architecture": "amd64", "os": "linux"} }]}`},
		{"index entry inserted into empty", `{"manifests":[{}]}`, Path{"manifests", 0, "platform"}, amd64,
			`{"manifests":[{"platform":{"architecture":"amd64","os":"linux"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := SetPlatform([]byte(tt.doc), tt.path, tt.p)
			if err != nil {
				t.Fatalf("SetPlatform(%q, %s, %v) = error %v", tt.doc, tt.path, tt.p, err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("SetPlatform(%q, %s, %v) mismatch (-want +got):\n%s", tt.doc, tt.path, tt.p, diff)
			}
			back, err := ReadPlatform(got, tt.path)
			if err != nil || back != tt.p {
				t.Errorf("ReadPlatform(SetPlatform(...)) = %+v, %v, want %+v", back, err, tt.p)
			}
			again, err := SetPlatform(got, tt.path, tt.p)
			if err != nil || string(again) != string(got) {
				t.Errorf("SetPlatform twice = %q, %v, want %q", again, err, got)
			}
		})
	}
}

func TestSetPlatformErrors(t *testing.T) {
	t.Parallel()
	amd64 := platform.Platform{OS: "linux", Architecture: "amd64"}
	tests := []struct {
		name    string
		doc     string
		path    Path
		p       platform.Platform
		wantErr error // nil: any error
	}{
		{"no architecture", `{}`, nil, platform.Platform{OS: "linux"}, nil},
		{"no os", `{}`, nil, platform.Platform{Architecture: "amd64"}, nil},
		{"missing index entry", `{"manifests":[]}`, Path{"manifests", 1, "platform"}, amd64, ErrNotFound},
		{"missing manifests", `{}`, Path{"manifests", 0, "platform"}, amd64, ErrNotFound},
		{"platform not an object", `{"manifests":[{"platform":[]}]}`, Path{"manifests", 0, "platform"}, amd64, ErrNotObject},
		{"non-string existing value", `{"architecture":1,"os":"linux"}`, nil, amd64, nil},
		{"non-string variant to delete", `{"architecture":"amd64","os":"linux","variant":false}`, nil, amd64, nil},
		{"case variant key", `{"architecture":"","OS":"windows","os":"linux"}`, nil, amd64, ErrDuplicateKey},
		{"case variant platform key", `{"manifests":[{"Platform":{"os":"linux"}}]}`, Path{"manifests", 0, "platform"}, amd64, ErrDuplicateKey},
		{"duplicate keys", `{"architecture":"","architecture":""}`, nil, amd64, ErrDuplicateKey},
		{"not an object", `"x"`, nil, amd64, ErrNotObject},
		{"variant not utf-8", `{}`, nil, platform.Platform{OS: "linux", Architecture: "arm", Variant: "v\xff"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := SetPlatform([]byte(tt.doc), tt.path, tt.p)
			if err == nil {
				t.Fatalf("SetPlatform(%q, %s, %v) = %q, want an error", tt.doc, tt.path, tt.p, got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("SetPlatform(%q, %s, %v) = %v, want one wrapping %v", tt.doc, tt.path, tt.p, err, tt.wantErr)
			}
		})
	}
}

func TestSetDescriptor(t *testing.T) {
	t.Parallel()
	const (
		oldDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		newDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	tests := []struct {
		name   string
		doc    string
		path   Path
		digest string
		size   int64
		want   string
	}{
		{"docker manifest config", `{"schemaVersion":2,"config":{"mediaType":"m","size":10,"digest":"` + oldDigest + `"},"layers":[]}`, Path{"config"}, newDigest, 1234,
			`{"schemaVersion":2,"config":{"mediaType":"m","size":1234,"digest":"` + newDigest + `"},"layers":[]}`},
		{"oci order pretty", "{\n  \"config\": {\n    \"digest\": \"" + oldDigest + "\",\n    \"size\": 10\n  }\n}", Path{"config"}, newDigest, 7,
			"{\n  \"config\": {\n    \"digest\": \"" + newDigest + "\",\n    \"size\": 7\n  }\n}"},
		{"index entry", `{"manifests":[{"digest":"` + oldDigest + `","size":1,"annotations":{"a":"b"}},{"digest":"` + oldDigest + `","size":1}]}`, Path{"manifests", 1}, newDigest, 2,
			`{"manifests":[{"digest":"` + oldDigest + `","size":1,"annotations":{"a":"b"}},{"digest":"` + newDigest + `","size":2}]}`},
		{"unchanged", `{"config":{"size":10,"digest":"` + oldDigest + `"}}`, Path{"config"}, oldDigest, 10, `{"config":{"size":10,"digest":"` + oldDigest + `"}}`},
		{"size spelled otherwise", `{"config":{"size":1e1,"digest":"` + oldDigest + `"}}`, Path{"config"}, oldDigest, 10, `{"config":{"size":10,"digest":"` + oldDigest + `"}}`},
		{"keys inserted", `{"config":{"mediaType":"m"}}`, Path{"config"}, newDigest, 0, `{"config":{"mediaType":"m","digest":"` + newDigest + `","size":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := SetDescriptor([]byte(tt.doc), tt.path, tt.digest, tt.size)
			if err != nil {
				t.Fatalf("SetDescriptor(%q, %s) = error %v", tt.doc, tt.path, err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("SetDescriptor(%q, %s) mismatch (-want +got):\n%s", tt.doc, tt.path, diff)
			}
		})
	}
}

func TestSetDescriptorErrors(t *testing.T) {
	t.Parallel()
	const digest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	tests := []struct {
		name    string
		doc     string
		path    Path
		digest  string
		size    int64
		wantErr error
	}{
		{"missing object", `{"layers":[]}`, Path{"config"}, digest, 1, ErrNotFound},
		{"not an object", `{"config":"x"}`, Path{"config"}, digest, 1, ErrNotObject},
		{"bad digest", `{"config":{}}`, Path{"config"}, "1234", 1, nil},
		{"empty digest", `{"config":{}}`, Path{"config"}, "", 1, nil},
		{"negative size", `{"config":{}}`, Path{"config"}, digest, -1, nil},
		{"digest not a string", `{"config":{"digest":1}}`, Path{"config"}, digest, 1, nil},
		{"case variant", `{"config":{"Digest":"x"}}`, Path{"config"}, digest, 1, ErrDuplicateKey},
		{"case variant of path key", `{"Config":{},"config":{}}`, Path{"config"}, digest, 1, ErrDuplicateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := SetDescriptor([]byte(tt.doc), tt.path, tt.digest, tt.size)
			if err == nil {
				t.Fatalf("SetDescriptor(%q, %s, %q, %d) = %q, want an error", tt.doc, tt.path, tt.digest, tt.size, got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("SetDescriptor(%q, %s, %q, %d) = %v, want one wrapping %v", tt.doc, tt.path, tt.digest, tt.size, err, tt.wantErr)
			}
		})
	}
}
