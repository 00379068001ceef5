package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterBoundsAndAdapts(t *testing.T) {
	t.Parallel()
	l := NewLimiter(8)
	ctx := context.Background()
	for range 8 {
		if err := l.Acquire(ctx); err != nil {
			t.Fatalf("Acquire() = %v, want a slot", err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := l.Acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire() with 8 of 8 slots taken = %v, want the context's error", err)
	}
	l.Lower()
	if got := l.Limit(); got != 4 {
		t.Errorf("Lower() from 8 = limit %d, want 4", got)
	}
	for range 8 {
		l.Release()
	}
	for range 3 {
		l.Lower()
	}
	if got := l.Limit(); got != 1 {
		t.Errorf("Lower() four times from 8 = limit %d, want 1", got)
	}
	// Raising is slow: one slot per as many successes as there are slots.
	for _, want := range []int{2, 3, 4} {
		for range want - 1 {
			l.Success()
		}
		if got := l.Limit(); got != want {
			t.Fatalf("Success() %d times at limit %d = limit %d, want %d", want-1, want-1, got, want)
		}
	}
}

func TestLimiterHandsSlotsOnInOrder(t *testing.T) {
	t.Parallel()
	l := NewLimiter(1)
	ctx := context.Background()
	if err := l.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	gaveUp, cancel := context.WithCancel(ctx)
	errc := make(chan error, 2)
	go func() { errc <- l.Acquire(gaveUp) }()
	time.Sleep(10 * time.Millisecond)
	go func() { errc <- l.Acquire(ctx) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire() of a waiter whose context ended = %v, want context.Canceled", err)
	}
	l.Release()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Acquire() of the next waiter = %v, want the slot", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Release() did not hand the slot to the waiter behind one that gave up")
	}
}

// TestRetryLowersLimitOn429 checks the transport lowers its limiter when
// the registry answers 429, and holds no slot while it waits to retry.
func TestRetryLowersLimitOn429(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	l := NewLimiter(8)
	rt := &retryTransport{next: http.DefaultTransport, limit: l, now: time.Now,
		sleep: func(context.Context, time.Duration) error {
			if got := l.Limit(); got != 4 {
				t.Errorf("limit after a 429 = %d, want 4", got)
			}
			return nil
		}}
	resp, err := (&http.Client{Transport: rt}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || calls.Load() != 2 {
		t.Errorf("Get() = %d after %d calls, want 200 after 2", resp.StatusCode, calls.Load())
	}
	if l.inUse != 0 {
		t.Errorf("slots in use after the request = %d, want 0", l.inUse)
	}
}

func TestLimiterCountsThrottles(t *testing.T) {
	t.Parallel()
	l := NewLimiter(8)
	l.Lower()
	l.Success()
	l.Lower()
	if got := l.Throttled(); got != 2 {
		t.Errorf("Throttled() after two Lower() = %d, want 2", got)
	}
}
