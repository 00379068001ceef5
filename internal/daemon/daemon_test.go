package daemon

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fakeEngine is an httptest server speaking the Engine API on a unix
// socket, as dockerd does; handler answers the versioned calls.
func fakeEngine(t *testing.T, apiVersion string, handler http.HandlerFunc) *Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "engine")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", apiVersion)
			fmt.Fprint(w, "OK")
			return
		}
		handler(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := New("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeLoad is an engine that keeps the files of the archive a load posts,
// answers answer, and reports id for app:1 after it.
func fakeLoad(t *testing.T, apiVersion, answer string, id v1.Hash) (*Client, *[]file) {
	t.Helper()
	var posted []file
	c := fakeEngine(t, apiVersion, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v" + apiVersion + "/images/load":
			tr := tar.NewReader(r.Body)
			for {
				h, err := tr.Next()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(tr)
				posted = append(posted, file{h.Name, b})
			}
			fmt.Fprint(w, answer)
		case "/v" + apiVersion + "/images/app:1/json":
			fmt.Fprintf(w, `{"Id":%q}`, id)
		}
	})
	return c, &posted
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		host, wantBase, wantErr string
	}{
		{host: "", wantBase: "http://docker"},
		{host: "unix:///run/user/1000/docker.sock", wantBase: "http://docker"},
		{host: "tcp://127.0.0.1:2375", wantBase: "http://127.0.0.1:2375"},
		{host: "ssh://me@host", wantErr: `parsing DOCKER_HOST "ssh://me@host": the ssh:// scheme is not supported, use unix:// or tcp://`},
		{host: "tcp://host", wantErr: `parsing DOCKER_HOST "tcp://host": address host: missing port in address`},
		{host: "/var/run/docker.sock", wantErr: `parsing DOCKER_HOST "/var/run/docker.sock": want unix:///path/to/docker.sock or tcp://host:port`},
	} {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.host)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("New(%q) = %v, want error %q", tc.host, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q) = %v, want no error", tc.host, err)
			}
			if got := c.base.String(); got != tc.wantBase {
				t.Errorf("New(%q).base = %q, want %q", tc.host, got, tc.wantBase)
			}
		})
	}
}

func TestFromEnvRefusesTLS(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1"}
	_, err := FromEnv(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "TLS to the Docker engine is not supported") {
		t.Fatalf("FromEnv(DOCKER_TLS_VERIFY=1) = %v, want a refusal of TLS", err)
	}
}

// TestErrors: each failure a door words differently comes as its own type.
func TestErrors(t *testing.T) {
	t.Parallel()
	notFound := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"No such image: app:1"}`)
	}
	forbidden := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"authorization denied by plugin opa"}`)
	}
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) *Client
		check  func(err error) bool
		want   string
	}{{
		name: "no socket",
		client: func(t *testing.T) *Client {
			c, err := New("unix://" + filepath.Join(t.TempDir(), "missing.sock"))
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		check: func(err error) bool { var e *NoEngineError; return errors.As(err, &e) },
		want:  "no engine answers",
	}, {
		name:   "forbidden",
		client: func(t *testing.T) *Client { return fakeEngine(t, "1.41", forbidden) },
		check:  func(err error) bool { var e *PermissionError; return errors.As(err, &e) },
		want:   "permission refused: inspecting image \"app:1\": 403 authorization denied by plugin opa",
	}, {
		name:   "no such image",
		client: func(t *testing.T) *Client { return fakeEngine(t, "1.41", notFound) },
		check:  func(err error) bool { var e *NotFoundError; return errors.As(err, &e) && e.NotFound() },
		want:   `finding image "app:1" in the Docker engine: no such image`,
	}, {
		name:   "too old",
		client: func(t *testing.T) *Client { return fakeEngine(t, "1.40", notFound) },
		check:  func(err error) bool { var e *TooOldError; return errors.As(err, &e) },
		want:   "engine API 1.40 is too old, 1.41 or later is needed",
	}, {
		name:   "too old by number, not by text",
		client: func(t *testing.T) *Client { return fakeEngine(t, "1.9", notFound) },
		check:  func(err error) bool { var e *TooOldError; return errors.As(err, &e) },
		want:   "engine API 1.9 is too old",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.client(t).Inspect(context.Background(), "app:1")
			if err == nil || !tc.check(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Inspect(app:1) = %v (%T), want an error of the right type saying %q", err, err, tc.want)
			}
		})
	}
}

