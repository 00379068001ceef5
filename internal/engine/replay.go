package engine

import (
	"fmt"
	"sync"
	"time"

	"github.com/set-image-platform/set-image-platform/internal/sweep"
)

// bufferLogger holds one image's log lines until they can be printed in
// input order.
type bufferLogger struct {
	mu      sync.Mutex
	entries []func(Logger)
}

func (b *bufferLogger) add(f func(Logger)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries = append(b.entries, f)
}

func (b *bufferLogger) Group(t string)   { b.add(func(l Logger) { l.Group(t) }) }
func (b *bufferLogger) EndGroup()        { b.add(func(l Logger) { l.EndGroup() }) }
func (b *bufferLogger) Info(m string)    { b.add(func(l Logger) { l.Info(m) }) }
func (b *bufferLogger) Notice(m string)  { b.add(func(l Logger) { l.Notice(m) }) }
func (b *bufferLogger) Warning(m string) { b.add(func(l Logger) { l.Warning(m) }) }
func (b *bufferLogger) Error(m string)   { b.add(func(l Logger) { l.Error(m) }) }

func (b *bufferLogger) replay(l Logger) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.entries {
		f(l)
	}
}

// replay prints the images of a run in input order while they are worked
// concurrently: image i is printed, its held-back log in a group of its
// own, as soon as it and every image before it are done, so that groups
// never interleave. A large run shows progress and names only what changed
// or failed.
type replay struct {
	results []Result
	logs    []*bufferLogger
	// ready[i] is closed when image i is done.
	ready    []chan struct{}
	progress *sweep.Progress // nil below sweep.UseProgress
}

// newReplay holds n images; throttled counts the 429s met so far, for
// the progress lines.
func newReplay(n int, log Logger, throttled func() int) *replay {
	rp := &replay{results: make([]Result, n), logs: make([]*bufferLogger, n), ready: make([]chan struct{}, n)}
	for i := range rp.ready {
		rp.ready[i] = make(chan struct{})
	}
	if sweep.UseProgress(n) {
		rp.progress = sweep.NewProgress(n, log, time.Now, throttled)
	}
	return rp
}

// done hands over image i's result and log; each i exactly once.
func (rp *replay) done(i int, r Result, held *bufferLogger) {
	rp.results[i], rp.logs[i] = r, held
	close(rp.ready[i])
}

// print prints every image of jobs as it is done, in order, and returns
// their results once the last is printed.
func (rp *replay) print(log Logger, mode Mode, jobs []Job) []Result {
	n := len(jobs)
	for i, j := range jobs {
		<-rp.ready[i]
		r := rp.results[i]
		if rp.progress != nil {
			rp.progress.Done(r.Changed, r.Err != nil)
			if r.Err == nil && !r.Changed {
				// Large runs name only what changed or failed.
				rp.logs[i].replay(log)
				continue
			}
		}
		printImage(log, mode, r, rp.logs[i], j.Source.String(), i, n)
	}
	if rp.progress != nil {
		rp.progress.Finish()
	}
	return rp.results
}

// printImage prints image i of n in a group of its own: its held-back
// log, then its summary line, findings or error.
func printImage(log Logger, mode Mode, r Result, held *bufferLogger, source string, i, n int) {
	log.Group(DryRunPrefix(r, false) + source)
	if n > 1 {
		log.Info(fmt.Sprintf("[%d/%d] %s", i+1, n, source))
	}
	held.replay(log)
	switch {
	case len(r.Findings) > 0:
		log.Info(SummaryLine(r))
		for _, f := range r.Findings {
			log.Error(f)
		}
	case r.Err != nil && mode == Plan:
		// A plan never fails: the set job will say it again.
		log.Warning(r.Err.Error())
	case r.Err != nil:
		log.Error(r.Err.Error())
	default:
		log.Info(SummaryLine(r))
	}
	log.EndGroup()
}
