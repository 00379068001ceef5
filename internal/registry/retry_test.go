package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// flaky answers the first len(fail) requests with those handlers, then 200
// with the request body echoed.
func flaky(t *testing.T, fail ...http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(fail) {
			fail[i](w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
	}
}

// reset closes the connection without an answer.
func repeat(h http.HandlerFunc, n int) []http.HandlerFunc {
	out := make([]http.HandlerFunc, n)
	for i := range out {
		out[i] = h
	}
	return out
}

func reset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func TestRetryTransport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fail       []http.HandlerFunc
		wantStatus int
		wantCalls  int32
		wantSleeps []time.Duration // exact where fixed by Retry-After; -1 for jittered
	}{
		{"503 then ok", []http.HandlerFunc{status(503, ""), status(503, "")}, 200, 3, []time.Duration{-1, -1}},
		{"429 with Retry-After seconds", []http.HandlerFunc{status(429, "1")}, 200, 2, []time.Duration{time.Second}},
		{"429 with Retry-After capped", []http.HandlerFunc{status(429, "3600")}, 200, 2, []time.Duration{MaxRetryAfter}},
		{"reset", []http.HandlerFunc{reset}, 200, 2, []time.Duration{-1}},
		{"404 is final", []http.HandlerFunc{status(404, "")}, 404, 1, nil},
		{"throttled more often than other failures", repeat(status(429, "1"), 7), 200, 8, []time.Duration{time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second}},
		{"throttled to the last attempt", repeat(status(429, "1"), 10), 429, 10, []time.Duration{time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second}},
		{"throttled without Retry-After", []http.HandlerFunc{status(429, "")}, 200, 2, []time.Duration{-1}},
		{"gives up after the last attempt", []http.HandlerFunc{status(502, ""), status(502, ""), status(502, ""), status(502, ""), status(502, "")}, 502, 5, []time.Duration{-1, -1, -1, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, calls := flaky(t, tt.fail...)
			s := &sleeps{}
			var logs []string
			rt := &retryTransport{next: http.DefaultTransport, sleep: s.sleep, now: time.Now,
				logf: func(f string, a ...any) { logs = append(logs, f) }}
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v2/o/r/manifests/t", bytes.NewReader([]byte("body")))
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip() = %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || calls.Load() != tt.wantCalls {
				t.Errorf("RoundTrip() = %d after %d calls, want %d after %d", resp.StatusCode, calls.Load(), tt.wantStatus, tt.wantCalls)
			}
			if tt.wantStatus == 200 && string(body) != "body" {
				t.Errorf("RoundTrip() echoed %q, want the body replayed in full", body)
			}
			got := append([]time.Duration(nil), s.d...)
			for i := range got {
				if i < len(tt.wantSleeps) && tt.wantSleeps[i] == -1 {
					if got[i] <= 0 || got[i] > 5*time.Second {
						t.Errorf("sleep %d = %s, want a jittered backoff", i, got[i])
					}
					got[i] = -1
				}
			}
			if diff := cmp.Diff(tt.wantSleeps, got); diff != "" {
				t.Errorf("RoundTrip() sleeps (-want +got):\n%s", diff)
			}
			if len(logs) != len(tt.wantSleeps) {
				t.Errorf("RoundTrip() logged %d retries, want %d", len(logs), len(tt.wantSleeps))
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"0": 0, "7": 7 * time.Second, "Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second, "Wed, 31 Dec 2025 23:00:00 GMT": 0,
	} {
		if got, ok := parseRetryAfter(in, now); !ok || got != want {
			t.Errorf("parseRetryAfter(%q) = %s, %t, want %s, true", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "soon", "-3"} {
		if _, ok := parseRetryAfter(in, now); ok {
			t.Errorf("parseRetryAfter(%q) ok, want not ok", in)
		}
	}
}

// TestRateLimitSpent: Docker Hub's 429 with ratelimit-remaining 0 and no
// Retry-After is final at once, and for every later request to the
// registry, which is not asked again.
func TestRateLimitSpent(t *testing.T) {
	t.Parallel()
	srv, calls := flaky(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("RateLimit-Limit", "100;w=21600")
		w.Header().Set("RateLimit-Remaining", "0;w=21600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	s := &sleeps{}
	rt := &retryTransport{next: http.DefaultTransport, sleep: s.sleep, now: time.Now, health: newHealth("registry-1.docker.io", 0)}
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/o/r/manifests/t", nil)
		resp, err := rt.RoundTrip(req)
		var rl *RateLimitError
		if !errors.As(err, &rl) {
			t.Fatalf("RoundTrip() #%d = %v, %v; want a *RateLimitError", i+1, resp, err)
		}
		for _, want := range []string{"registry-1.docker.io", "100 requests per 6h window", "resets within 6h", "ratelimit-remaining: 0;w=21600"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("RoundTrip() #%d error %q does not mention %q", i+1, err, want)
			}
		}
	}
	if calls.Load() != 1 || len(s.d) != 0 {
		t.Errorf("requests = %d, sleeps = %v; want 1 request and no wait", calls.Load(), s.d)
	}
}

// TestRegistryBudget: a registry with no request succeeding for its
// budget is given up: the request that would wait past it stops without
// logging a retry it would not make, and later requests are not sent.
func TestRegistryBudget(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	srv, calls := flaky(t, repeat(status(http.StatusTooManyRequests, "60"), 100)...)
	var logs []string
	rt := &retryTransport{next: http.DefaultTransport, now: now, health: newHealth("registry.example.com", 150*time.Second),
		sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(d)
			return nil
		},
		logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/o/r/manifests/t", nil)
	_, err := rt.RoundTrip(req)
	var be *BudgetError
	if !errors.As(err, &be) || be.Failing != 2*time.Minute || be.Next != time.Minute {
		t.Fatalf("RoundTrip() = %v, want a *BudgetError after 2m failing, with a retry in 1m to come", err)
	}
	// Attempts at 0, 1m and 2m; the retry at 3m would pass 2m30s.
	if calls.Load() != 3 || len(logs) != 2 || !strings.Contains(logs[1], "attempt 3 of 10") {
		t.Errorf("requests = %d, logs = %q; want 3 requests, each retry logged", calls.Load(), logs)
	}
	mu.Lock()
	clock = clock.Add(time.Minute)
	mu.Unlock()
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/v2/o/r/manifests/u", nil)
	if _, err := rt.RoundTrip(req); !errors.As(err, &be) || calls.Load() != 3 {
		t.Errorf("RoundTrip() after the budget = %v after %d requests, want a *BudgetError and no request", err, calls.Load())
	}
}