// TestPermissionDenied: a socket that refuses us (EACCES on connect, what
// a runner user outside the docker group gets) is a *PermissionError. Root
// connects to any socket, so the dial error is made here.
func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	dial := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}
	err := dialError(DefaultHost, fmt.Errorf("Get \"http://docker/_ping\": %w", dial))
	var pe *PermissionError
	if !errors.As(err, &pe) {
		t.Fatalf("dialError(EACCES) = %v (%T), want *PermissionError", err, err)
	}
	want := `reaching the Docker engine at "unix:///var/run/docker.sock": permission refused`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("dialError(EACCES) = %q, want it to start %q", err, want)
	}
}

func TestVersionNegotiated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ engine, wantPath string }{
		{"1.41", "/v1.41/images/app:1/json"},
		{"1.45", "/v1.45/images/app:1/json"},
		{"1.99", "/v1.52/images/app:1/json"},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			t.Parallel()
			var got []string
			c := fakeEngine(t, tc.engine, func(w http.ResponseWriter, r *http.Request) {
				got = append(got, r.URL.Path)
				fmt.Fprint(w, `{"Id":"sha256:`+strings.Repeat("a", 64)+`","Os":"linux"}`)
			})
			for range 2 {
				if _, err := c.Inspect(context.Background(), "app:1"); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff([]string{tc.wantPath, tc.wantPath}, got); diff != "" {
				t.Errorf("paths asked of engine %s (-want +got):\n%s", tc.engine, diff)
			}
		})
	}
}

// saveOf is a save archive as Engine 20.10 writes it: names in order,
// layer directories (VERSION, json, layer.tar), the config, manifest.json.
func saveOf(t *testing.T, files ...file) []byte {
	t.Helper()
	b, err := tarOf(files...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSave(t *testing.T) {
	t.Parallel()
	config := []byte(`{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:` + strings.Repeat("1", 64) + `"]}}`)
	id := digestOf(config)
	layer := bytes.Repeat([]byte("L"), 3000)
	for _, tc := range []struct {
		name    string
		archive func() []byte
		wantErr string
	}{{
		name: "config after the layers",
		archive: func() []byte {
			return saveOf(t, file{"0a/VERSION", []byte("1.0")}, file{"0a/layer.tar", layer}, file{id.Hex + ".json", config}, file{"manifest.json", []byte("[]")})
		},
	}, {
		name: "config that misses the image ID",
		archive: func() []byte {
			return saveOf(t, file{id.Hex + ".json", append(config, ' ')})
		},
		wantErr: "not the image ID",
	}, {
		name:    "no config",
		archive: func() []byte { return saveOf(t, file{"manifest.json", []byte("[]")}) },
		wantErr: "the archive holds no config",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			archive := tc.archive()
			c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1.41/images/"+id.String()+"/get" {
					t.Errorf("asked %s, want the save of %s", r.URL.Path, id)
				}
				w.Write(archive)
			})
			s, err := c.Save(context.Background(), &Image{ID: id}, Classic)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.Config()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Config() = %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, config) {
				t.Fatalf("Config() = %q, %v, want %q", got, err, config)
			}
			if s.BytesRead() != int64(len(archive)) && s.BytesRead() < int64(len(layer)) {
				t.Errorf("BytesRead() = %d, want the layer read past (%d bytes)", s.BytesRead(), len(layer))
			}
		})
	}
}

