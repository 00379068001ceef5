package plan

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Push is a manifest to write: a child by digest, or the top one.
type Push struct {
	Digest    v1.Hash
	MediaType types.MediaType
	Bytes     []byte
}

// Blob is a blob the target needs: new bytes to upload (a config), or a
// blob of the source, Size bytes long, to mount or stream.
type Blob struct {
	Upload []byte
	Digest v1.Hash
	Size   int64
}

// Writes is what applying a plan writes, in dependency order: new blobs,
// then (for a target in another repository) the source's blobs, then child
// manifests by digest, then the top manifest.
type Writes struct {
	Uploads []Blob
	// Copies are the source's blobs a target in another repository needs,
	// as often as the manifests name them.
	Copies []Blob
	// Foreign are the non-distributable layers such a target refers to but
	// does not get: clients fetch them from their urls.
	Foreign  []v1.Hash
	Children []Push
	Top      Push
}

// Writes lists what p writes. With copyAll (the target is another
// repository) it lists every blob and child manifest the target needs;
// else only what changed.
func (p *Plan) Writes(copyAll bool) (*Writes, error) {
	w := &Writes{Top: Push{Digest: p.Digest, MediaType: p.MediaType, Bytes: p.Bytes}}
	if p.Image != nil {
		w.addImage(p.Image)
		return w, nil
	}
	for i, ch := range p.Children {
		other := p.root.Children[i]
		switch {
		case ch != nil:
			w.addImage(ch)
			if ch.Changed || copyAll {
				w.Children = append(w.Children, Push{Digest: ch.Digest, MediaType: ch.MediaType, Bytes: ch.Manifest})
			}
		case other != nil && copyAll:
			if err := w.addOther(other); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// addImage adds the blobs an image's (new) manifest needs.
func (w *Writes) addImage(ch *Change) {
	if ch.ConfigChanged {
		w.Uploads = append(w.Uploads, Blob{Upload: ch.Config, Digest: ch.ConfigDigest})
	} else {
		w.addCopy(ch.OldConfig)
	}
	for _, l := range ch.Layers {
		w.addCopy(l)
	}
}

// addOther adds a child kept as it is, with its blobs.
func (w *Writes) addOther(n *Node) error {
	blobs, err := Blobs(n.Read.Manifest)
	if err != nil {
		return fmt.Errorf("child %s: %w", n.Read.Digest, err)
	}
	for _, b := range blobs {
		w.addCopy(b)
	}
	w.Children = append(w.Children, Push{Digest: n.Read.Digest, MediaType: n.Read.MediaType, Bytes: n.Read.Manifest})
	return nil
}

// addCopy adds a blob of the source that a target in another repository
// needs, once, unless it is non-distributable.
func (w *Writes) addCopy(b Descriptor) {
	if !distributable(b.MediaType) {
		if !slices.Contains(w.Foreign, b.Digest) {
			w.Foreign = append(w.Foreign, b.Digest)
		}
		return
	}
	w.Copies = append(w.Copies, Blob{Digest: b.Digest, Size: b.Size})
}

// Blobs are the blobs to write before the manifests: the uploads and, for
// a target in another repository, each copy once.
func (w *Writes) Blobs(otherRepo bool) []Blob {
	out := slices.Clone(w.Uploads)
	if !otherRepo {
		return out
	}
	seen := map[v1.Hash]bool{}
	for _, b := range w.Copies {
		if !seen[b.Digest] {
			seen[b.Digest] = true
			out = append(out, b)
		}
	}
	return out
}

// CopySize is the bytes of the source's blobs listed, repeats included, as
// the notice of a copy across registries counts them.
func (w *Writes) CopySize() int64 {
	var n int64
	for _, b := range w.Copies {
		n += b.Size
	}
	return n
}

// distributable reports whether a blob of mediaType may be pushed to
// another repository. Non-distributable (foreign) layers, such as those of
// Windows base images, are fetched from their urls and not held by
// registries; go-containerregistry knows all but the zstd variant of OCI's.
func distributable(mediaType types.MediaType) bool {
	return mediaType.IsDistributable() &&
		!strings.HasPrefix(string(mediaType), "application/vnd.oci.image.layer.nondistributable.")
}
