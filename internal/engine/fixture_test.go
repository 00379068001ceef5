package engine

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// testRegistry is go-containerregistry's registry in process, behind an
// optional middleware that can refuse or alter answers.
type testRegistry struct {
	host string
	t    *testing.T
}

func newTestRegistry(t *testing.T, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	h := http.Handler(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testRegistry{host: strings.TrimPrefix(srv.URL, "http://"), t: t}
}

func (r *testRegistry) ref(s string) string { return r.host + "/" + s }

// repo opens the project's own client for repository path of r.
func (r *testRegistry) repo(path string) *registry.Repository {
	r.t.Helper()
	reg, err := name.NewRegistry(r.host)
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := registry.Open(context.Background(), reg, []registry.Scope{{Repository: path, Push: true}}, registry.Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		r.t.Fatal(err)
	}
	return c.Repo(path)
}

// blob pushes b to path and returns its descriptor JSON.
func (r *testRegistry) blob(path string, mediaType types.MediaType, b []byte) string {
	r.t.Helper()
	if err := r.repo(path).PushBlob(context.Background(), oci.Digest(b), int64(len(b)), bytes.NewReader(b)); err != nil {
		r.t.Fatal(err)
	}
	return fmt.Sprintf(`{"mediaType":"%s","size":%d,"digest":"%s"}`, mediaType, len(b), oci.Digest(b))
}

// manifest pushes m of mediaType at ref (a tag or digest) of path.
func (r *testRegistry) manifest(path, ref string, mediaType types.MediaType, m []byte) v1.Hash {
	r.t.Helper()
	if ref == "" {
		ref = oci.Digest(m).String()
	}
	if err := r.repo(path).PutManifest(context.Background(), ref, m, mediaType); err != nil {
		r.t.Fatal(err)
	}
	return oci.Digest(m)
}

// image pushes an OCI image whose config has the raw platform members
// platformKeys (may be empty) and the given layers, and returns the
// manifest's digest and bytes.
func (r *testRegistry) image(path, tag, platformKeys string, layers ...string) (v1.Hash, []byte) {
	r.t.Helper()
	cfg := []byte(`{` + platformKeys + `"rootfs":{"type":"layers","diff_ids":[]},"seed":"` + path + tag + fmt.Sprint(len(layers)) + oci.Digest([]byte(platformKeys)).Hex[:8] + `"}`)
	m := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}`,
		types.OCIManifestSchema1, r.blob(path, types.OCIConfigJSON, cfg), strings.Join(layers, ",")))
	return r.manifest(path, tag, types.OCIManifestSchema1, m), m
}

// gzipTar is a gzipped tar with the file at name holding body.
func gzipTar(t *testing.T, name string, body []byte) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tb.Bytes())
	zw.Close()
	return gz.Bytes()
}

// helloLayer is a layer holding the test binary of goos-goarch.
func helloLayer(t *testing.T, platform string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "binaries", "hello-"+platform))
	if err != nil {
		t.Fatal(err)
	}
	return gzipTar(t, "usr/bin/hello", b)
}

// testWords word hints as "; hint <n> <repo>", fixes as "fix platform
// <p> overwrite <bool> ref <ref>" and inputs as "flag <name>".
var testWords = func() Words {
	hw := HintWords{}
	for h := NoHint + 1; h <= HintFix; h++ {
		hw[h] = fmt.Sprintf("; hint %d %%s", h)
	}
	return Words{
		Hints: hw,
		Fix: func(f plan.Fix) string {
			return fmt.Sprintf("fix platform %s overwrite %t ref %s", f.Platform, f.Overwrite, f.Ref)
		},
		Input: func(name string) string { return "flag " + name },
	}
}()

// run runs the engine on in with testWords.
func run(t *testing.T, in Input) ([]Result, *lines) {
	t.Helper()
	cfg, err := NewConfig(in)
	if err != nil {
		t.Fatalf("NewConfig(%+v) = %v", in, err)
	}
	rec := &lines{}
	o, err := Run(context.Background(), cfg, Deps{Log: rec, Words: testWords})
	if err != nil {
		t.Fatalf("Run(%+v) = %v", in, err)
	}
	return o.Results, rec
}

// logged reports whether a line of rec holds every sub.
func (r *lines) logged(subs ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.l, func(l string) bool {
		return !slices.ContainsFunc(subs, func(s string) bool { return !strings.Contains(l, s) })
	})
}

func (r *lines) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.l, "\n")
}