// TestSaveManifest: in the containerd store the save is an OCI layout
// whose blobs come in the order of their digests: the manifest named by
// the image ID and its config are found in either order, byte for byte,
// layers passed by; an index, a blob whose bytes miss its name and a
// manifest absent are errors.
func TestSaveManifest(t *testing.T) {
	t.Parallel()
	config := []byte(`{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := digestOf(config)
	manifest := []byte(`{"schemaVersion":2,"config":{"digest":"` + cd.String() + `","size":` + fmt.Sprint(len(config)) + `}}`)
	md := digestOf(manifest)
	index := []byte(`{"schemaVersion":2,"manifests":[{"digest":"` + md.String() + `"}]}`)
	blob := func(b []byte) file { return file{"blobs/sha256/" + digestOf(b).Hex, b} }
	layer := file{"blobs/sha256/" + strings.Repeat("0", 64), []byte("\x1f\x8blayer")}
	for _, tc := range []struct {
		name    string
		id      v1.Hash
		files   []file
		wantErr string
	}{
		{name: "config first", id: md, files: []file{layer, blob(config), blob(manifest), {"index.json", []byte("{}")}}},
		{name: "manifest first", id: md, files: []file{blob(manifest), layer, blob(config)}},
		{name: "an index", id: digestOf(index), files: []file{blob(index), blob(manifest), blob(config)}, wantErr: ErrIndex.Error()},
		{name: "a blob not its digest", id: md, files: []file{{"blobs/sha256/" + md.Hex, append(manifest, ' ')}, blob(config)}, wantErr: "has digest"},
		{name: "no manifest", id: md, files: []file{blob(config)}, wantErr: "holds no blob " + md.String()},
		{name: "no config", id: md, files: []file{blob(manifest)}, wantErr: "holds no blob " + cd.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			archive := saveOf(t, tc.files...)
			c := fakeEngine(t, "1.45", func(w http.ResponseWriter, r *http.Request) { w.Write(archive) })
			s, err := c.Save(context.Background(), &Image{ID: tc.id}, Containerd)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			gotM, gotC, err := s.Manifest(tc.id)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Manifest(%s) = %v, want an error saying %q", tc.id, err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(gotM, manifest) || !bytes.Equal(gotC, config) {
				t.Fatalf("Manifest(%s) = %q, %q, %v, want %q, %q", tc.id, gotM, gotC, err, manifest, config)
			}
		})
	}
}

// TestSaveOnePass: in the containerd store, NextLayer hands out the
// compressed layer blobs by their digests and keeps the JSON blobs it
// passes, so that Manifest, after the layers, needs no second save; a
// JSON blob not its digest is an error.
func TestSaveOnePass(t *testing.T) {
	t.Parallel()
	config := []byte(`{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("\x1f\x8bgzip layer")
	manifest := []byte(`{"schemaVersion":2,"config":{"digest":"` + digestOf(config).String() + `"},"layers":[{"digest":"` + digestOf(layer).String() + `"}]}`)
	md := digestOf(manifest)
	blob := func(b []byte) file { return file{"blobs/sha256/" + digestOf(b).Hex, b} }
	for _, tc := range []struct {
		name    string
		files   []file
		wantErr string
	}{
		{name: "JSON among layers", files: []file{blob(config), blob(layer), blob(manifest), {"index.json", []byte("{}")}}},
		{name: "a JSON blob not its digest", files: []file{{"blobs/sha256/" + digestOf(config).Hex, append(config, ' ')}, blob(layer)}, wantErr: "has digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			archive := saveOf(t, tc.files...)
			c := fakeEngine(t, "1.45", func(w http.ResponseWriter, r *http.Request) { w.Write(archive) })
			s, err := c.Save(context.Background(), &Image{ID: md}, Containerd)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var got []v1.Hash
			for {
				p, err := s.NextLayer()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if tc.wantErr == "" || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("NextLayer() = %v, want an error saying %q", err, tc.wantErr)
					}
					return
				}
				got = append(got, p.Digest)
			}
			if diff := cmp.Diff([]v1.Hash{digestOf(layer)}, got); diff != "" {
				t.Errorf("NextLayer() digests (-want +got):\n%s", diff)
			}
			read := s.BytesRead()
			gotM, gotC, err := s.Manifest(md)
			if err != nil || !bytes.Equal(gotM, manifest) || !bytes.Equal(gotC, config) {
				t.Fatalf("Manifest(%s) after the layers = %q, %q, %v, want %q, %q", md, gotM, gotC, err, manifest, config)
			}
			if s.BytesRead() != read {
				t.Errorf("Manifest() read %d more bytes, want none: the JSON was kept", s.BytesRead()-read)
			}
		})
	}
}

// TestSaveLayers: layers come one at a time in the archive's order, an
// Engine 25+ blob named by its diff ID is a layer, links and JSON blobs
// are not.
func TestSaveLayers(t *testing.T) {
	t.Parallel()
	l1, l2 := []byte("first layer"), []byte("\x1f\x8bgzip layer")
	d1 := digestOf(l1)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []file{
		{"blobs/sha256/" + d1.Hex, l1},
		{"blobs/sha256/" + strings.Repeat("b", 64), []byte(`{"schemaVersion":2}`)},
		{"blobs/sha256/" + strings.Repeat("c", 64), l2},
		{"index.json", []byte(`{}`)},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Size: int64(len(f.data)), Mode: 0o644})
		tw.Write(f.data)
	}
	tw.WriteHeader(&tar.Header{Name: "x/layer.tar", Typeflag: tar.TypeSymlink, Linkname: "../blobs/sha256/" + d1.Hex})
	tw.Close()
	c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) { w.Write(buf.Bytes()) })
	s, err := c.Save(context.Background(), &Image{ID: digestOf([]byte("c")), DiffIDs: []v1.Hash{d1}}, Classic)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	for {
		p, err := s.NextLayer()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(s)
		got = append(got, fmt.Sprintf("%s %q %s", p.Name, b, p.DiffID))
	}
	// The blob named by a diff ID is that layer; the compressed one of
	// the containerd store is not named.
	want := []string{"blobs/sha256/" + d1.Hex + ` "first layer" ` + d1.String(), "blobs/sha256/" + strings.Repeat("c", 64) + ` "\x1f\x8bgzip layer" :`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NextLayer() layers (-want +got):\n%s", diff)
	}
}

