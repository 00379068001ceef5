package sweep

import (
	"fmt"
	"sync"
	"time"
)

// Progress lines replace a log group per unchanged image in large runs.
const (
	// ProgressThreshold is how many images a run may have and still
	// log a group for each.
	ProgressThreshold = 50
	// ProgressInterval is the least time between two progress lines.
	ProgressInterval = 5 * time.Second
)

// UseProgress reports whether a run of total images logs progress lines
// instead of a group per unchanged image.
func UseProgress(total int) bool { return total > ProgressThreshold }

// InfoLogger is the part of the engine's Logger that progress needs.
type InfoLogger interface {
	Info(msg string)
}

// Progress counts finished images and logs a line with the counts at most
// every ProgressInterval. It is safe for concurrent use.
type Progress struct {
	log InfoLogger
	now func() time.Time
	// throttled returns how many 429 answers the run has met so far
	// (the registry limiter counts them).
	throttled func() int

	mu                           sync.Mutex
	total, done, changed, failed int
	last                         time.Time // when the last line was logged
	lastLine                     string
}

// NewProgress starts counting a run of total images. now is the clock
// (time.Now outside tests); throttled may be nil.
func NewProgress(total int, log InfoLogger, now func() time.Time, throttled func() int) *Progress {
	if throttled == nil {
		throttled = func() int { return 0 }
	}
	return &Progress{log: log, now: now, throttled: throttled, total: total, last: now()}
}

// Done counts one finished image, changed (or would be) or failed, and
// logs a line when ProgressInterval has passed since the last one.
func (p *Progress) Done(changed, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if changed {
		p.changed++
	}
	if failed {
		p.failed++
	}
	p.logIfDue()
}

// Tick logs a line when one is due; a caller calls it from a ticker so
// that a run whose images are slow (e.g. waiting out 429s) still shows
// it is alive.
func (p *Progress) Tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logIfDue()
}

// Finish logs the final counts, unless the last line said the same.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if line := p.line(); line != p.lastLine {
		p.emit(line)
	}
}

func (p *Progress) logIfDue() {
	if now := p.now(); now.Sub(p.last) >= ProgressInterval {
		p.emit(p.line())
	}
}

func (p *Progress) emit(line string) {
	p.log.Info(line)
	p.last, p.lastLine = p.now(), line
}

// line is the progress line: "progress: 120/1000 images, 30 changed, 2 failed, 5 answers 429".
func (p *Progress) line() string {
	return fmt.Sprintf("progress: %d/%d images, %d changed, %d failed, %d answers 429 (rate limited)", p.done, p.total, p.changed, p.failed, p.throttled())
}
