package sweep

import (
	"context"
	"fmt"
	"path"
	"regexp"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// Pattern is an image line that names a repository and a pattern its tags
// are matched against (Go path.Match syntax). imageref.ParsePattern makes
// one of a registry line.
type Pattern struct {
	// Line is the image line as given, trimmed.
	Line       string
	Repository store.RepoRef
	Glob       string
}

// tagRE is the grammar of a tag in the distribution spec.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Match returns the tags that p matches, in the order given. Listed names
// that are not tags (a registry's text is not trusted) match nothing.
func (p Pattern) Match(tags []string) []string {
	var out []string
	for _, t := range tags {
		// The glob is valid (its parser checked it).
		if ok, _ := path.Match(p.Glob, t); ok && tagRE.MatchString(t) {
			out = append(out, t)
		}
	}
	return out
}

// countTags counts the listed names that are tags.
func countTags(names []string) int {
	n := 0
	for _, t := range names {
		if tagRE.MatchString(t) {
			n++
		}
	}
	return n
}

// NoMatchError is a pattern that matched none of its repository's tags: a
// typo must not pass as "nothing to fix".
type NoMatchError struct {
	Pattern string
	Listed  int // how many tags the repository has (names that are not tags aside)
}

func (e *NoMatchError) Error() string {
	if e.Listed == 0 {
		return fmt.Sprintf("tag pattern %q matches no tag: the repository has none", e.Pattern)
	}
	return fmt.Sprintf("tag pattern %q matches none of the repository's %d tags: check it for typos", e.Pattern, e.Listed)
}

// ListFunc lists the tags of a repository (a registry repository's Tags).
type ListFunc func(ctx context.Context, repo store.RepoRef) ([]string, error)

// Expand lists the tags of each pattern's repository (once per repository)
// and returns the matching tags of each pattern, in listed order; a tag
// an earlier pattern matched is left out. A listing error is returned
// wrapped, naming the pattern; a pattern matching nothing is a
// *NoMatchError. It only reads.
func Expand(ctx context.Context, patterns []Pattern, list ListFunc) ([][]store.Ref, error) {
	listed := map[string][]string{}
	seen := map[string]bool{}
	out := make([][]store.Ref, len(patterns))
	for i, p := range patterns {
		key := p.Repository.Name()
		tags, ok := listed[key]
		if !ok {
			var err error
			if tags, err = list(ctx, p.Repository); err != nil {
				return nil, fmt.Errorf("expanding tag pattern %q: %w", p.Line, err)
			}
			listed[key] = tags
		}
		matched := p.Match(tags)
		if len(matched) == 0 {
			return nil, &NoMatchError{Pattern: p.Line, Listed: countTags(tags)}
		}
		for _, t := range matched {
			tag := p.Repository.Tag(t)
			if !seen[tag.String()] {
				seen[tag.String()] = true
				out[i] = append(out[i], tag)
			}
		}
	}
	return out, nil
}
