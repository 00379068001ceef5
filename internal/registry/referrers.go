package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Referrers names what refers to digest d of repo: manifests the OCI
// referrers API lists, and cosign's sha256-<hex>.sig, .att and .sbom tags.
// A registry without the referrers API is not an error. The four look-ups
// run at once: they cost one round trip.
func (c *Client) Referrers(ctx context.Context, repo string, d v1.Hash) ([]string, error) {
	var (
		mu   sync.Mutex
		out  []string
		errs []error
		wg   sync.WaitGroup
	)
	add := func(s []string, err error) {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, s...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	wg.Go(func() { add(c.referrersAPI(ctx, repo, d)) })
	for _, suffix := range []string{"sig", "att", "sbom"} {
		tag := fmt.Sprintf("%s-%s.%s", d.Algorithm, d.Hex, suffix)
		wg.Go(func() {
			ok, err := c.exists(ctx, repo, tag)
			if ok {
				add([]string{fmt.Sprintf("cosign tag %s", tag)}, nil)
			} else {
				add(nil, err)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return out, errs[0]
	}
	return sortStrings(out), nil
}

func (c *Client) referrersAPI(ctx context.Context, repo string, d v1.Hash) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(repo, "referrers", d.String()), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(types.OCIImageIndex))
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, scrubError(err)
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
			Digest       string `json:"digest"`
			ArtifactType string `json:"artifactType"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		// A registry that answers 200 with something else has no API.
		return nil, nil
	}
	var out []string
	for _, m := range idx.Manifests {
		kind := m.ArtifactType
		if kind == "" {
			kind = "referrer"
		}
		out = append(out, fmt.Sprintf("%s %s", kind, m.Digest))
	}
	return out, nil
}

// exists reports whether a manifest is at ref.
func (c *Client) exists(ctx context.Context, repo, ref string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.url(repo, "manifests", ref), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", joinTypes())
	resp, err := c.client.Do(req)
	if err != nil {
		return false, scrubError(err)
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
