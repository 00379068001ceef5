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

// DefaultHeaderTimeout is how long a request may wait for its response
// headers before it is given up and retried. Registries answer metadata
// requests (ping, token, manifests, configs, HEAD) in well under a second;
// a stalled one costs this long per attempt, so that a registry that
// stalls every request fails the run within 5 attempts (about 80 s).
const DefaultHeaderTimeout = 15 * time.Second

// DefaultStallTimeout is how long a body may go without any progress
// (sending or receiving a byte) before the request is given up and
// retried. It bounds a stalled registry without bounding a slow but moving
// transfer of a large layer.
const DefaultStallTimeout = 60 * time.Second

// ErrStalled is the cause of a request given up for lack of progress.
var ErrStalled = errors.New("timed out")

// streamKey marks a request context as a blob stream.
type streamKey struct{}

// asStream marks requests made with ctx as blob streams: a blob read for
// its bytes, or an upload whose body is a blob. Their upload body counts as
// progress all the way to the answer, since a registry may take a while to
// settle a large blob it has received.
func asStream(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamKey{}, true)
}

func isStream(ctx context.Context) bool {
	s, _ := ctx.Value(streamKey{}).(bool)
	return s
}

// stallTransport cancels a request whose response headers take longer than
// header, or whose bodies make no progress for progress.
type stallTransport struct {
	header, progress time.Duration
	next             http.RoundTripper
}

// newStallTransport returns a stallTransport over next with the default
// timeouts, or override for both when it is positive.
func newStallTransport(override time.Duration, next http.RoundTripper) *stallTransport {
	t := &stallTransport{header: DefaultHeaderTimeout, progress: DefaultStallTimeout, next: next}
	if override > 0 {
		t.header, t.progress = override, override
	}
	return t
}

func (t *stallTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(r.Context())
	w := &watchdog{cancel: cancel, timeout: t.header, what: "no response headers"}
	if r.Body != nil && isStream(r.Context()) {
		w.timeout, w.what = t.progress, "no progress"
	}
	w.timer = time.AfterFunc(w.timeout, w.fire)
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
	w.reset(t.progress, "no progress")
	resp.Body = &progressBody{ReadCloser: resp.Body, w: w, done: func() { w.stop(); cancel(nil) }, ctx: ctx}
	return resp, nil
}

type watchdog struct {
	mu      sync.Mutex
	timer   *time.Timer
	timeout time.Duration
	what    string // what the timeout waits for, for the error
	cancel  context.CancelCauseFunc
	stopped bool
}

func (w *watchdog) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel(fmt.Errorf("%w: %s for %s", ErrStalled, w.what, w.timeout))
}

func (w *watchdog) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.timer.Reset(w.timeout)
	}
}

// reset kicks the watchdog with another timeout from now on.
func (w *watchdog) reset(timeout time.Duration, what string) {
	w.mu.Lock()
	w.timeout, w.what = timeout, what
	w.mu.Unlock()
	w.kick()
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
