package layout

import (
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/patch"
)

// Lists reports whether index.json has an entry for manifest d, as oras
// lists the referrers it attaches; a referrer that only an index lists
// (the OCI referrers tag schema) is not.
func (l *Layout) Lists(d v1.Hash) (bool, error) {
	if l.kind == imageref.DockerArchive {
		return false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	es, err := parseIndex(l.index)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(es, func(e indexEntry) bool { return e.Digest == d }), nil
}

// ListLike lists manifest d, of size bytes and already written, in
// index.json as manifest was is listed there: was's entry is copied byte
// for byte with d's digest and size, without its ref.name (a name names
// one image: the old one keeps it), and appended last, laid out like the
// entries before it; every other byte of index.json stays. A referrer
// carried to a new digest is then found from it (Referrers) where it was
// found from the old one. d listed already changes nothing (a rerun).
func (l *Layout) ListLike(was, d v1.Hash, size int64) error {
	if l.kind == imageref.DockerArchive {
		return fmt.Errorf("listing %s in %q: a docker-archive has no index.json", d, l.name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	es, err := parseIndex(l.index)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(es, func(e indexEntry) bool { return e.Digest == d }) {
		return nil
	}
	i := slices.IndexFunc(es, func(e indexEntry) bool { return e.Digest == was })
	if i < 0 {
		return fmt.Errorf("listing %s in %s of %q like %s: %w", d, indexFile, l.name, was, &NotFoundError{Layout: l.name, What: "an entry for " + was.String()})
	}
	entry, _, err := patch.Get(l.index, patch.Path{"manifests", i})
	if err == nil {
		entry, err = patch.SetDescriptor(entry, patch.Path{}, d.String(), size)
	}
	if err == nil && es[i].refName() != "" {
		entry, err = patch.Apply(entry, patch.Edit{Path: patch.Path{"annotations", RefNameAnnotation}})
	}
	var index []byte
	if err == nil {
		index, err = patch.Apply(l.index, patch.Edit{Path: patch.Path{"manifests", len(es)}, Value: entry})
	}
	if err != nil {
		return fmt.Errorf("listing %s in %s of %q like %s: %w", d, indexFile, l.name, was, err)
	}
	return l.setIndex(index)
}
