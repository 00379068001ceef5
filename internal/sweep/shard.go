package sweep

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Defaults and bounds of the shards and concurrency inputs.
const (
	DefaultShards      = 16
	MaxShards          = 256 // GitHub runs at most 256 jobs of a matrix
	DefaultConcurrency = 4
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

// ParseShards parses the shards input: empty is DefaultShards; else an
// integer 1–MaxShards.
func ParseShards(s string) (int, error) {
	return parseBounded("shards", s, DefaultShards, MaxShards, "GitHub runs at most 256 jobs of a matrix")
}

// ParseConcurrency parses the concurrency input: empty is
// DefaultConcurrency; else an integer of at least 1.
func ParseConcurrency(s string) (int, error) {
	return parseBounded("concurrency", s, DefaultConcurrency, 0, "")
}

// CheckShards checks a shards count given as a number (the flag).
func CheckShards(n int) error {
	_, err := ParseShards(strconv.Itoa(n))
	return err
}

// CheckConcurrency checks a concurrency given as a number (the flag).
func CheckConcurrency(n int) error {
	_, err := ParseConcurrency(strconv.Itoa(n))
	return err
}

// parseBounded parses input's value s as an integer from 1 to hi (no
// upper bound when hi is 0); why explains hi.
func parseBounded(input, s string, def, hi int, why string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	want := "a whole number of at least 1"
	if hi > 0 {
		want = fmt.Sprintf("a whole number from 1 to %d (%s)", hi, why)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || hi > 0 && n > hi {
		return 0, &InputError{input, fmt.Errorf("parsing %q: want %s", s, want)}
	}
	return n, nil
}

// WorkOf makes the units of Shards from digest groups: each group's
// references, costed by Cost.
func WorkOf[T any](groups []Group[T], ref func(T) string) []Work {
	ws := make([]Work, 0, len(groups))
	for _, g := range groups {
		w := Work{Cost: Cost(len(g.Items))}
		for _, it := range g.Items {
			w.Refs = append(w.Refs, ref(it))
		}
		ws = append(ws, w)
	}
	return ws
}
