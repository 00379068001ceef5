package plan

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// Node is one manifest of the tree a reference names: an image, an index,
// or a manifest hung off an index (an attestation, an artifact) that is
// kept as it is. It holds what was read, what was declared (parsed once,
// when the node is made) and what the binaries show; the planner decides
// from it what changes. Engine reads the tree, fills Detected where
// ToDetect says, and applies the plan.
type Node struct {
	// Read is the manifest as the registry holds it; Read.Config is an
	// image's config blob.
	Read Image
	// Entry is the node's element of its parent index; nil at the root.
	Entry *Entry
	// Manifest is an image's manifest, parsed; nil for other nodes.
	Manifest *Manifest
	// Index is an index's entries, parsed; Children holds per entry the
	// child as read, nil where it was not read (attestations, when no
	// copy needs them).
	Index    *Index
	Children []*Node
	// Declared is an image's config platform; declErr is why it could
	// not be read, returned where a decision needs it.
	Declared platform.Platform
	declErr  error
	// Detected is what the binaries show, refined by Declared; zero where
	// nothing was detected.
	Detected platform.Platform
}

// NewImage makes the node of an image whose manifest was checked with
// ParseManifest (m) and whose config was read, as the root (entry nil) or
// as the child at entry of an index.
func NewImage(img Image, m *Manifest, entry *Entry) *Node {
	n := &Node{Read: img, Manifest: m, Entry: entry}
	p, err := patch.ReadPlatform(img.Config, nil)
	switch {
	case err != nil && entry != nil:
		n.declErr = fmt.Errorf("reading platform of child %s: %w", entry.Digest, err)
	case err != nil:
		n.declErr = fmt.Errorf("reading platform of config %s: %w", m.Config.Digest, err)
	}
	n.Declared = p
	return n
}

// NewOther makes the node of an index's child that is kept as it is.
func NewOther(img Image, entry *Entry) *Node { return &Node{Read: img, Entry: entry} }

// NewIndex makes the node of an index and its children as read.
func NewIndex(idx *Index, children []*Node) *Node {
	return &Node{Read: Image{MediaType: idx.MediaType, Manifest: idx.Bytes, Digest: idx.Digest}, Index: idx, Children: children}
}

// IsImage reports whether n is an image (with a parsed manifest and config).
func (n *Node) IsImage() bool { return n != nil && n.Manifest != nil }

// images returns the image children of an index node.
func (n *Node) images() []*Node {
	var out []*Node
	for _, c := range n.Children {
		if c.IsImage() {
			out = append(out, c)
		}
	}
	return out
}

// ReadChild decides what the manifest served for index entry e is: an
// image, whose config must be read next (m), or a manifest kept as it is
// (m nil). A media type other than the entry's, and a Docker schema 1
// child, are refused.
func ReadChild(e Entry, served Image) (*Manifest, error) {
	if served.MediaType != e.MediaType && e.MediaType != "" {
		return nil, fmt.Errorf("reading child %s: index says %q, registry serves %q", e.Digest, e.MediaType, served.MediaType)
	}
	if e.Attestation() {
		return nil, nil
	}
	m, err := ParseManifest(served.MediaType, served.Manifest)
	var ue *UnsupportedError
	switch {
	case errors.As(err, &ue) && ue.MediaType.IsSchema1():
		return nil, fmt.Errorf("child %s: %w", e.Digest, err)
	case errors.As(err, &ue):
		return nil, nil // not an image: kept as it is
	case err != nil:
		return nil, fmt.Errorf("child %s: %w", e.Digest, err)
	}
	return m, nil
}

// NeedsRead reports whether index entry e must be read: every image, and
// attestations too when a copy to another repository needs them.
func NeedsRead(e Entry, copyAll bool) bool { return copyAll || !e.Attestation() }

// ToDetect lists the images of the tree whose binaries must be read with
// platform auto: a single image always; in an index, in check mode every
// image child, in set mode those with no platform anywhere and, with
// overwrite, those whose entry and config disagree or declare a field that
// is not a valid name.
func ToDetect(root *Node, check, overwrite bool) ([]*Node, error) {
	if root.Index == nil {
		if root.declErr != nil {
			return nil, root.declErr
		}
		return []*Node{root}, nil
	}
	var out []*Node
	for _, c := range root.images() {
		if check {
			out = append(out, c)
			continue
		}
		if c.declErr != nil {
			return nil, c.declErr
		}
		if needsDetection(c.Declared, c.Entry.Platform, overwrite) {
			out = append(out, c)
		}
	}
	return out, nil
}

func needsDetection(have, e platform.Platform, overwrite bool) bool {
	return !have.Complete() && !e.Complete() ||
		overwrite && have.Complete() && e.Complete() && !platform.Same(have, e) ||
		overwrite && (!have.Valid() || !e.Valid())
}

// Refine keeps what binaries cannot show: when the declared platform names
// the same platform as the detected one, it stands as declared (an arm64
// "v8" variant stays); else an OS version declared for the detected OS is
// kept. Fields that are not valid names are never kept.
func Refine(detected, declared platform.Platform) platform.Platform {
	if declared.Complete() && declared.Valid() && platform.Same(declared, detected) {
		return declared
	}
	if declared.OS == detected.OS && detected.OSVersion == "" && platform.ValidField(declared.OSVersion) {
		detected.OSVersion = declared.OSVersion
	}
	if declared.OS == detected.OS && declared.Architecture == detected.Architecture && detected.Variant == "" && platform.ValidField(declared.Variant) {
		detected.Variant = declared.Variant
	}
	return detected
}

// Plan is what to do with a tree: the new top manifest, or the old one when
// nothing changes, and per index entry the plan of an image child.
type Plan struct {
	PreviousDigest v1.Hash
	Digest         v1.Hash
	MediaType      types.MediaType
	Bytes          []byte
	Changed        bool
	// Before and After are the image's platform, or an index's image
	// children's platforms in index order.
	Before, After []platform.Platform
	// Children holds, per entry of an index, the plan of an image child;
	// nil for other entries. Image is the plan of a single image.
	Children []*Change
	Image    *Change
	// Stale names attestations that describe a child digest that changed.
	Stale []string
	// Findings are what check mode found wrong.
	Findings []string
	root     *Node
}

// unchanged is the plan that leaves root as it is.
func unchanged(root *Node) *Plan {
	return &Plan{PreviousDigest: root.Read.Digest, Digest: root.Read.Digest, MediaType: root.Read.MediaType, Bytes: root.Read.Manifest, root: root}
}
