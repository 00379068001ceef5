package store_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/layout"
	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/registry"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// TestCopyBlob copies a blob of a registry's repository into another of
// the same registry (the registry copies it itself, mounting it) and into
// an OCI layout (streamed), and finds it in both.
func TestCopyBlob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	reg, err := name.NewRegistry(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := registry.Open(ctx, reg, []registry.Scope{{Repository: "a", Push: true}, {Repository: "b", Push: true}}, registry.Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("a layer, or anything")
	desc := v1.Descriptor{Digest: oci.Digest(blob), Size: int64(len(blob))}
	src := c.Repo("a")
	if err := src.PushBlob(ctx, desc.Digest, desc.Size, bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	ref, err := imageref.Parse("oci:"+filepath.Join(t.TempDir(), "out"), "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := layout.Create(ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for _, dst := range []store.Repository{c.Repo("b"), l} {
		if err := store.CopyBlob(ctx, dst, src, desc); err != nil {
			t.Fatalf("CopyBlob(to %s) = %v", dst.Name(), err)
		}
		got, err := dst.GetBlob(ctx, desc.Digest, 1<<20, "blob")
		if err != nil || !bytes.Equal(got, blob) {
			t.Errorf("after CopyBlob, %s holds %q (err %v), want %q", dst.Name(), got, err, blob)
		}
	}
}
