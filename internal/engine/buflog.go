package engine

import "sync"

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
