package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

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
	MediaType string
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
	MediaType string
	Bytes     []byte
	Digest    v1.Hash
	Entries   []Entry
}

// ParseIndex checks b is an index this tool can repair and reads its entries.
// A nested index is refused.
func ParseIndex(mediaType string, digest v1.Hash, b []byte) (*Index, error) {
	if !IsIndex(mediaType) {
		return nil, &UnsupportedError{MediaType: mediaType, Reason: "not an image index"}
	}
	if err := patch.Validate(b); err != nil {
		return nil, fmt.Errorf("parsing index: %w", err)
	}
	var raw struct {
		MediaType string `json:"mediaType"`
		Manifests []struct {
			MediaType   string            `json:"mediaType"`
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
		if IsIndex(m.MediaType) {
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

// Child is an image child as read: its manifest, parsed, and its config.
type Child struct {
	Image    Image
	Manifest *Manifest
}

// IndexChange is the plan for an index.
type IndexChange struct {
	PreviousDigest v1.Hash
	Digest         v1.Hash
	MediaType      string
	Bytes          []byte
	// Children holds, per entry, the plan of an image child; nil for entries
	// that are not images.
	Children []*Change
	// Before and After are the image children's platforms in index order.
	Before, After []platform.Platform
	// Stale names attestations that describe a child digest that changed.
	Stale   []string
	Changed bool
}

// SetIndex plans making every image child of idx consistent (want zero), or
// setting want on its only image child. children holds, per entry, the image
// child as read, or nil for an entry that is not an image. detected holds,
// per entry, the platform its binaries show where it was detected (platform
// auto): it fills children that have none, and with overwrite settles an
// entry and a config that disagree, or replaces fields that are not valid
// names.
func SetIndex(idx *Index, children []*Child, want platform.Platform, overwrite bool, detected []platform.Platform) (*IndexChange, error) {
	ic := &IndexChange{PreviousDigest: idx.Digest, Digest: idx.Digest, MediaType: idx.MediaType, Bytes: idx.Bytes, Children: make([]*Change, len(idx.Entries))}
	var images []int
	for i, c := range children {
		if c != nil {
			images = append(images, i)
		}
	}
	if len(images) == 0 {
		return nil, errors.New("the index has no image children")
	}
	if !want.IsZero() && len(images) != 1 {
		return nil, fmt.Errorf("a platform of %s for an index of %d images: leave platform empty to make each child consistent with its index entry, or point image at one child by digest", want, len(images))
	}
	var missing, disagree, invalid []string
	newIdx := idx.Bytes
	for _, i := range images {
		e, c := idx.Entries[i], children[i]
		have, err := patch.ReadPlatform(c.Image.Config, nil)
		if err != nil {
			return nil, fmt.Errorf("reading platform of child %s: %w", e.Digest, err)
		}
		var found platform.Platform
		if i < len(detected) {
			found = detected[i]
		}
		target := want
		if target.IsZero() {
			switch {
			case have.Complete() && e.Platform.Complete() && !platform.Same(have, e.Platform) && !found.IsZero() && overwrite,
				(!have.Valid() || !e.Platform.Valid()) && !found.IsZero() && overwrite:
				target = found
			case have.Complete() && e.Platform.Complete():
				if !platform.Same(have, e.Platform) {
					disagree = append(disagree, fmt.Sprintf("%s (entry %s, config %s)", e.Digest, e.Platform.Display(), have.Display()))
					continue
				}
				target = have
			case e.Platform.Complete():
				target = e.Platform
			case have.Complete():
				target = have
			case !found.IsZero():
				target = found
			default:
				missing = append(missing, e.Digest.String())
				continue
			}
			if !target.Valid() {
				// Copying a value that is not a name from the config to
				// the entry, or back, would spread it.
				invalid = append(invalid, fmt.Sprintf("%s (%s)", e.Digest, target.Display()))
				continue
			}
		}
		if !want.IsZero() || !found.IsZero() && target == found || !e.Platform.Valid() {
			if !e.Platform.IsZero() && Conflicts(e.Platform, target) && !overwrite {
				return nil, fmt.Errorf("index entry %s: %w", e.Digest, &ConflictError{Have: e.Platform, Want: target})
			}
		}
		ch, err := SetImage(c.Image, c.Manifest, target, overwrite)
		if err != nil {
			return nil, fmt.Errorf("child %s: %w", e.Digest, err)
		}
		ic.Children[i] = ch
		ic.Before = append(ic.Before, have)
		ic.After = append(ic.After, ch.After)
		if ch.Changed {
			if newIdx, err = patch.SetDescriptor(newIdx, patch.Path{"manifests", i}, ch.Digest.String(), int64(len(ch.Manifest))); err != nil {
				return nil, fmt.Errorf("patching index entry %d: %w", i, err)
			}
			ic.Stale = append(ic.Stale, staleAttestations(idx, e.Digest)...)
		}
		// An entry that already says target, or an equivalent platform
		// (arm64 = arm64/v8), is left as it is.
		if !(e.Platform.Complete() && e.Platform.Valid() && platform.Same(e.Platform, target)) {
			if newIdx, err = patch.SetPlatform(newIdx, patch.Path{"manifests", i, "platform"}, target); err != nil {
				return nil, fmt.Errorf("patching platform of index entry %d: %w", i, err)
			}
		}
	}
	if len(disagree) > 0 {
		return nil, fmt.Errorf("index entries and child configs disagree: %s; set platform to auto with overwrite to settle it from the binaries, or fix the image", strings.Join(disagree, "; "))
	}
	if len(invalid) > 0 {
		return nil, fmt.Errorf("children %s declare a platform that is not made of valid names (letters, digits, \".\", \"_\", \"-\"): set platform to auto with overwrite to replace it from the binaries, or fix the image", strings.Join(invalid, ", "))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("neither the index entry nor the config gives a platform for children %s: set platform to auto to read it from their binaries, or set it on each child by digest", strings.Join(missing, ", "))
	}
	ic.Bytes, ic.Digest = newIdx, Digest(newIdx)
	ic.Changed = ic.Digest != idx.Digest
	return ic, nil
}

// staleAttestations names the attestations made for child digest d.
func staleAttestations(idx *Index, d v1.Hash) []string {
	var out []string
	for _, e := range idx.Entries {
		if e.Attestation() && e.Annotations[refDigestAnnotation] == d.String() {
			out = append(out, fmt.Sprintf("attestation %s describes %s", e.Digest, d))
		}
	}
	return out
}
