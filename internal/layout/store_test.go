package layout

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

func TestResolveAndBlobExists(t *testing.T) {
	t.Parallel()
	a := newImage("a")
	l := openRef(t, imageref.OCI, writeDir(t, ociFiles([]img{a}, []string{"1.0"})))
	ctx := context.Background()
	if got, err := l.Resolve(ctx, "1.0"); err != nil || got != sha(a.manifest) {
		t.Errorf("Resolve(1.0) = %s, %v, want %s", got, err, sha(a.manifest))
	}
	if _, err := l.Resolve(ctx, "2.0"); err == nil {
		t.Errorf("Resolve(2.0) error = nil, want one: the layout holds no 2.0")
	}
	for _, tc := range []struct {
		d    v1.Hash
		want bool
	}{
		{d: sha(a.config), want: true},
		{d: sha([]byte("not there")), want: false},
	} {
		if got, err := l.BlobExists(ctx, tc.d); err != nil || got != tc.want {
			t.Errorf("BlobExists(%s) = %t, %v, want %t", tc.d, got, err, tc.want)
		}
	}
}
