package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// Retry bounds. A registry hiccup (429, 5xx, a reset) is retried with
// jittered exponential backoff; Retry-After is honoured up to MaxRetryAfter.
const (
	// MaxAttempts bounds the attempts of one request, and
	// MaxThrottledAttempts those of one the registry has answered 429: a
	// rate limit asks for patience, not for giving up (in a storm of one
	// 429 in five, 5 attempts lost 2 tags of 1,000). The log's "attempt N
	// of M" counts against the bound that applies when it is printed,
	// and the registry's budget bounds them all.
	MaxAttempts          = 5
	MaxThrottledAttempts = 10
	baseBackoff          = 250 * time.Millisecond
	// throttledBackoff is the first backoff after a 429 without
	// Retry-After: a rate limit asks for more patience than a hiccup.
	throttledBackoff = time.Second
	MaxRetryAfter    = 60 * time.Second
	// DefaultBudget is how long a registry may go with no request
	// succeeding before it is given up: a 429 storm or an outage
	// otherwise retries each request of a long sweep in turn, past
	// GitHub's job limit, and loses every output.
	DefaultBudget = 10 * time.Minute
)

// retryTransport retries requests that failed for reasons that may pass.
// go-containerregistry's own retry ignores Retry-After; this one sits under
// the auth transport so that a token refresh and a retry never mix.
type retryTransport struct {
	next http.RoundTripper
	// limit bounds the attempts in flight to the registry, from sending
	// until the answer's header; nil means no bound.
	limit *Limiter
	logf  func(format string, args ...any)
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
	// health is what the registry's answers say of it as a whole; nil
	// means no budget and no rate limit kept.
	health *health
}

func (t *retryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	limit := MaxAttempts
	for attempt := 1; ; attempt++ {
		if err := t.health.usable(t.now()); err != nil {
			closeBody(r)
			return nil, err
		}
		req, err := rewound(r, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.attempt(req)
		t.health.record(resp, err, t.now())
		if rl := rateLimitSpent(resp, t.health.host()); rl != nil {
			drain(resp)
			t.health.spend(rl)
			return nil, rl
		}
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			limit = MaxThrottledAttempts
		}
		wait, why := t.retryAfter(resp, err, attempt)
		if why == "" || attempt >= limit {
			return resp, err
		}
		if be := t.health.wouldOutlast(t.now(), wait, why); be != nil {
			drain(resp)
			return nil, be
		}
		drain(resp)
		if logf := logfFor(r.Context(), t.logf); logf != nil {
			logf("retrying %s %s in %s (attempt %d of %d): %s", r.Method, r.URL.Path, wait.Round(10*time.Millisecond), attempt+1, limit, why)
		}
		if err := t.sleep(r.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// drain reads what is left of an answer not handed on, up to a bound, so
// that its connection is reused, and closes it.
func drain(resp *http.Response) {
	if resp != nil {
		discard(resp.Body)
		resp.Body.Close()
	}
}

// discard reads up to 64 KiB of a body nobody reads, so that its
// connection is reused. Its error does not matter: a body that fails to
// drain costs that connection, never the answer, which is read already.
func discard(body io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10)) }

// closeBody closes the body of a request that is not sent, as a
// RoundTripper must.
func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// rewound is r to send as the given attempt, with a body of its own from
// GetBody whenever r has one. Not only retries need it: the auth
// transport above sends the same request again after a 401 that fetched
// a fresh token (an expired token, or a scope asked for again), and its
// first body is spent by then.
func rewound(r *http.Request, attempt int) (*http.Request, error) {
	switch {
	case r.Body == nil || r.Body == http.NoBody:
		return r, nil
	case r.GetBody == nil && attempt > 1:
		return nil, fmt.Errorf("retrying %s %s: the request body cannot be replayed", r.Method, r.URL.Path)
	case r.GetBody == nil:
		return r, nil
	}
	body, err := r.GetBody()
	if err != nil {
		return nil, fmt.Errorf("rewinding the body of %s %s: %w", r.Method, r.URL.Path, err)
	}
	req := r.Clone(r.Context())
	req.Body = body
	return req, nil
}

// logfKey is the context key of WithLogf.
type logfKey struct{}

// WithLogf returns ctx whose requests tell their retries to logf rather
// than to the client's Options.Logf: one image's retries go to that
// image's log, named as the image.
func WithLogf(ctx context.Context, logf func(format string, args ...any)) context.Context {
	return context.WithValue(ctx, logfKey{}, logf)
}

// logfFor is the WithLogf of ctx, else def.
func logfFor(ctx context.Context, def func(format string, args ...any)) func(format string, args ...any) {
	if f, ok := ctx.Value(logfKey{}).(func(format string, args ...any)); ok {
		return f
	}
	return def
}

// attempt sends req once within the limiter, and tells it how the registry
// answered: a 429 lowers it, another answer counts towards raising it.
func (t *retryTransport) attempt(req *http.Request) (*http.Response, error) {
	if t.limit == nil {
		return t.next.RoundTrip(req)
	}
	if err := t.limit.Acquire(req.Context()); err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	t.limit.Release()
	switch {
	case resp != nil && resp.StatusCode == http.StatusTooManyRequests:
		t.limit.Lower()
	case err == nil && resp.StatusCode < http.StatusInternalServerError:
		t.limit.Success()
	}
	return resp, err
}

// retryAfter says whether to retry and after how long; why is empty when
// the answer is final.
func (t *retryTransport) retryAfter(resp *http.Response, err error, attempt int) (time.Duration, string) {
	backoff := baseBackoff << (attempt - 1)
	backoff = backoff/2 + rand.N(backoff/2+1) // jitter: [b/2, b]
	switch {
	case err != nil:
		if retryableError(err) {
			return backoff, oneLine(err.Error(), 120)
		}
		return 0, ""
	case resp.StatusCode == http.StatusTooManyRequests:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
			return min(d, MaxRetryAfter), "429 Too Many Requests"
		}
		backoff = throttledBackoff << (attempt - 1)
		return backoff/2 + rand.N(backoff/2+1), "429 Too Many Requests"
	case resp.StatusCode == http.StatusServiceUnavailable:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
			return min(d, MaxRetryAfter), resp.Status
		}
		return backoff, resp.Status
	case resp.StatusCode == http.StatusInternalServerError, resp.StatusCode == http.StatusBadGateway, resp.StatusCode == http.StatusGatewayTimeout:
		return backoff, resp.Status
	}
	return 0, ""
}

// parseRetryAfter reads seconds or an HTTP date.
func parseRetryAfter(s string, now time.Time) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(s); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func retryableError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ph *PlainHTTPError
	if errors.As(err, &ph) {
		return false
	}
	var ne net.Error
	return errors.Is(err, ErrStalled) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.As(err, &ne) && ne.Timeout()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
