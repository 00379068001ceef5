package engine

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/set-image-platform/set-image-platform/internal/limits"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// applyPlan writes a plan in dependency order: every blob the target
// needs, then child manifests by digest, then the top manifest at the
// target, then a read-back of its digest. A failure before the last step
// leaves the target's tag as it was.
func applyPlan(ctx context.Context, deps Deps, src, dst store.Repository, j Job, p *plan.Plan, copyAll bool) error {
	w, err := p.Writes(copyAll)
	if err != nil {
		return err
	}
	from, to := j.Source.Repo, j.Target.Repo
	otherRepo := from.Name() != to.Name()
	if otherRepo {
		noticeCopies(deps.Log, from, to, w)
	}
	var guard *tagCheck
	if !j.Target.IsDigest() && sameTarget(j) {
		// Resolved again while the blobs upload: a tag moved since the
		// plan was read is not written over.
		guard = checkTag(ctx, dst, j.Target)
	}
	blobs := w.Blobs(otherRepo)
	blobCtx, declined := watchMounts(ctx)
	if err := each(blobCtx, len(blobs), func(ctx context.Context, i int) error {
		return putBlob(ctx, src, dst, blobs[i], !sameTarget(j))
	}); err != nil {
		return err
	}
	declined.notice(deps.Log, from, to)
	if guard != nil {
		if done, err := guard.settle(p.PreviousDigest, w.Top.Digest); done || err != nil {
			return err
		}
	}
	// The blobs alone change no tag: an interrupted run stops here.
	if err := interrupted(ctx, "written"); err != nil {
		return err
	}
	if err := each(ctx, len(w.Children), func(ctx context.Context, i int) error {
		c := w.Children[i]
		if err := dst.PutManifest(ctx, c.Digest.String(), c.Bytes, c.MediaType); err != nil {
			return fmt.Errorf("pushing child manifest %s: %w", c.Digest, err)
		}
		return nil
	}); err != nil {
		return err
	}
	return pushTop(ctx, dst, j, w)
}

// noticeCopies says what a copy to another repository leaves out or
// streams across registries.
func noticeCopies(log Logger, from, to store.RepoRef, w *plan.Writes) {
	if len(w.Foreign) > 0 {
		ds := make([]string, len(w.Foreign))
		for i, d := range w.Foreign {
			ds[i] = d.String()
		}
		verb := "are"
		if len(ds) == 1 {
			verb = "is"
		}
		log.Notice(fmt.Sprintf("%s: %s %s not copied, as the manifest says clients fetch them from their urls: %s", to.Name(), count(len(ds), "non-distributable (foreign) layer"), verb, strings.Join(ds, ", ")))
	}
	if from.Host != to.Host {
		log.Notice(fmt.Sprintf("%s is another registry than %s: streaming %s (%s) across", to.Host, from.Host, count(len(w.Copies), "blob"), humanBytes(w.CopySize())))
	}
}

// pushTop writes the top manifest at the target and reads its digest back.
func pushTop(ctx context.Context, dst store.Repository, j Job, w *plan.Writes) error {
	to := j.Target.Repo
	ref := j.Target.Identifier()
	byDigest := j.Target.IsDigest()
	if byDigest {
		ref = w.Top.Digest.String()
	}
	written := &WrittenError{Target: j.Target.String(), Digest: w.Top.Digest, ByDigest: byDigest}
	if byDigest {
		written.Target = to.Name()
	}
	if err := dst.PutManifest(ctx, ref, w.Top.Bytes, w.Top.MediaType); err != nil {
		if cutOffByInterrupt(ctx) {
			return cutOff(ctx, dst, ref, w, written, err)
		}
		return fmt.Errorf("pushing manifest: %w%s", err, childrenWritten(to, w.Children))
	}
	// From here on the target holds the new manifest: a failure says so.
	got, err := dst.HeadManifest(ctx, ref, w.Top.MediaType)
	if err != nil && cutOffByInterrupt(ctx) {
		// Cut off by the interrupt: asked again on a short context of
		// its own, so that the result says what the tag holds.
		rctx, cancel := readBackCtx(ctx)
		if again, aerr := dst.HeadManifest(rctx, ref, w.Top.MediaType); aerr == nil {
			got, err = again, nil
		}
		cancel()
	}
	switch {
	case err != nil:
		written.Err = err
		return written
	case got != w.Top.Digest:
		written.Held = got
		return written
	}
	return nil
}

// cutOff is the result of a push the interrupt cut off on the client: the
// registry may have committed it all the same, so the tag is read back on
// a short context of its own and the result says what it holds.
func cutOff(ctx context.Context, dst store.Repository, ref string, w *plan.Writes, written *WrittenError, pushErr error) error {
	rctx, cancel := readBackCtx(ctx)
	defer cancel()
	got, err := dst.HeadManifest(rctx, ref, w.Top.MediaType)
	switch {
	case err != nil:
		return fmt.Errorf("pushing manifest: %w; reading %s back after the interrupt failed too (%v): it holds %s if the registry committed the push, else what it held before", pushErr, written.Target, err, w.Top.Digest)
	case got == w.Top.Digest:
		written.Err = fmt.Errorf("the run was interrupted (%v) while pushing, and the registry committed the push", context.Cause(ctx))
		written.Interrupted = true
		return written
	}
	return fmt.Errorf("pushing manifest: %w; read back after the interrupt, %s holds %s: the push was not committed", pushErr, written.Target, got)
}

// childrenWritten says which child manifests a failed top push left in repo
// by digest, or nothing when there are none.
func childrenWritten(repo store.RepoRef, children []plan.Push) string {
	if len(children) == 0 {
		return ""
	}
	ds := make([]string, len(children))
	for i, c := range children {
		ds[i] = c.Digest.String()
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
	// Interrupted says the push was cut off by an interrupt and read back
	// after it: Err says so.
	Interrupted bool
}

func (e *WrittenError) Error() string {
	verb := "now points at"
	if e.ByDigest {
		verb = "now holds"
	}
	switch {
	case e.Err == nil:
		return fmt.Sprintf("%s was written with %s but reads back as %s: another run may have moved the tag since", e.Target, e.Digest, e.Held)
	case e.Interrupted:
		return fmt.Sprintf("%s %s %s: %v", e.Target, verb, e.Digest, e.Err)
	}
	return fmt.Sprintf("%s %s %s; reading it back failed: %v", e.Target, verb, e.Digest, e.Err)
}

func (e *WrittenError) Unwrap() error { return e.Err }

// each runs f for 0..n-1 with at most limits.PerStage at once and returns the
// first error; the others are cancelled, and those not started yet skipped.
func each(ctx context.Context, n int, f func(context.Context, int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(limits.PerStage)
	for i := range n {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return f(ctx, i)
		})
	}
	return g.Wait()
}

// putBlob uploads a new blob, or copies one of the source. With ask, a
// new blob is uploaded only when dst lacks it: a target other than the
// source may hold it from an earlier run, and a rerun writes nothing.
func putBlob(ctx context.Context, src, dst store.Repository, b plan.Blob, ask bool) error {
	if b.Upload == nil {
		return store.CopyBlob(ctx, dst, src, v1.Descriptor{Digest: b.Digest, Size: b.Size})
	}
	if ask {
		if there, err := dst.BlobExists(ctx, b.Digest); err == nil && there {
			return nil
		}
	}
	if err := dst.PushBlob(ctx, b.Digest, int64(len(b.Upload)), bytes.NewReader(b.Upload)); err != nil {
		return fmt.Errorf("uploading config %s: %w", b.Digest, err)
	}
	return nil
}
