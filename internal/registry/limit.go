package registry

import (
	"context"
	"sync"
)

// Limiter is an adaptive semaphore bounding the requests in flight to one
// registry. The retry transport lowers it on 429 Too Many Requests and
// raises it slowly again after successes; a request waiting for a slot
// gives up when its context ends.
type Limiter struct {
	mu        sync.Mutex
	limit     int // slots now
	max       int // slots at most
	inUse     int
	successes int // since the limit last changed
	waiters   []chan struct{}
	throttled int // 429s met
}

// NewLimiter returns a limiter of n slots (at least 1).
func NewLimiter(n int) *Limiter {
	n = max(n, 1)
	return &Limiter{limit: n, max: n}
}

// Acquire waits for a slot, in order of arrival, or for ctx to end.
func (l *Limiter) Acquire(ctx context.Context) error {
	l.mu.Lock()
	if l.inUse < l.limit && len(l.waiters) == 0 {
		l.inUse++
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-ch:
		// Granted while giving up: hand the slot on.
		l.inUse--
		l.grant()
	default:
		for i, w := range l.waiters {
			if w == ch {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				break
			}
		}
	}
	return ctx.Err()
}

// Release returns a slot taken by Acquire.
func (l *Limiter) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inUse--
	l.grant()
}

// grant hands free slots to waiters; l.mu is held.
func (l *Limiter) grant() {
	for l.inUse < l.limit && len(l.waiters) > 0 {
		ch := l.waiters[0]
		l.waiters = l.waiters[1:]
		l.inUse++
		close(ch)
	}
}

// Lower halves the slots (to at least 1): the registry asked to slow down.
// Requests in flight finish; no new one starts until they are below it.
func (l *Limiter) Lower() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = max(l.limit/2, 1)
	l.successes = 0
	l.throttled++
}

// Throttled returns how many times Lower was called: the 429s met.
func (l *Limiter) Throttled() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.throttled
}

// Success counts an answer that was not a refusal to serve; after as many
// successes in a row as there are slots, one slot is added back, up to the
// limiter's size.
func (l *Limiter) Success() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit == l.max {
		return
	}
	l.successes++
	if l.successes >= l.limit {
		l.limit++
		l.successes = 0
		l.grant()
	}
}

// Limit returns the slots now.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}
