package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// apply writes a plan in dependency order: every blob the target needs,
// then child manifests by digest, then the top manifest at the target, then
// a read-back of its digest. A failure before the last step leaves the
// target's tag as it was.
func apply(ctx context.Context, deps Deps, src, dst *registry.Client, j Job, p *planned) error {
	from, to := j.Source.Context(), j.Target.Context()
	blobs := p.uploads
	if from.Name() != to.Name() {
		blobs = append(blobs, dedupe(p.copies)...)
		if len(p.foreign) > 0 {
			ds := make([]string, len(p.foreign))
			for i, d := range p.foreign {
				ds[i] = d.String()
			}
			deps.Log.Notice(fmt.Sprintf("%s: %d non-distributable (foreign) layers are not copied, as their manifest says clients fetch them from their urls: %s", to.Name(), len(ds), strings.Join(ds, ", ")))
		}
		if from.RegistryStr() != to.RegistryStr() {
			var total int64
			for _, b := range p.copies {
				total += b.size
			}
			deps.Log.Notice(fmt.Sprintf("%s is another registry than %s: streaming %d blobs (%s) across", to.RegistryStr(), from.RegistryStr(), len(p.copies), humanBytes(total)))
		}
	}
	if err := each(ctx, len(blobs), func(ctx context.Context, i int) error {
		return copyBlob(ctx, src, dst, from, to, blobs[i])
	}); err != nil {
		return err
	}
	if err := each(ctx, len(p.children), func(ctx context.Context, i int) error {
		c := p.children[i]
		if err := dst.PutManifest(ctx, to.RepositoryStr(), c.digest.String(), c.bytes, c.mediaType); err != nil {
			return fmt.Errorf("pushing child manifest %s: %w", c.digest, err)
		}
		return nil
	}); err != nil {
		return err
	}
	ref := j.Target.Identifier()
	_, byDigest := j.Target.(name.Digest)
	if byDigest {
		ref = p.digest.String()
	}
	if err := dst.PutManifest(ctx, to.RepositoryStr(), ref, p.top.bytes, p.top.mediaType); err != nil {
		return fmt.Errorf("pushing manifest: %w%s", err, childrenWritten(to, p.children))
	}
	// From here on the target holds the new manifest: a failure says so.
	written := &WrittenError{Target: j.Target.String(), Digest: p.digest, ByDigest: byDigest}
	if byDigest {
		written.Target = to.Name()
	}
	got, err := dst.HeadManifest(ctx, to.RepositoryStr(), ref, p.top.mediaType)
	switch {
	case err != nil:
		written.Err = err
		return written
	case got != p.digest:
		written.Held = got
		return written
	}
	return nil
}

// childrenWritten says which child manifests a failed top push left in repo
// by digest, or nothing when there are none.
func childrenWritten(repo name.Repository, children []manifestPush) string {
	if len(children) == 0 {
		return ""
	}
	ds := make([]string, len(children))
	for i, c := range children {
		ds[i] = c.digest.String()
	}
	return fmt.Sprintf(" (%s now holds %d child manifests pushed by digest before it, which nothing refers to yet: %s)", repo.Name(), len(ds), strings.Join(ds, ", "))
}

// WrittenError is a failure after the target's manifest was written: the
// target holds Digest (or, when Held is set, held Digest until another
// write moved it to Held). The result still reports what was written.
type WrittenError struct {
	// Target is the tag reference written, or the repository when the
	// manifest was pushed by digest (ByDigest).
	Target   string
	Digest   v1.Hash
	ByDigest bool
	// Held is what the read-back found instead of Digest, if it succeeded.
	Held v1.Hash
	Err  error
}

func (e *WrittenError) Error() string {
	verb := "now points at"
	if e.ByDigest {
		verb = "now holds"
	}
	if e.Err == nil {
		return fmt.Sprintf("%s was written with %s but reads back as %s: another run may have moved the tag since", e.Target, e.Digest, e.Held)
	}
	return fmt.Sprintf("%s %s %s; reading it back failed: %v", e.Target, verb, e.Digest, e.Err)
}

func (e *WrittenError) Unwrap() error { return e.Err }

// each runs f for 0..n-1 with at most maxParallel at once and returns the
// first error; the others are cancelled.
func each(ctx context.Context, n int, f func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, maxParallel)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			if err := f(ctx, i); err != nil {
				errs[i] = err
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

func dedupe(bs []blobCopy) []blobCopy {
	seen := map[v1.Hash]bool{}
	var out []blobCopy
	for _, b := range bs {
		if !seen[b.d] {
			seen[b.d] = true
			out = append(out, b)
		}
	}
	return out
}

// blobCopy is one blob the target needs: bytes to upload, or a blob of the
// source to mount (same registry) or stream (another registry).
type blobCopy struct {
	upload []byte
	d      v1.Hash
	size   int64
}

func copyBlob(ctx context.Context, src, dst *registry.Client, from, to name.Repository, b blobCopy) error {
	repo := to.RepositoryStr()
	if b.upload != nil {
		if err := dst.PushBlob(ctx, repo, b.d, int64(len(b.upload)), bytes.NewReader(b.upload)); err != nil {
			return fmt.Errorf("uploading config %s: %w", b.d, err)
		}
		return nil
	}
	var loc string
	if from.RegistryStr() == to.RegistryStr() {
		mounted, l, err := dst.Mount(ctx, repo, from.RepositoryStr(), b.d)
		if err != nil {
			return fmt.Errorf("mounting %s from %s: %w", b.d, from.RepositoryStr(), err)
		}
		if mounted {
			return nil
		}
		loc = l
	}
	rc, err := src.OpenBlob(ctx, from.RepositoryStr(), b.d)
	if err != nil {
		return fmt.Errorf("reading blob %s: %w", b.d, err)
	}
	defer rc.Close()
	if loc != "" {
		err = dst.FinishUpload(ctx, loc, b.d, b.size, rc)
	} else {
		err = dst.PushBlob(ctx, repo, b.d, b.size, rc)
	}
	if err != nil {
		return fmt.Errorf("copying blob %s: %w", b.d, err)
	}
	return nil
}
