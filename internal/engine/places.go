package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/layout"
	"github.com/set-image-platform/set-image-platform/internal/sweep"
)

// places are the layouts and archives a run opened, by path: each is
// opened once whatever the lines naming it, and committed once at the end,
// so that an archive several lines write is rewritten once.
type places struct {
	byPath map[string]*place
	order  []string
}

type place struct {
	l       *layout.Layout
	err     error
	written bool
	// created says the run started the layout (create): nothing was at
	// its path before.
	created bool
}

func newPlaces() *places { return &places{byPath: map[string]*place{}} }

// get opens the layout or archive ref names, or returns the one opened.
func (ps *places) get(ref imageref.Reference) (*layout.Layout, error) {
	p, ok := ps.byPath[ref.Path]
	if !ok {
		p = &place{}
		p.l, p.err = layout.Open(ref)
		ps.byPath[ref.Path] = p
		ps.order = append(ps.order, ref.Path)
	}
	return p.l, p.err
}

// probe opens the layout or archive ref names when something is at its
// path, so that a file of the wrong kind fails before anything is read;
// nothing is created for a path where nothing is (create does, when the
// image is written).
func (ps *places) probe(ref imageref.Reference) error {
	if _, err := os.Lstat(ref.Path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	_, err := ps.get(ref)
	return err
}

// create returns the layout or archive ref names, opened or started
// (layout.Create: a directory at once, an archive at the commit), and
// notes that it has writes to commit.
func (ps *places) create(ref imageref.Reference) (*layout.Layout, error) {
	p, ok := ps.byPath[ref.Path]
	if !ok {
		// probe opened whatever was at the path: nothing was.
		p = &place{created: true}
		p.l, p.err = layout.Create(ref)
		ps.byPath[ref.Path] = p
		ps.order = append(ps.order, ref.Path)
	}
	if p.err != nil {
		return nil, p.err
	}
	p.written = true
	return p.l, nil
}

// discard drops what a failed save wrote at path: nothing is committed,
// and a layout directory the run created is removed (a new archive is
// only written at the commit). Blobs a failed save left in a layout that
// was there stay, as unreferenced blobs do.
func (ps *places) discard(path string) error {
	p := ps.byPath[path]
	if p == nil || p.l == nil {
		return nil
	}
	p.written = false
	if !p.created {
		return nil
	}
	err := p.l.Close()
	if p.l.Kind() == imageref.OCI {
		err = errors.Join(err, os.RemoveAll(path))
	}
	p.l = nil
	return err
}

// wrote notes that the layout at path has writes to commit.
func (ps *places) wrote(path string) { ps.byPath[path].written = true }

// commit commits each layout written, in the order they were opened, and
// returns why each that failed did, by path: an archive that failed is
// left as it was.
func (ps *places) commit(ctx context.Context) map[string]error {
	errs := map[string]error{}
	for _, path := range ps.order {
		if p := ps.byPath[path]; p.written {
			if err := p.l.Commit(ctx); err != nil {
				errs[path] = err
			}
		}
	}
	return errs
}

// close closes every layout opened, removing what an archive staged.
func (ps *places) close() {
	for _, p := range ps.byPath {
		if p.l != nil {
			p.l.Close()
		}
	}
}

// expandLocal returns local with each tag pattern of a layout
// (oci:out:v1.*) replaced by a job per name it matches, in the order the
// layout lists them; a name named twice is worked once. A pattern whose
// layout cannot be opened, or that matches nothing, is a job that fails
// with the reason.
func expandLocal(ctx context.Context, local []LocalJob, ps *places) ([]LocalJob, []error) {
	var jobs []LocalJob
	var errs []error
	seen := map[string]bool{}
	add := func(j LocalJob, err error) {
		if key := j.Source.String(); err != nil || !seen[key] {
			seen[key] = true
			jobs, errs = append(jobs, j), append(errs, err)
		}
	}
	for _, j := range local {
		if j.Source.Pattern == nil || j.Job != nil {
			add(j, nil)
			continue
		}
		tags, err := localTags(ctx, ps, j.Source)
		if err != nil {
			add(j, err)
			continue
		}
		for _, t := range tags {
			tj := j
			tj.Source.Pattern, tj.Source.Ref = nil, t
			tj.Source.Line = string(j.Source.Transport) + ":" + j.Source.GivenPath + ":" + t
			add(tj, nil)
		}
	}
	return jobs, errs
}

// localTags are the tags of the layout ref names that its pattern matches.
func localTags(ctx context.Context, ps *places, ref imageref.Reference) ([]string, error) {
	l, err := ps.get(ref)
	if err != nil {
		return nil, err
	}
	all, err := l.Tags(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: listing tags: %w", ref.Line, err)
	}
	p := sweep.Pattern{Line: ref.Line, Glob: ref.Pattern.Glob}
	tags := p.Match(all)
	if len(tags) == 0 {
		return nil, &sweep.NoMatchError{Pattern: ref.Line, Listed: len(all)}
	}
	return tags, nil
}
