package sweep

import (
	"encoding/json"
	"slices"
	"strings"
)

// Defaults and bounds of the shards and concurrency inputs.
const (
	DefaultShards      = 16
	MaxShards          = 256 // GitHub runs at most 256 jobs of a matrix
	DefaultConcurrency = 4
	MaxConcurrency     = 256
)

// Work is a unit that must stay in one shard: the references of the tags
// that share a digest (worked once, then tagged), and what working them
// costs (see Cost).
type Work struct {
	Refs []string
	Cost int
}

// Cost estimates the requests of a digest shared by tags tags, all to be
// changed: the config read and its upload, and per tag its manifest read,
// write and read-back.
func Cost(tags int) int { return 2 + 3*tags }

// Shards splits items into at most limit shards (clamped to 1–MaxShards)
// balanced by cost: greedy longest-processing-time, each unit in turn,
// costliest first, to the shard with the least so far (the first on a
// tie). A shard holds its units' references in the order of items; no
// shard is empty, so there are min(limit, len(items)) of them. The result
// depends only on the input.
func Shards(items []Work, limit int) [][]string {
	n := min(MaxShards, max(1, limit), len(items))
	if n == 0 {
		return nil
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	cost := func(i int) int { return max(1, items[i].Cost) }
	slices.SortStableFunc(order, func(a, b int) int { return cost(b) - cost(a) })
	load := make([]int, n)
	members := make([][]int, n)
	for _, i := range order {
		s := slices.Index(load, slices.Min(load))
		load[s] += cost(i)
		members[s] = append(members[s], i)
	}
	shards := make([][]string, n)
	for s, m := range members {
		slices.Sort(m)
		for _, i := range m {
			shards[s] = append(shards[s], items[i].Refs...)
		}
	}
	return shards
}

// Matrix is the matrix output: a JSON array of strings, each shard's
// references one per line, for strategy.matrix and the image input of the
// matrix job. No shards is "[]".
func Matrix(shards [][]string) string {
	lists := make([]string, 0, len(shards))
	for _, s := range shards {
		lists = append(lists, strings.Join(s, "\n"))
	}
	b, _ := json.Marshal(lists) // strings always marshal
	return string(b)
}
