package layout

import (
	"errors"
	"fmt"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// EntryPlatform returns the platform of the index.json entry ref names,
// and whether it has one: crane and containerd list an image with its
// platform, as an index lists its children. A digest that index.json does
// not list, and a docker-archive, have no entry.
func (l *Layout) EntryPlatform(ref string) (platform.Platform, bool, error) {
	if l.kind == imageref.DockerArchive {
		return platform.Platform{}, false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	i, err := l.entryAt(ref)
	if err != nil || i < 0 {
		return platform.Platform{}, false, err
	}
	path := patch.Path{"manifests", i, "platform"}
	if _, ok, err := patch.Get(l.index, path); err != nil || !ok {
		return platform.Platform{}, false, err
	}
	p, err := patch.ReadPlatform(l.index, path)
	if err != nil {
		return platform.Platform{}, false, fmt.Errorf("reading %s of %q: %w", indexFile, l.name, err)
	}
	return p, true, nil
}

// SetEntryPlatform sets p as the platform of every index.json entry ref
// names, adding the member where an entry has none, with the patch
// package: every other byte of index.json stays. A directory's index.json
// is replaced at once, an archive's at Commit.
func (l *Layout) SetEntryPlatform(ref string, p platform.Platform) error {
	if l.kind == imageref.DockerArchive {
		return fmt.Errorf("setting an entry's platform in %q: a docker-archive has no index.json", l.name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	es, err := parseIndex(l.index)
	if err != nil {
		return err
	}
	hits, err := l.find(es, ref)
	if err != nil {
		return err
	}
	index := l.index
	for _, i := range hits {
		if index, err = patch.SetPlatform(index, patch.Path{"manifests", i, "platform"}, p); err != nil {
			return fmt.Errorf("setting the platform of %q in %s of %q: %w", ref, indexFile, l.name, err)
		}
	}
	return l.setIndex(index)
}

// entryAt is the position in index.json of the entry ref names, -1 for a
// digest it does not list. The caller holds mu.
func (l *Layout) entryAt(ref string) (int, error) {
	es, err := parseIndex(l.index)
	if err != nil {
		return 0, err
	}
	hits, err := l.find(es, ref)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		if _, isDigest := digestRef(ref); isDigest {
			return -1, nil
		}
	}
	if err != nil {
		return 0, err
	}
	return hits[0], nil
}
