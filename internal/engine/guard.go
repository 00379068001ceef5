package engine

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// tagCheck is a tag resolved again in the background, while the run
// reads or uploads, so that the answer costs no round trip of its own.
type tagCheck struct {
	ref  string
	done chan struct{}
	held v1.Hash
	err  error
}

// checkTag starts resolving tag of repo; ref names it in messages.
func checkTag(ctx context.Context, repo store.Repository, tag store.Ref) *tagCheck {
	c := &tagCheck{ref: tag.String(), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.held, c.err = repo.Resolve(ctx, tag.Identifier())
	}()
	return c
}

// settle waits for the check and decides the write of result to the
// tag, which held was when the plan was made (zero for a target the plan
// was not read from): done when the tag holds result already (a rerun:
// registries with immutable tags refuse even the same digest), a
// *MovedError when another writer moved it since, which the write would
// undo. A tag the plan was read from that cannot be resolved is not
// written: nothing shows that it still holds was.
func (c *tagCheck) settle(was, result v1.Hash) (done bool, err error) {
	<-c.done
	absent := store.NotFound(c.err)
	switch {
	case c.err != nil && !absent && was == (v1.Hash{}):
		return false, nil
	case c.err != nil && !absent:
		return false, fmt.Errorf("checking that %s still holds %s before writing it: %w", c.ref, was, c.err)
	case c.held == result && !absent:
		return true, nil
	case was != (v1.Hash{}) && (absent || c.held != was):
		return false, &MovedError{Tag: c.ref, Was: was, Now: c.held}
	}
	return false, nil
}

// MovedError is a tag that another writer moved after the plan was made
// from it: writing the plan's result would undo that write.
type MovedError struct {
	Tag string
	// Was is what the plan was made from; Now what the tag holds, zero
	// when it was deleted.
	Was, Now v1.Hash
}

func (e *MovedError) Error() string {
	now := e.Now.String()
	if e.Now == (v1.Hash{}) {
		now = "no manifest (the tag was deleted)"
	}
	return fmt.Sprintf("%s moved during the run: was %s, now %s; nothing written", e.Tag, e.Was, now)
}
