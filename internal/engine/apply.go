package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	if _, ok := j.Target.(name.Digest); ok {
		ref = p.digest.String()
	}
	if err := dst.PutManifest(ctx, to.RepositoryStr(), ref, p.top.bytes, p.top.mediaType); err != nil {
		return fmt.Errorf("pushing manifest: %w", err)
	}
	got, err := dst.HeadManifest(ctx, to.RepositoryStr(), ref, p.top.mediaType)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", ref, err)
	}
	if got != p.digest {
		return fmt.Errorf("reading back %s: registry holds %s, pushed %s (another run may have moved the tag)", ref, got, p.digest)
	}
	return nil
}

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