// TestLoadArchive: the load posts manifest.json and the config alone, and
// an error said in the answer's stream (status 200) is an error.
func TestLoadArchive(t *testing.T) {
	t.Parallel()
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	id := digestOf(config)
	for _, tc := range []struct {
		name, answer, wantErr string
	}{
		{name: "loaded", answer: `{"stream":"Loaded image: app:1\n"}`},
		{name: "refused", answer: `{"errorDetail":{"message":"open /var/lib/docker/tmp/x/0/layer.tar: no such file or directory"},"error":"open …"}`,
			wantErr: `loading image "app:1": the Docker engine answered 200: open /var/lib/docker/tmp/x/0/layer.tar: no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, posted := fakeLoad(t, "1.41", tc.answer, id)
			ld, err := c.Load(context.Background(), "app:1", config, 2)
			if tc.wantErr != "" {
				var ae *APIError
				if !errors.As(err, &ae) || err.Error() != tc.wantErr {
					t.Fatalf("Load() = %v, want *APIError %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []file{
				{id.Hex + ".json", config},
				{"manifest.json", []byte(`[{"Config":"` + id.Hex + `.json","RepoTags":["app:1"],"Layers":["0/layer.tar","1/layer.tar"]}]`)},
			}
			if diff := cmp.Diff(want, *posted, cmp.AllowUnexported(file{})); diff != "" {
				t.Errorf("archive posted (-want +got):\n%s", diff)
			}
			if ld.ID != id || ld.Said != "Loaded image: app:1" || ld.Posted != 3072 {
				t.Errorf("Load() = %+v, want ID %s, said Loaded image: app:1, 3072 bytes posted", ld, id)
			}
		})
	}
}

// TestLoadOCI: for the containerd image store the archive is an OCI
// layout of the manifest and the config, named as containerd names
// images. This checks what is posted; e2e's TestDaemonContainerdSet loads
// it into the stand-in engine and, when given one, a real Engine 25+.
func TestLoadOCI(t *testing.T) {
	t.Parallel()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"` + digestOf(config).String() + `"}}`)
	md := digestOf(manifest)
	c, posted := fakeLoad(t, "1.48", `{"stream":"Loaded image: app:1\n"}`, md)
	ld, err := c.LoadOCI(context.Background(), "app:1", manifest, "application/vnd.oci.image.manifest.v1+json", config)
	if err != nil {
		t.Fatal(err)
	}
	if ld.ID != md {
		t.Errorf("LoadOCI().ID = %s, want the manifest digest %s the engine reports", ld.ID, md)
	}
	want := []file{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":` +
			fmt.Sprint(len(manifest)) + `,"digest":"` + md.String() + `","annotations":{"io.containerd.image.name":"docker.io/library/app:1","org.opencontainers.image.ref.name":"1"}}]}`)},
		{"blobs/sha256/" + digestOf(config).Hex, config},
		{"blobs/sha256/" + md.Hex, manifest},
	}
	if diff := cmp.Diff(want, *posted, cmp.AllowUnexported(file{})); diff != "" {
		t.Errorf("LoadOCI() posted (-want +got):\n%s", diff)
	}
}

// TestLoadOCIUntagged: an image named by its ID is loaded unnamed (no
// annotation in index.json) and found after by the manifest's digest.
func TestLoadOCIUntagged(t *testing.T) {
	t.Parallel()
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	manifest := []byte(`{"schemaVersion":2,"config":{"digest":"` + digestOf(config).String() + `"}}`)
	md := digestOf(manifest)
	var index []byte
	var asked string
	c := fakeEngine(t, "1.45", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/images/load") {
			tr := tar.NewReader(r.Body)
			for h, err := tr.Next(); err == nil; h, err = tr.Next() {
				if h.Name == "index.json" {
					index, _ = io.ReadAll(tr)
				}
			}
			fmt.Fprintf(w, `{"stream":"Loaded image ID: %s\n"}`, md)
			return
		}
		asked = r.URL.Path
		fmt.Fprintf(w, `{"Id":%q}`, md)
	})
	ld, err := c.LoadOCI(context.Background(), "", manifest, "application/vnd.oci.image.manifest.v1+json", config)
	if err != nil || ld.ID != md {
		t.Fatalf("LoadOCI(\"\") = %v, %v, want the manifest digest %s", ld, err, md)
	}
	if want := "/v1.45/images/" + md.String() + "/json"; asked != want {
		t.Errorf("LoadOCI(\"\") asked %s after the load, want %s", asked, want)
	}
	if bytes.Contains(index, []byte("annotations")) {
		t.Errorf("LoadOCI(\"\") posted index.json %s, want no name", index)
	}
}

func TestContainerdNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ tag, full, short string }{
		{"app:pr-7", "docker.io/library/app:pr-7", "pr-7"},
		{"ghcr.io/o/app:1", "ghcr.io/o/app:1", "1"},
		{"localhost:5000/app", "localhost:5000/app:latest", "latest"},
	} {
		full, short, err := containerdNames(tc.tag)
		if err != nil || full != tc.full || short != tc.short {
			t.Errorf("containerdNames(%q) = %q, %q, %v, want %q, %q", tc.tag, full, short, err, tc.full, tc.short)
		}
	}
}

// TestTCP: DOCKER_HOST tcp://HOST:PORT is spoken to as the socket is.
func TestTCP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/_ping":
			w.Header().Set("Api-Version", "1.41")
		case "/v1.41/images/sha256:" + strings.Repeat("a", 64) + "/json":
			fmt.Fprint(w, `{"Id":"sha256:`+strings.Repeat("a", 64)+`","Os":"linux","Architecture":"arm","Variant":"v7","RepoTags":["app:1"]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New("tcp://" + strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	id := "sha256:" + strings.Repeat("a", 64)
	got, err := c.Inspect(context.Background(), id)
	if err != nil {
		t.Fatalf("Inspect(%s) over tcp = %v", id, err)
	}
	want := &Image{ID: hashOf(t, id), OS: "linux", Architecture: "arm", Variant: "v7", RepoTags: []string{"app:1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inspect(%s) over tcp (-want +got):\n%s", id, diff)
	}
}

func hashOf(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestV1Position: the v1 IDs of a real Engine 20.10 save (docker build
// of two COPY layers FROM scratch, docker save; testdata/v1json) are made
// again from each layer directory's json and the image's chain IDs, and
// name the layer's place; a json whose ID matches no layer names none.
func TestV1Position(t *testing.T) {
	t.Parallel()
	chain := chainIDs([]v1.Hash{
		hashOf(t, "sha256:0e6619d397e2d53f53a4f18beb25172f642b5c7f249d0d1f515513d83a3ed7fb"),
		hashOf(t, "sha256:ac1c3ce605ee6fb18e25d4264e71de7d1745e5d41667f9eb8881789cc59072d4"),
	})
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "v1json", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		json []byte
		want int
	}{
		{"base layer, os added after the ID", read("base.json"), 0},
		{"top layer, the image's own fields", read("top.json"), 1},
		{"json edited", bytes.Replace(read("top.json"), []byte(`"os":"linux"`), []byte(`"os":"linux","x":1`), 1), -1},
		{"not json", []byte("{"), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := v1Position(tc.json, chain); got != tc.want {
				t.Errorf("v1Position(%s) = %d, want %d", tc.name, got, tc.want)
			}
		})
	}
}

// TestSaveConfigPassed: a config the search for a layer passes is kept,
// so that Config after the layers reads nothing more; one that misses
// the image ID fails the search.
func TestSaveConfigPassed(t *testing.T) {
	t.Parallel()
	config := []byte(`{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	id := digestOf(config)
	for _, tc := range []struct {
		name    string
		config  []byte
		wantErr string
	}{
		{"config before the layer", config, ""},
		{"config that misses the image ID", append(config, ' '), "not the image ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			archive := saveOf(t, file{id.Hex + ".json", tc.config}, file{"f0/layer.tar", []byte("layer")}, file{"manifest.json", []byte("[]")})
			c := fakeEngine(t, "1.41", func(w http.ResponseWriter, r *http.Request) { w.Write(archive) })
			s, err := c.Save(context.Background(), &Image{ID: id}, Classic)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.NextLayer()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NextLayer() = %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NextLayer() = %v", err)
			}
			read := s.BytesRead()
			if got, err := s.Config(); err != nil || !bytes.Equal(got, config) {
				t.Errorf("Config() = %q, %v, want %q", got, err, config)
			}
			if s.BytesRead() != read {
				t.Errorf("Config() read %d more bytes, want none: the config was kept", s.BytesRead()-read)
			}
		})
	}
}
