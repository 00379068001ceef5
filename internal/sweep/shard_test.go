package sweep

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func works(costs ...int) []Work {
	var ws []Work
	for i, c := range costs {
		ws = append(ws, Work{Refs: []string{fmt.Sprintf("r/%d:t", i)}, Cost: c})
	}
	return ws
}

func TestShards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		items []Work
		limit int
		want  [][]string
	}{
		{"none", nil, 16, nil},
		// 5→0, 4→1, 3→1 (4<5), 3→0 (5<7), 3→1 (7<8): loads 8 and 10.
		{"longest first to the least loaded", works(5, 4, 3, 3, 3), 2, [][]string{{"r/0:t", "r/3:t"}, {"r/1:t", "r/2:t", "r/4:t"}}},
		{"fewer items than shards", works(1, 1), 16, [][]string{{"r/0:t"}, {"r/1:t"}}},
		{"ties go to the first shard", works(1, 1, 1, 1), 2, [][]string{{"r/0:t", "r/2:t"}, {"r/1:t", "r/3:t"}}},
		{"limit below 1 is 1", works(1, 2), 0, [][]string{{"r/0:t", "r/1:t"}}},
		{"a digest's tags stay together", []Work{
			{Refs: []string{"r:a", "r:b", "r:c"}, Cost: Cost(3)},
			{Refs: []string{"r:d"}, Cost: Cost(1)},
			{Refs: []string{"r:e"}, Cost: Cost(1)},
		}, 2, [][]string{{"r:a", "r:b", "r:c"}, {"r:d", "r:e"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Shards(tt.items, tt.limit)); diff != "" {
				t.Errorf("Shards(%d items, %d) (-want +got):\n%s", len(tt.items), tt.limit, diff)
			}
		})
	}
}

// TestShardsProperties checks, over random work, that every reference is
// in exactly one shard, no shard is empty, there are at most MaxShards,
// the result does not vary between calls, and the largest shard is within
// greedy scheduling's bound: the mean load plus the costliest unit.
func TestShardsProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := rng.IntN(400)
		limit := rng.IntN(300) - 10
		var items []Work
		var all []string
		total, most := 0, 0
		for i := range n {
			tags := 1 + rng.IntN(4)
			var refs []string
			for j := range tags {
				refs = append(refs, fmt.Sprintf("r/%d:%d", i, j))
			}
			c := Cost(tags)
			items = append(items, Work{Refs: refs, Cost: c})
			all = append(all, refs...)
			total, most = total+c, max(most, c)
		}
		shards := Shards(items, limit)
		if want := min(MaxShards, max(1, limit), n); len(shards) != want {
			t.Fatalf("round %d: Shards(%d items, %d) made %d shards, want %d", round, n, limit, len(shards), want)
		}
		var got []string
		unit := map[string]int{} // reference -> index in items
		for u, it := range items {
			for _, r := range it.Refs {
				unit[r] = u
			}
		}
		for i, s := range shards {
			if len(s) == 0 {
				t.Fatalf("round %d: shard %d is empty", round, i)
			}
			got = append(got, s...)
			load, units := 0, map[int]bool{}
			for _, r := range s {
				if u := unit[r]; !units[u] {
					units[u] = true
					load += items[u].Cost
				}
			}
			if bound := total/len(shards) + most; load > bound {
				t.Errorf("round %d: shard %d has load %d, want at most %d", round, i, load, bound)
			}
		}
		slices.Sort(got)
		slices.Sort(all)
		if diff := cmp.Diff(all, got); diff != "" {
			t.Fatalf("round %d: references in shards (-want +got):\n%s", round, diff)
		}
		if again := Shards(items, limit); !cmp.Equal(shards, again) {
			t.Fatalf("round %d: Shards() differs between calls", round)
		}
	}
}

func TestMatrix(t *testing.T) {
	t.Parallel()
	two := [][]string{{"ghcr.io/o/a:1", "ghcr.io/o/a:2", "ghcr.io/o/b@sha256:" + strings.Repeat("0", 64), "ghcr.io/o/b:3", "localhost:5000/c:4", "localhost:5000/c:5"}, {"ghcr.io/o/b:1"}}
	tests := []struct {
		name    string
		shards  [][]string
		limit   int
		want    string
		compact bool
		omitted int
	}{
		{"none", nil, OutputLimit, `[]`, false, 0},
		{"fits", two, OutputLimit, `["ghcr.io/o/a:1\nghcr.io/o/a:2\nghcr.io/o/b@sha256:` + strings.Repeat("0", 64) + `\nghcr.io/o/b:3\nlocalhost:5000/c:4\nlocalhost:5000/c:5","ghcr.io/o/b:1"]`, false, 0},
		{"short", two, 180, `["ghcr.io/o/a:1\n:2\nghcr.io/o/b@sha256:` + strings.Repeat("0", 64) + `\nghcr.io/o/b:3\nlocalhost:5000/c:4\n:5","ghcr.io/o/b:1"]`, true, 0},
		{"trimmed", two, 60, `["ghcr.io/o/a:1\n:2","ghcr.io/o/b:1"]`, true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, compact, omitted := Matrix(tt.shards, tt.limit)
			if got != tt.want || compact != tt.compact || omitted != tt.omitted {
				t.Errorf("Matrix(%q, %d) = %s, %v, %d, want %s, %v, %d", tt.shards, tt.limit, got, compact, omitted, tt.want, tt.compact, tt.omitted)
			}
		})
	}
}
