package registry

import (
	"context"
	"net/http"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Resolve returns the digest the registry holds at ref (a tag), whatever
// its media type: from the Docker-Content-Digest header of a HEAD, or by
// hashing the body of a GET when the registry leaves the header out. A
// tag that is not there is an *Error with NotFound.
func (r *Repository) Resolve(ctx context.Context, ref string) (v1.Hash, error) {
	return r.head(ctx, ref, joinTypes())
}

// BlobExists reports whether the repository holds blob d.
func (r *Repository) BlobExists(ctx context.Context, d v1.Hash) (bool, error) {
	resp, err := r.do(ctx, http.MethodHead, r.url("blobs", d.String()), nil, "", "")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, responseError(resp)
}
