package referrers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// Repoint returns r's manifest with its subject set to subject, a manifest
// of size bytes, every other byte unchanged, and the result's digest.
func Repoint(r Referrer, subject v1.Hash, size int64) ([]byte, v1.Hash, error) {
	body, err := patch.SetSubject(r.Manifest, subject.String(), size)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("re-pointing referrer %s to %s: %w", r.Digest, subject, err)
	}
	return body, oci.Digest(body), nil
}

// emptyIndex is the index a fallback tag starts from.
var emptyIndex = []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)

// FallbackEntry is the descriptor a fallback tag's index lists for a
// referrer manifest, per the OCI distribution spec: its mediaType, digest
// and size, its artifactType (or its config's media type) and its
// annotations.
func FallbackEntry(mediaType string, body []byte) ([]byte, error) {
	m, err := oci.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("reading referrer manifest: %w", err)
	}
	d, size := oci.Digest(body), int64(len(body))
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

// Moved is a referrer carried over: From as it was found, To as it now
// is, referring to the new subject.
type Moved struct{ From, To Referrer }

// Carry pushes each of rs (referrers of one old subject that CanCarry
// allows) again with its subject set to subject, a manifest of size bytes,
// in dst. Where the registry has no referrers API (api false) the fallback
// tag of subject is then written once, listing them next to what it listed
// before. A referrer counts as carried only when it can then be found from
// subject (listed by the referrers API, or by the fallback tag): a push
// that nothing lists under the new digest carried nothing. It returns the
// carried referrers, and an error saying why the others were not.
func Carry(ctx context.Context, dst Target, rs []Referrer, subject v1.Hash, size int64, api bool) ([]Moved, error) {
	var index []byte
	if !api && len(rs) > 0 {
		_, b, _, err := dst.GetManifest(ctx, FallbackTag(subject))
		if err != nil && !store.NotFound(err) {
			return nil, fmt.Errorf("reading fallback tag %s: %w", FallbackTag(subject), err)
		}
		index = b
	}
	pushed, err := carry(ctx, dst, rs, subject, size, api, &index)
	if index != nil && len(pushed) > 0 {
		// Written after a failure too: what was pushed is then listed.
		if werr := dst.PutManifest(ctx, FallbackTag(subject), index, string(types.OCIImageIndex)); werr != nil && err == nil {
			err = fmt.Errorf("writing fallback tag %s: %w", FallbackTag(subject), werr)
		}
	}
	if len(pushed) == 0 {
		return nil, err
	}
	return findable(ctx, dst, pushed, subject, api, err)
}

// findable keeps the pushed referrers that dst lists under subject, by
// the referrers API or else by the fallback tag; err, the carry's own
// error if any, is returned, or one that says why the rest are not
// listed.
func findable(ctx context.Context, dst Target, pushed []Moved, subject v1.Hash, api bool, err error) ([]Moved, error) {
	where := "fallback tag " + FallbackTag(subject)
	var entries []descriptor
	var lerr error
	if api {
		where = "referrers API"
		entries, _, lerr = listAPI(ctx, dst, subject)
	} else {
		entries, lerr = listFallback(ctx, dst, subject)
	}
	if lerr != nil {
		// Not known to be findable: not counted as carried.
		return nil, errors.Join(err, fmt.Errorf("checking that the %s lists the pushed referrers: %w", where, lerr))
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.Digest] = true
	}
	var out []Moved
	var lost []string
	for _, m := range pushed {
		if listed[m.To.Digest.String()] {
			out = append(out, m)
		} else {
			lost = append(lost, m.To.Digest.String())
		}
	}
	if len(lost) > 0 && err == nil {
		err = fmt.Errorf("pushed %s, which the %s does not list under %s: nothing finds it from the new digest", strings.Join(lost, ", "), where, subject)
	}
	return out, err
}

func carry(ctx context.Context, dst Target, rs []Referrer, subject v1.Hash, size int64, api bool, index *[]byte) ([]Moved, error) {
	var out []Moved
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
		out = append(out, Moved{From: r, To: moved})
	}
	return out, nil
}
