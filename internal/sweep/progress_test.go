package sweep

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lines records Info messages.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (r *lines) Info(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.l = append(r.l, msg)
}

// newTestProgress is a Progress of total images on a fake clock at the
// epoch, logging to the returned lines.
func newTestProgress(total int, throttled func() int) (*Progress, *fakeClock, *lines) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	log := &lines{}
	return NewProgress(total, log, clock.now, throttled), clock, log
}

func TestUseProgress(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]bool{0: false, 1: false, 50: false, 51: true, 1000: true} {
		if got := UseProgress(n); got != want {
			t.Errorf("UseProgress(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	var throttled atomic.Int64
	p, clock, log := newTestProgress(60, func() int { return int(throttled.Load()) })

	p.Done(false, false)
	p.Done(true, false)
	clock.advance(ProgressInterval - time.Millisecond)
	p.Done(false, true) // not yet due
	p.Tick()
	clock.advance(time.Millisecond)
	throttled.Store(7)
	p.Done(false, false) // due: 4 done
	p.Done(true, false)  // just logged
	clock.advance(ProgressInterval)
	p.Tick() // due without an image finishing
	p.Tick() // just logged
	p.Finish()
	p.Finish() // says nothing new
	want := []string{
		"progress: 4/60 images, 1 changed, 1 failed, 7 answers 429 (rate limited)",
		"progress: 5/60 images, 2 changed, 1 failed, 7 answers 429 (rate limited)",
	}
	if diff := cmp.Diff(want, log.l); diff != "" {
		t.Errorf("progress lines (-want +got):\n%s", diff)
	}
}

func TestProgressFinishSaysTheLastCounts(t *testing.T) {
	t.Parallel()
	p, _, log := newTestProgress(51, nil)
	p.Done(true, false)
	p.Finish()
	if diff := cmp.Diff([]string{"progress: 1/51 images, 1 changed, 0 failed, 0 answers 429 (rate limited)"}, log.l); diff != "" {
		t.Errorf("progress lines (-want +got):\n%s", diff)
	}
}

// TestProgressConcurrent counts from many goroutines at once (run with
// -race).
func TestProgressConcurrent(t *testing.T) {
	t.Parallel()
	p, clock, log := newTestProgress(400, nil)
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			clock.advance(time.Second)
			p.Done(i%4 == 0, i%10 == 0)
			p.Tick()
		})
	}
	wg.Wait()
	p.Finish()
	if got, want := log.l[len(log.l)-1], "progress: 400/400 images, 100 changed, 40 failed, 0 answers 429 (rate limited)"; got != want {
		t.Errorf("last progress line = %q, want %q", got, want)
	}
	// 400 s of fake time, a line at most every 5 s.
	if len(log.l) > 400/5+1 {
		t.Errorf("%d progress lines over 400 s, want at most %d", len(log.l), 400/5+1)
	}
}
