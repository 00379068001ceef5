package engine

import (
	"context"
	"fmt"
	"time"
)

// After SIGINT or SIGTERM the run starts nothing new: requests in flight
// get interruptGrace to finish (a manifest PUT cut off on the client may
// still be committed by the registry), then a tag whose push was cut off
// is read back within interruptReadBack, so that the run says what the
// registry holds and still exits within 10 s.
const (
	interruptGrace    = 4 * time.Second
	interruptReadBack = 3 * time.Second
)

type stopKey struct{}

// withGrace returns the context the run's requests use: not cancelled by
// stop (the signal) at once but interruptGrace later, carrying stop so
// that the run can ask whether to start anything new. release ends the
// timer when the run is done.
func withGrace(stop context.Context) (ctx context.Context, release func()) {
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(stop))
	done := make(chan struct{})
	go func() {
		select {
		case <-stop.Done():
		case <-done:
			return
		}
		t := time.NewTimer(interruptGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(context.Cause(stop))
		case <-done:
		}
	}()
	return context.WithValue(ctx, stopKey{}, stop), func() { close(done); cancel(nil) }
}

// interrupted returns an *InterruptedError once the run was told to stop:
// what was not started by then is not started.
func interrupted(ctx context.Context, what string) error {
	stop, ok := ctx.Value(stopKey{}).(context.Context)
	if !ok || stop.Err() == nil {
		return nil
	}
	return &InterruptedError{What: what, Cause: context.Cause(stop)}
}

// InterruptedError is work the run did not start because it was
// interrupted.
type InterruptedError struct {
	// What was not done: "started", "written".
	What  string
	Cause error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("not %s: the run was interrupted (%v); nothing written", e.What, e.Cause)
}

// cutOffByInterrupt reports whether ctx's requests were cut off because
// the interrupt's grace ran out.
func cutOffByInterrupt(ctx context.Context) bool {
	return ctx.Err() != nil && interrupted(ctx, "") != nil
}

// warnInterrupted says, once the run is done, that stop ended it early.
func warnInterrupted(log Logger, stop context.Context) {
	if stop.Err() != nil {
		log.Warning(fmt.Sprintf("the run was interrupted (%v): it started no image after that, gave the writes in flight %v to finish and says above what each tag holds", context.Cause(stop), interruptGrace))
	}
}

// readBackCtx is a short context of its own for reading a tag back after
// the run's requests were cut off.
func readBackCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), interruptReadBack)
}
