package plan

import (
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// Descriptor is what a manifest says of a blob.
type Descriptor struct {
	MediaType types.MediaType `json:"mediaType"`
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
}

// Manifest is the part of an image manifest the planner reads. The bytes
// themselves are only ever patched, never re-encoded from this.
type Manifest struct {
	MediaType types.MediaType
	Config    Descriptor
	Layers    []Descriptor
}

// ParseManifest checks that b, of media type mediaType, is an image manifest
// this tool can patch, and reads its config and layer descriptors.
func ParseManifest(mediaType types.MediaType, b []byte) (*Manifest, error) {
	switch {
	case mediaType.IsImage():
	case mediaType.IsIndex():
		return nil, &UnsupportedError{MediaType: mediaType, Reason: "an image index"}
	case mediaType.IsSchema1():
		return nil, &UnsupportedError{MediaType: mediaType, Reason: "a Docker schema 1 manifest, which has no config to patch; rebuild or convert the image with a current tool"}
	default:
		return nil, &UnsupportedError{MediaType: mediaType, Reason: "not an image manifest"}
	}
	if err := patch.Validate(b); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
		Config    *Descriptor     `json:"config"`
		Layers    []Descriptor    `json:"layers"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	if m.MediaType != "" && m.MediaType != mediaType {
		return nil, fmt.Errorf("parsing manifest: served as %q but says %q", mediaType, m.MediaType)
	}
	if m.Config == nil || m.Config.Digest.Hex == "" {
		return nil, errors.New("parsing manifest: no config descriptor")
	}
	if !m.Config.MediaType.IsConfig() {
		return nil, &UnsupportedError{MediaType: m.Config.MediaType, Reason: "an artifact, not an image (its config media type is not an image config)"}
	}
	return &Manifest{MediaType: mediaType, Config: *m.Config, Layers: m.Layers}, nil
}

// UnsupportedError refuses a manifest this tool cannot patch.
type UnsupportedError struct {
	MediaType types.MediaType
	Reason    string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s (media type %q)", e.Reason, e.MediaType)
}

// ConflictError refuses to replace a platform that is present and different
// without overwrite. The front door says how to allow it.
type ConflictError struct {
	Have, Want platform.Platform
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("the image already declares platform %s, not %s", e.Have.Display(), e.Want.String())
}

// Image is a single image as read from the registry.
type Image struct {
	MediaType types.MediaType
	Manifest  []byte
	Digest    v1.Hash
	Config    []byte
}

// Change is the plan for one image: the new bytes, or the old ones when
// nothing changes.
type Change struct {
	Before, After  platform.Platform
	PreviousDigest v1.Hash
	Digest         v1.Hash
	MediaType      types.MediaType
	Manifest       []byte
	// Config is the new config blob; ConfigChanged says it must be uploaded.
	Config        []byte
	ConfigDigest  v1.Hash
	ConfigChanged bool
	// OldConfig is the source's config descriptor, for copies of an
	// unchanged image to another repository.
	OldConfig Descriptor
	Layers    []Descriptor
	Changed   bool
}

// SetImage plans setting want on the image n.
func SetImage(n *Node, want platform.Platform, overwrite bool) (*Change, error) {
	if n.declErr != nil {
		return nil, n.declErr
	}
	img, m, before := n.Read, n.Manifest, n.Declared
	if err := patch.Validate(img.Config); err != nil {
		return nil, fmt.Errorf("parsing config %s: %w", m.Config.Digest, err)
	}
	c := &Change{
		Before:         before,
		After:          before,
		PreviousDigest: img.Digest,
		Digest:         img.Digest,
		MediaType:      img.MediaType,
		Manifest:       img.Manifest,
		Config:         img.Config,
		ConfigDigest:   m.Config.Digest,
		OldConfig:      m.Config,
		Layers:         m.Layers,
	}
	if before.Valid() && platform.Same(before, want) {
		// Already there, or equivalent (arm64 = arm64/v8): check mode
		// passes it, so set mode leaves it, and its digest, alone.
		return c, nil
	}
	if Conflicts(before, want) && !overwrite {
		return nil, &ConflictError{Have: before, Want: want}
	}
	cfg, err := patch.SetPlatform(img.Config, nil, want)
	if err != nil {
		return nil, fmt.Errorf("patching config: %w", err)
	}
	cd := oci.Digest(cfg)
	man, err := patch.SetDescriptor(img.Manifest, patch.Path{"config"}, cd.String(), int64(len(cfg)))
	if err != nil {
		return nil, fmt.Errorf("patching manifest: %w", err)
	}
	c.After = want
	c.Config, c.ConfigDigest, c.ConfigChanged = cfg, cd, cd != m.Config.Digest
	c.Manifest, c.Digest = man, oci.Digest(man)
	c.Changed = c.Digest != img.Digest
	return c, nil
}

// Conflicts reports whether have declares something that want would replace
// rather than fill in: a field that is not a valid name, a different OS,
// architecture or OS version, or a variant that is not just the implied
// default (arm64 "" and "v8" agree).
func Conflicts(have, want platform.Platform) bool {
	switch {
	case !have.Valid():
		return true
	case have.OS != "" && have.OS != want.OS,
		have.Architecture != "" && have.Architecture != want.Architecture,
		have.OSVersion != "" && have.OSVersion != want.OSVersion:
		return true
	case have.Variant != "" && have.Variant != want.Variant:
		a := platform.Platform{OS: want.OS, Architecture: want.Architecture, Variant: have.Variant}
		b := platform.Platform{OS: want.OS, Architecture: want.Architecture, Variant: want.Variant}
		return !platform.Same(a, b)
	}
	return false
}

// Blobs lists the config and layers of any manifest (image or not), for
// copying it to another repository.
func Blobs(manifest []byte) ([]Descriptor, error) {
	var m struct {
		Config *Descriptor  `json:"config"`
		Layers []Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	var out []Descriptor
	if m.Config != nil {
		out = append(out, *m.Config)
	}
	return append(out, m.Layers...), nil
}
