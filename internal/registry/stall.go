package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultStallTimeout is how long a request may go without any progress
// (connecting, answering, sending or receiving a byte) before it is given up
// and retried. It bounds a stalled registry without bounding a slow but
// moving transfer of a large layer.
const DefaultStallTimeout = 60 * time.Second

// ErrStalled is the cause of a request given up for lack of progress.
var ErrStalled = errors.New("no progress")

// stallTransport cancels a request that makes no progress for timeout.
type stallTransport struct {
	timeout time.Duration
	next    http.RoundTripper
}

func (t *stallTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(r.Context())
	w := &watchdog{cancel: cancel, timeout: t.timeout}
	w.timer = time.AfterFunc(t.timeout, w.fire)
	req := r.WithContext(ctx)
	if r.Body != nil {
		req.Body = &progressBody{ReadCloser: r.Body, w: w}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		w.stop()
		cancel(nil)
		if cause := context.Cause(ctx); errors.Is(cause, ErrStalled) {
			return nil, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, cause)
		}
		return nil, err
	}
	w.kick()
	resp.Body = &progressBody{ReadCloser: resp.Body, w: w, done: func() { w.stop(); cancel(nil) }, ctx: ctx}
	return resp, nil
}

type watchdog struct {
	mu      sync.Mutex
	timer   *time.Timer
	timeout time.Duration
	cancel  context.CancelCauseFunc
	stopped bool
}

func (w *watchdog) fire() {
	w.cancel(fmt.Errorf("%w for %s", ErrStalled, w.timeout))
}

func (w *watchdog) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.timer.Reset(w.timeout)
	}
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
}

// progressBody kicks the watchdog on every read, and on close releases the
// request.
type progressBody struct {
	io.ReadCloser
	w    *watchdog
	done func()
	ctx  context.Context
	once sync.Once
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.kick()
	}
	if err != nil && err != io.EOF && b.ctx != nil {
		if cause := context.Cause(b.ctx); errors.Is(cause, ErrStalled) {
			err = fmt.Errorf("reading answer: %w", cause)
		}
	}
	return n, err
}

func (b *progressBody) Close() error {
	err := b.ReadCloser.Close()
	if b.done != nil {
		b.once.Do(b.done)
	}
	return err
}
