package referrers

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// Of is repo as discovery reads it and carrying writes it. A repository
// that lists no referrers (no store.ReferrersLister) answers ErrNoAPI,
// so that the fallback and cosign tags are asked instead.
func Of(repo store.Repository) Target { return storeTarget{repo} }

type storeTarget struct{ r store.Repository }

func (s storeTarget) GetManifest(ctx context.Context, ref string) (string, []byte, v1.Hash, error) {
	m, err := s.r.GetManifest(ctx, ref)
	if err != nil {
		return "", nil, v1.Hash{}, err
	}
	return string(m.MediaType), m.Bytes, m.Digest, nil
}

func (s storeTarget) PutManifest(ctx context.Context, ref string, body []byte, mediaType string) error {
	return s.r.PutManifest(ctx, ref, body, types.MediaType(mediaType))
}

func (s storeTarget) ReferrersPage(ctx context.Context, d v1.Hash, page string) ([]byte, string, error) {
	if l, ok := s.r.(store.ReferrersLister); ok {
		return l.ReferrersPage(ctx, d, page)
	}
	return nil, "", fmt.Errorf("%w: %s lists none", ErrNoAPI, s.r.Name())
}
