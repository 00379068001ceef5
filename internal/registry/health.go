package registry

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// health is what the answers of one registry say of it as a whole: since
// when no request has succeeded, and whether its rate limit is used up.
// Every request to the registry consults it before it is sent, so that a
// registry given up fails the rest of the run's requests to it at once.
type health struct {
	registry string
	budget   time.Duration

	mu sync.Mutex
	// failingSince is when requests began to fail with no success since;
	// zero while they succeed. Time without requests does not count.
	failingSince time.Time
	lastFailure  string
	spent        *RateLimitError
}

func newHealth(registry string, budget time.Duration) *health {
	if budget <= 0 {
		budget = DefaultBudget
	}
	return &health{registry: registry, budget: budget}
}

func (h *health) host() string {
	if h == nil {
		return ""
	}
	return h.registry
}

// usable returns why no request may go to the registry any more, or nil.
func (h *health) usable(now time.Time) error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.spent != nil {
		return h.spent
	}
	if !h.failingSince.IsZero() && now.Sub(h.failingSince) >= h.budget {
		return &BudgetError{Registry: h.registry, Budget: h.budget, Failing: now.Sub(h.failingSince), Last: h.lastFailure}
	}
	return nil
}

// record notes how an attempt went: an answer other than 429 or 5xx is a
// success (a 404 or 401 is the registry answering), a 429, a 5xx or an
// error that a retry may cure is a failure; a cancelled request is
// neither.
func (h *health) record(resp *http.Response, err error, now time.Time) {
	if h == nil {
		return
	}
	var failure string
	switch {
	case err != nil && !retryableError(err):
		return
	case err != nil:
		failure = oneLine(err.Error(), 120)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= http.StatusInternalServerError:
		failure = resp.Status
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case failure == "":
		h.failingSince, h.lastFailure = time.Time{}, ""
	case h.failingSince.IsZero():
		h.failingSince, h.lastFailure = now, failure
	default:
		h.lastFailure = failure
	}
}

// wouldOutlast returns a *BudgetError when waiting d before the next
// attempt would take the registry past its budget without a success: the
// request is given up now rather than logged as retried and then not.
func (h *health) wouldOutlast(now time.Time, d time.Duration, why string) error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingSince.IsZero() || now.Add(d).Sub(h.failingSince) < h.budget {
		return nil
	}
	return &BudgetError{Registry: h.registry, Budget: h.budget, Failing: now.Sub(h.failingSince), Next: d, Last: why}
}

// spend marks the registry's rate limit used up for the rest of the run.
func (h *health) spend(e *RateLimitError) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.spent = e
}

// BudgetError is a registry given up because no request to it succeeded
// for its budget.
type BudgetError struct {
	Registry string
	Budget   time.Duration
	// Failing is how long requests had been failing; Next, when set, the
	// wait before a retry that would have passed the budget.
	Failing, Next time.Duration
	// Last is the last failure.
	Last string
}

func (e *BudgetError) Error() string {
	s := fmt.Sprintf("giving up on registry %q: no request to it succeeded for %s", e.Registry, e.Failing.Round(time.Second))
	if e.Next > 0 {
		s += fmt.Sprintf(", and the next retry, in %s, would pass %s without one", e.Next.Round(time.Second), e.Budget)
	}
	if e.Last != "" {
		s += " (last: " + e.Last + ")"
	}
	return s
}

// RateLimitError is a registry whose rate limit is used up: it answered
// 429 with ratelimit-remaining 0 and no Retry-After (Docker Hub), which no
// retry within a run can wait out.
type RateLimitError struct {
	Registry string
	// Limit and Remaining are the headers as the registry sent them.
	Limit, Remaining string
}

func (e *RateLimitError) Error() string {
	s := fmt.Sprintf("registry %q answered 429 Too Many Requests with its rate limit used up (ratelimit-remaining: %s)", e.Registry, e.Remaining)
	if l := describeLimit(e.Limit); l != "" {
		s += ": " + l
	}
	return s + "; it gives no Retry-After, so nothing more is asked of it in this run: run again once the window has passed, or with credentials that have a higher limit"
}

// rateLimitSpent returns a *RateLimitError when resp is a 429 that says
// the rate limit is used up and asks for no particular wait.
func rateLimitSpent(resp *http.Response, registry string) *RateLimitError {
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
		return nil
	}
	remaining := resp.Header.Get("RateLimit-Remaining")
	if n, _, ok := rateValue(remaining); !ok || n != 0 {
		return nil
	}
	return &RateLimitError{Registry: registry, Limit: oneLine(resp.Header.Get("RateLimit-Limit"), 64), Remaining: oneLine(remaining, 64)}
}

// rateValue parses "100;w=21600": the count and the window, when given.
func rateValue(s string) (n int, window time.Duration, ok bool) {
	parts := strings.Split(s, ";")
	n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || n < 0 {
		return 0, 0, false
	}
	for _, p := range parts[1:] {
		if w, found := strings.CutPrefix(strings.TrimSpace(p), "w="); found {
			if secs, err := strconv.Atoi(w); err == nil && secs > 0 {
				window = time.Duration(secs) * time.Second
			}
		}
	}
	return n, window, true
}

// describeLimit words a ratelimit-limit header: "100 requests per 6h
// window"; "" when it does not parse.
func describeLimit(s string) string {
	n, w, ok := rateValue(s)
	switch {
	case !ok:
		return ""
	case w == 0:
		return fmt.Sprintf("a limit of %d requests", n)
	case w%time.Hour == 0:
		return fmt.Sprintf("%d requests per %dh window, which resets within %dh", n, w/time.Hour, w/time.Hour)
	}
	return fmt.Sprintf("%d requests per %s window, which resets within %s", n, w, w)
}
