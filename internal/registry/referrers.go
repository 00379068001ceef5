package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/set-image-platform/set-image-platform/internal/referrers"
)

// Referrers lists what refers to digest d: manifests the OCI referrers API
// lists, and cosign's sha256-<hex>.sig, .att and .sbom tags. A registry
// without the referrers API is not an error. The four look-ups run at
// once: they cost one round trip.
func (r *Repository) Referrers(ctx context.Context, d v1.Hash) ([]referrers.Referrer, error) {
	var (
		mu  sync.Mutex
		out []referrers.Referrer
		g   errgroup.Group
	)
	add := func(s []referrers.Referrer, err error) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, s...)
		return err
	}
	g.Go(func() error { return add(r.referrersAPI(ctx, d)) })
	for _, suffix := range referrers.CosignSuffixes {
		tag := fmt.Sprintf("%s-%s.%s", d.Algorithm, d.Hex, suffix)
		g.Go(func() error {
			ok, err := r.exists(ctx, tag)
			if ok {
				return add([]referrers.Referrer{{Subject: d, FoundBy: referrers.ByCosignTag, Tag: tag}}, nil)
			}
			return err
		})
	}
	err := g.Wait()
	return out, err
}

func (r *Repository) referrersAPI(ctx context.Context, d v1.Hash) ([]referrers.Referrer, error) {
	resp, err := r.do(ctx, http.MethodGet, r.url("referrers", d.String()), nil, "Accept", string(types.OCIImageIndex))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return nil, nil // no referrers API here
	default:
		return nil, responseError(resp)
	}
	body, err := readLimited(resp.Body, MaxManifestSize, "referrers list")
	if err != nil {
		return nil, err
	}
	var idx struct {
		Manifests []struct {
			MediaType    string  `json:"mediaType"`
			Digest       v1.Hash `json:"digest"`
			ArtifactType string  `json:"artifactType"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		// A registry that answers 200 with something else has no API.
		return nil, nil
	}
	var out []referrers.Referrer
	for _, m := range idx.Manifests {
		out = append(out, referrers.Referrer{Subject: d, Digest: m.Digest, MediaType: m.MediaType, ArtifactType: m.ArtifactType, FoundBy: referrers.ByReferrersAPI})
	}
	return out, nil
}

// exists reports whether a manifest is at ref.
func (r *Repository) exists(ctx context.Context, ref string) (bool, error) {
	resp, err := r.do(ctx, http.MethodHead, r.url("manifests", ref), nil, "Accept", joinTypes())
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, responseError(resp)
}
