package plan

import (
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// ErrNoPlatform is returned for a single image when neither the input nor
// its binaries give a platform to set.
var ErrNoPlatform = errors.New("no platform to set")

// Set plans setting want on the tree at root. A single image gets want, or
// with want zero what its binaries show (Detected). An index's image
// children are each made consistent with their entries (want zero), or its
// only image child gets want; Detected fills children that have no
// platform, and with overwrite settles an entry and a config that disagree
// or replaces fields that are not valid names.
func Set(root *Node, want platform.Platform, overwrite bool) (*Plan, error) {
	if root.Index != nil {
		return setIndex(root, want, overwrite)
	}
	if root.declErr != nil {
		return nil, root.declErr
	}
	if want.IsZero() {
		want = root.Detected
	}
	if want.IsZero() {
		return nil, ErrNoPlatform
	}
	ch, err := SetImage(root, want, overwrite)
	if err != nil {
		return nil, err
	}
	return &Plan{
		PreviousDigest: ch.PreviousDigest, Digest: ch.Digest, MediaType: ch.MediaType, Bytes: ch.Manifest, Changed: ch.Changed,
		Before: []platform.Platform{ch.Before}, After: []platform.Platform{ch.After}, Image: ch, root: root,
	}, nil
}

func setIndex(root *Node, want platform.Platform, overwrite bool) (*Plan, error) {
	images := root.images()
	if len(images) == 0 {
		return nil, errors.New("the index has no image children")
	}
	if !want.IsZero() && len(images) != 1 {
		return nil, &RefusalError{
			Problem: fmt.Sprintf("a platform of %s for an index of %d images", want, len(images)),
			Fix:     Fix{Clear: true, Why: "to make each child consistent with its index entry", Otherwise: "name one child by digest"},
		}
	}
	p := unchanged(root)
	p.Children = make([]*Change, len(root.Children))
	var r refusals
	newIdx := root.Read.Manifest
	for i, c := range root.Children {
		if !c.IsImage() {
			continue
		}
		target, ok, err := childTarget(c, want, overwrite, &r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		ch, err := SetImage(c, target, overwrite)
		if err != nil {
			return nil, fmt.Errorf("child %s: %w", c.Entry.Digest, err)
		}
		p.Children[i] = ch
		p.Before, p.After = append(p.Before, c.Declared), append(p.After, ch.After)
		if newIdx, err = patchEntry(newIdx, i, c.Entry, ch, target); err != nil {
			return nil, err
		}
		if ch.Changed {
			p.Stale = append(p.Stale, staleAttestations(root.Index, c.Entry.Digest)...)
		}
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	p.Bytes, p.Digest = newIdx, oci.Digest(newIdx)
	p.Changed = p.Digest != root.Read.Digest
	return p, nil
}

// childTarget decides the platform of index child c; ok is false when c is
// refused, which r then records.
func childTarget(c *Node, want platform.Platform, overwrite bool, r *refusals) (target platform.Platform, ok bool, err error) {
	if c.declErr != nil {
		return target, false, c.declErr
	}
	e, found := c.Entry.Platform, c.Detected
	target = want
	if target.IsZero() {
		if target, ok = settle(c, overwrite, r); !ok {
			return target, false, nil
		}
		if !target.Valid() {
			// Copying a value that is not a name from the config to the
			// entry, or back, would spread it.
			r.invalid = append(r.invalid, fmt.Sprintf("%s (%s)", c.Entry.Digest, target.Display()))
			return target, false, nil
		}
	}
	replaces := !want.IsZero() || !found.IsZero() && target == found || !e.Valid()
	if replaces && !e.IsZero() && Conflicts(e, target) && !overwrite {
		return target, false, fmt.Errorf("index entry %s: %w", c.Entry.Digest, &ConflictError{Have: e, Want: target})
	}
	return target, true, nil
}

// settle picks, with no platform asked for, what an index child's config
// and entry agree on, what one of them says, or what its binaries show.
func settle(c *Node, overwrite bool, r *refusals) (platform.Platform, bool) {
	have, e, found := c.Declared, c.Entry.Platform, c.Detected
	both := have.Complete() && e.Complete()
	switch {
	case !found.IsZero() && overwrite && (both && !platform.Same(have, e) || !have.Valid() || !e.Valid()):
		return found, true
	case both && !platform.Same(have, e):
		r.disagree = append(r.disagree, fmt.Sprintf("%s (entry %s, config %s)", c.Entry.Digest, e.Display(), have.Display()))
		return platform.Platform{}, false
	case both, have.Complete():
		return have, true
	case e.Complete():
		return e, true
	case !found.IsZero():
		return found, true
	}
	r.missing = append(r.missing, c.Entry.Digest.String())
	return platform.Platform{}, false
}

// patchEntry points entry i of index b at the child's new manifest and
// writes target as its platform. An entry that already says target, or an
// equivalent platform (arm64 = arm64/v8), is left as it is.
func patchEntry(b []byte, i int, e *Entry, ch *Change, target platform.Platform) ([]byte, error) {
	var err error
	if ch.Changed {
		if b, err = patch.SetDescriptor(b, patch.Path{"manifests", i}, ch.Digest.String(), int64(len(ch.Manifest))); err != nil {
			return nil, fmt.Errorf("patching index entry %d: %w", i, err)
		}
	}
	if e.Platform.Complete() && e.Platform.Valid() && platform.Same(e.Platform, target) {
		return b, nil
	}
	if b, err = patch.SetPlatform(b, patch.Path{"manifests", i, "platform"}, target); err != nil {
		return nil, fmt.Errorf("patching platform of index entry %d: %w", i, err)
	}
	return b, nil
}

// refusals collects the children an index plan cannot settle, so that one
// error names them all.
type refusals struct{ missing, disagree, invalid []string }

func (r *refusals) err() error {
	switch {
	case len(r.disagree) > 0:
		return &RefusalError{
			Problem: "index entries and child configs disagree: " + strings.Join(r.disagree, "; "),
			Fix:     Fix{Auto: true, Overwrite: true, Why: "to settle it from the binaries", Otherwise: "fix the image"},
		}
	case len(r.invalid) > 0:
		return &RefusalError{
			Problem: fmt.Sprintf(`the platform of %s is not made of valid names (letters, digits, ".", "_", "-")`, children(r.invalid, ", ")),
			Fix:     Fix{Auto: true, Overwrite: true, Why: "to replace it from the binaries", Otherwise: "fix the image"},
		}
	case len(r.missing) > 0:
		return &RefusalError{
			Problem: "neither the index entry nor the config gives a platform for " + children(r.missing, ", "),
			Fix:     Fix{Auto: true, Why: "to read it from the binaries", Otherwise: "set it on each child by digest"},
		}
	}
	return nil
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
