package limits

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAll(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		n, limit int
		wantMax  int // most calls at once, at most
	}{
		{name: "none", n: 0, limit: 4, wantMax: 0},
		{name: "bounded", n: 40, limit: 3, wantMax: 3},
		{name: "bound above n", n: 5, limit: 8, wantMax: 5},
		{name: "one at a time", n: 10, limit: 1, wantMax: 1},
		{name: "no bound", n: 12, limit: 0, wantMax: 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var now, most atomic.Int32
			got := make([]int, tc.n)
			All(tc.n, tc.limit, func(i int) {
				c := now.Add(1)
				mu.Lock()
				most.Store(max(most.Load(), c))
				mu.Unlock()
				for range 1000 {
					// Long enough that calls overlap when they may.
					_ = i * i
				}
				got[i] = i + 1
				now.Add(-1)
			})
			want := make([]int, tc.n)
			for i := range want {
				want[i] = i + 1
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("All(%d, %d) calls (-want +got):\n%s", tc.n, tc.limit, diff)
			}
			if m := int(most.Load()); m > tc.wantMax {
				t.Errorf("All(%d, %d) ran %d calls at once, want at most %d", tc.n, tc.limit, m, tc.wantMax)
			}
		})
	}
}

// TestAllWaitsForEvery: a call that blocks holds All until it returns,
// while the bound lets the others run.
func TestAllWaitsForEvery(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var ran atomic.Int32
	done := make(chan struct{})
	go func() {
		All(4, 2, func(i int) {
			if i == 0 {
				<-release
			}
			ran.Add(1)
		})
		close(done)
	}()
	for ran.Load() < 3 {
		select {
		case <-done:
			t.Fatal("All(4, 2) returned while a call had not")
		default:
			runtime.Gosched()
		}
	}
	close(release)
	<-done
	if got := ran.Load(); got != 4 {
		t.Errorf("All(4, 2) ran %d calls, want 4", got)
	}
}
