package plan

import (
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// Annotations buildx puts on attestation manifests' index entries.
const (
	refTypeAnnotation   = "vnd.docker.reference.type"
	refDigestAnnotation = "vnd.docker.reference.digest"
	attestationManifest = "attestation-manifest"
)

// Entry is one element of an index's manifests array.
type Entry struct {
	MediaType types.MediaType
	Digest    v1.Hash
	Size      int64
	// Platform is the entry's platform; HasPlatform says the key exists.
	Platform    platform.Platform
	HasPlatform bool
	Annotations map[string]string
}

// Attestation reports whether the entry is a buildx attestation manifest (or
// another unknown/unknown entry): not an image, never rewritten.
func (e Entry) Attestation() bool {
	return e.Annotations[refTypeAnnotation] == attestationManifest ||
		e.Platform.OS == "unknown" && e.Platform.Architecture == "unknown"
}

// Index is an image index or Docker manifest list as read.
type Index struct {
	MediaType types.MediaType
	Bytes     []byte
	Digest    v1.Hash
	Entries   []Entry
}

// ParseIndex checks b is an index this tool can repair and reads its entries.
// A nested index is refused.
func ParseIndex(mediaType types.MediaType, digest v1.Hash, b []byte) (*Index, error) {
	if !mediaType.IsIndex() {
		return nil, &UnsupportedError{MediaType: mediaType, Reason: "not an image index"}
	}
	if err := patch.Validate(b); err != nil {
		return nil, fmt.Errorf("parsing index: %w", err)
	}
	var raw struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests []struct {
			MediaType   types.MediaType   `json:"mediaType"`
			Digest      v1.Hash           `json:"digest"`
			Size        int64             `json:"size"`
			Annotations map[string]string `json:"annotations"`
			Platform    *json.RawMessage  `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("parsing index: %w", err)
	}
	if raw.MediaType != "" && raw.MediaType != mediaType {
		return nil, fmt.Errorf("parsing index: served as %q but says %q", mediaType, raw.MediaType)
	}
	idx := &Index{MediaType: mediaType, Bytes: b, Digest: digest}
	for i, m := range raw.Manifests {
		if m.MediaType.IsIndex() {
			return nil, &UnsupportedError{MediaType: m.MediaType, Reason: fmt.Sprintf("a nested index (entry %d, %s), which this tool does not descend into", i, m.Digest)}
		}
		e := Entry{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size, Annotations: m.Annotations, HasPlatform: m.Platform != nil}
		if e.HasPlatform {
			p, err := patch.ReadPlatform(b, patch.Path{"manifests", i, "platform"})
			if err != nil {
				return nil, fmt.Errorf("parsing index entry %d: %w", i, err)
			}
			e.Platform = p
		}
		idx.Entries = append(idx.Entries, e)
	}
	return idx, nil
}
