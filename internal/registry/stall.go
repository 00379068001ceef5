package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
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

// ErrStalled is the cause of a request given up for lack of progress: a
// *StallError is one.
var ErrStalled = errors.New("timed out")

// StallError is a request given up because its answer or a body made no
// progress for Timeout.
type StallError struct {
	Method, Path string
	// Waiting is what did not come: response headers, or progress.
	Waiting string
	Timeout time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s %s: timed out: %s for %s", e.Method, e.Path, e.Waiting, e.Timeout)
}

// Is makes a StallError match ErrStalled.
func (e *StallError) Is(target error) bool { return target == ErrStalled }

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
	w := &watchdog{cancel: cancel, timeout: t.header, method: r.Method, path: r.URL.Path, waiting: "no response headers"}
	if r.Body != nil && isStream(r.Context()) {
		w.timeout, w.waiting = t.progress, "no progress"
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
			return nil, cause
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
	// method, path and waiting (what the timeout waits for) are for the
	// error.
	method, path, waiting string
	cancel                context.CancelCauseFunc
	stopped               bool
}

func (w *watchdog) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel(&StallError{Method: w.method, Path: w.path, Waiting: w.waiting, Timeout: w.timeout})
}

func (w *watchdog) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.timer.Reset(w.timeout)
	}
}

// reset kicks the watchdog with another timeout from now on.
func (w *watchdog) reset(timeout time.Duration, waiting string) {
	w.mu.Lock()
	w.timeout, w.waiting = timeout, waiting
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

	// A body sent from a file: the offset watch, and its end.
	watchOnce, unwatchOnce sync.Once
	stop                   chan struct{}
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
	b.unwatch()
	return err
}

// kernelSent is a body the kernel may send straight from a file
// (sendfile), with how far it has got.
type kernelSent interface {
	syscall.Conn
	Offset() (int64, error)
}

// errNotAFile tells net/http that a body is not a file to sendfile from:
// it reads it instead.
var errNotAFile = errors.New("request body is not a file")

// SyscallConn hands net/http the file of a body read from one, so that it
// sends it with sendfile. The process then reads none of it, so the
// watchdog is kicked by the file's offset, looked at four times per
// timeout, as the kernel moves it; Close stops looking.
func (b *progressBody) SyscallConn() (syscall.RawConn, error) {
	ks, ok := b.ReadCloser.(kernelSent)
	if !ok || b.w == nil {
		return nil, errNotAFile
	}
	b.watchOnce.Do(func() {
		b.stop = make(chan struct{})
		go b.watchOffset(ks)
	})
	return ks.SyscallConn()
}

func (b *progressBody) watchOffset(ks kernelSent) {
	b.w.mu.Lock()
	every := max(b.w.timeout/4, time.Millisecond)
	b.w.mu.Unlock()
	tick := time.NewTicker(every)
	defer tick.Stop()
	last, _ := ks.Offset()
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
			if off, err := ks.Offset(); err == nil && off != last {
				last = off
				b.w.kick()
			}
		}
	}
}

func (b *progressBody) unwatch() {
	b.watchOnce.Do(func() {}) // no watch starts after Close
	b.unwatchOnce.Do(func() {
		if b.stop != nil {
			close(b.stop)
		}
	})
}
