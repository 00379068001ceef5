package layout

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// A layout is a store.Repository that lists referrers and writes an
// archive once, at Commit.
var (
	_ store.Repository      = (*Layout)(nil)
	_ store.ReferrersLister = (*Layout)(nil)
	_ store.Committer       = (*Layout)(nil)
)

// Resolve returns the digest ref names, whatever its media type.
func (l *Layout) Resolve(ctx context.Context, ref string) (v1.Hash, error) {
	e, err := l.resolve(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	return e.Digest, nil
}

// BlobExists reports whether the layout holds blob d.
func (l *Layout) BlobExists(ctx context.Context, d v1.Hash) (bool, error) {
	name, err := l.blobFile(d)
	if err != nil {
		return false, err
	}
	if _, err := l.stat(name); err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
