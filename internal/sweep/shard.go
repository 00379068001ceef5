package sweep

import (
	"encoding/json"
	"slices"
	"strings"
)

// Default and bound of the shards input; the concurrency input's are
// limits.DefaultImages and limits.MaxImages.
const (
	DefaultShards = 16
	MaxShards     = 256 // GitHub runs at most 256 jobs of a matrix
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
// matrix job. No shards is "[]". When that passes limit (GitHub's output
// limit), a tag that follows a reference of its repository is written as
// ":tag" alone, which the image input reads as that repository's tag;
// when even that does not fit, the last lines of the longest lists are
// left out. compact says the short form is used, omitted how many images
// were left out.
func Matrix(shards [][]string, limit int) (matrix string, compact bool, omitted int) {
	if m := encodeMatrix(shards, false); len(m) <= limit {
		return m, false, 0
	}
	shards = slices.Clone(shards)
	for len(encodeMatrix(shards, true)) > limit {
		longest := 0
		for i, s := range shards {
			if len(strings.Join(s, "")) > len(strings.Join(shards[longest], "")) {
				longest = i
			}
		}
		// A tenth at a time: a list of a million short tags is trimmed
		// in a few rounds.
		s := shards[longest]
		shards[longest] = s[:len(s)-max(1, len(s)/10)]
		omitted += len(s) - len(shards[longest])
	}
	return encodeMatrix(shards, true), true, omitted
}

// encodeMatrix is the matrix of shards, short: each tag after a reference
// of its repository as ":tag".
func encodeMatrix(shards [][]string, short bool) string {
	lists := make([]string, 0, len(shards))
	for _, s := range shards {
		if len(s) == 0 {
			continue
		}
		lines := slices.Clone(s)
		if short {
			lines = compactRefs(lines)
		}
		lists = append(lists, strings.Join(lines, "\n"))
	}
	b, _ := json.Marshal(lists) // strings always marshal
	return string(b)
}

// compactRefs writes each tag reference that follows one of the same
// repository as ":tag".
func compactRefs(refs []string) []string {
	prev := ""
	for i, r := range refs {
		repo, tag, ok := SplitTag(r)
		if ok && repo == prev {
			refs[i] = ":" + tag
		}
		prev = repo
	}
	return refs
}

// SplitTag splits a tag reference into repository and tag; false for a
// digest reference or one without a tag.
func SplitTag(ref string) (repo, tag string, ok bool) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || i < strings.LastIndex(ref, "/") || strings.Contains(ref, "@") {
		return "", "", false
	}
	return ref[:i], ref[i+1:], true
}
