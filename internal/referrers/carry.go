package referrers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/patch"
)

// Repoint returns r's manifest with its subject set to subject, a manifest
// of size bytes, every other byte unchanged, and the result's digest.
func Repoint(r Referrer, subject v1.Hash, size int64) ([]byte, v1.Hash, error) {
	body, err := patch.SetSubject(r.Manifest, subject.String(), size)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("re-pointing referrer %s to %s: %w", r.Digest, subject, err)
	}
	d, _, err := v1.SHA256(bytes.NewReader(body))
	if err != nil {
		return nil, v1.Hash{}, err
	}
	return body, d, nil
}

// emptyIndex is the index a fallback tag starts from.
var emptyIndex = []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)

// FallbackEntry is the descriptor a fallback tag's index lists for a
// referrer manifest, per the OCI distribution spec: its mediaType, digest
// and size, its artifactType (or its config's media type) and its
// annotations.
func FallbackEntry(mediaType string, body []byte) ([]byte, error) {
	var m struct {
		ArtifactType string `json:"artifactType"`
		Config       struct {
			MediaType string `json:"mediaType"`
		} `json:"config"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("reading referrer manifest: %w", err)
	}
	d, size, err := v1.SHA256(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		MediaType    string            `json:"mediaType"`
		Digest       string            `json:"digest"`
		Size         int64             `json:"size"`
		ArtifactType string            `json:"artifactType,omitempty"`
		Annotations  map[string]string `json:"annotations,omitempty"`
	}{mediaType, d.String(), size, cmp.Or(m.ArtifactType, m.Config.MediaType), m.Annotations})
}

// AddToFallback returns index, the body of a fallback tag (nil when there
// is none yet), listing the referrer manifest body too; the rest of index
// is kept byte for byte.
func AddToFallback(index []byte, mediaType string, body []byte) ([]byte, error) {
	entry, err := FallbackEntry(mediaType, body)
	if err != nil {
		return nil, err
	}
	if index == nil {
		index = emptyIndex
	}
	return patch.PutManifestEntry(index, entry)
}

// Target is one repository as Carry writes to it.
type Target interface {
	Source
	// PutManifest pushes body with its media type to ref, a tag or a digest.
	PutManifest(ctx context.Context, ref string, body []byte, mediaType string) error
}

// Carry pushes each of rs (referrers of one old subject that CanCarry
// allows) again with its subject set to subject, a manifest of size bytes,
// in dst. Where the registry has no referrers API (api false) the fallback
// tag of subject is then written once, listing them next to what it listed
// before. It returns the carried referrers as they now are; on an error,
// those carried before it.
func Carry(ctx context.Context, dst Target, rs []Referrer, subject v1.Hash, size int64, api bool) ([]Referrer, error) {
	var index []byte
	if !api && len(rs) > 0 {
		_, b, _, err := dst.GetManifest(ctx, FallbackTag(subject))
		if err != nil && !notFound(err) {
			return nil, fmt.Errorf("reading fallback tag %s: %w", FallbackTag(subject), err)
		}
		index = b
	}
	carried, err := carry(ctx, dst, rs, subject, size, api, &index)
	if index != nil && len(carried) > 0 {
		// Written after a failure too: what was pushed is then listed.
		if werr := dst.PutManifest(ctx, FallbackTag(subject), index, string(types.OCIImageIndex)); werr != nil && err == nil {
			err = fmt.Errorf("writing fallback tag %s: %w", FallbackTag(subject), werr)
		}
	}
	return carried, err
}

func carry(ctx context.Context, dst Target, rs []Referrer, subject v1.Hash, size int64, api bool, index *[]byte) ([]Referrer, error) {
	var out []Referrer
	for _, r := range rs {
		body, d, err := Repoint(r, subject, size)
		if err != nil {
			return out, err
		}
		if err := dst.PutManifest(ctx, d.String(), body, r.MediaType); err != nil {
			return out, fmt.Errorf("pushing referrer %s re-pointed to %s: %w", r.Digest, subject, err)
		}
		moved := withManifest(Referrer{Subject: subject, Digest: d, FoundBy: ByReferrersAPI}, r.MediaType, body)
		if !api {
			moved.FoundBy = ByFallbackTag
			if *index, err = AddToFallback(*index, r.MediaType, body); err != nil {
				return out, err
			}
		}
		out = append(out, moved)
	}
	return out, nil
}
