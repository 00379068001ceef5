package sweep

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// patternChars are the characters that make a tag part a path.Match
// pattern; none can appear in a tag.
const patternChars = "*?["

// Pattern is an image line that names a repository and a pattern its tags
// are matched against (Go path.Match syntax).
type Pattern struct {
	// Line is the image line as given, trimmed.
	Line       string
	Repository name.Repository
	Glob       string
}

// IsPattern reports whether the image line s ends in a tag pattern rather
// than a tag: its tag part (after the last ':' past the last '/', before
// any '@') holds one of * ? [.
func IsPattern(s string) bool {
	_, glob, ok := splitPattern(strings.TrimSpace(s))
	return ok && strings.ContainsAny(glob, patternChars)
}

// splitPattern cuts s into repository and tag part; ok is false when s
// has no tag part.
func splitPattern(s string) (repo, glob string, ok bool) {
	s, _, _ = strings.Cut(s, "@")
	colon := strings.LastIndexByte(s, ':')
	if colon < 0 || colon < strings.LastIndexByte(s, '/') {
		return "", "", false
	}
	return s[:colon], s[colon+1:], true
}

// ParsePattern parses the image line s, which IsPattern accepts. The
// repository is validated as name does it; the pattern by path.Match.
// Errors name the line.
func ParsePattern(s string, opts ...name.Option) (Pattern, error) {
	s = strings.TrimSpace(s)
	repo, glob, ok := splitPattern(s)
	if !ok || !strings.ContainsAny(glob, patternChars) {
		return Pattern{}, patternError(s, errors.New("no tag pattern (such as :v1.*) at the end"))
	}
	if strings.Contains(s, "@") {
		return Pattern{}, patternError(s, errors.New("a tag pattern cannot be pinned to a digest: drop the @digest"))
	}
	if err := checkGlob(glob); err != nil {
		return Pattern{}, patternError(s, err)
	}
	r, err := name.NewRepository(repo, opts...)
	if err != nil {
		return Pattern{}, patternError(s, fmt.Errorf("parsing repository %q: %w", repo, err))
	}
	return Pattern{Line: s, Repository: r, Glob: glob}, nil
}

func patternError(s string, err error) error {
	return fmt.Errorf("parsing tag pattern %q: %w", s, err)
}

// checkGlob reports a malformed glob. path.Match validates the whole
// pattern since Go 1.16 whatever the name; "" is enough.
func checkGlob(glob string) error {
	if _, err := path.Match(glob, ""); err != nil {
		return fmt.Errorf("%w: see Go's path.Match for the syntax (* ? [a-z] [^a-z] \\)", err)
	}
	return nil
}

// tagRE is the grammar of a tag in the distribution spec.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Match returns the tags that p matches, in the order given. Listed names
// that are not tags (a registry's text is not trusted) match nothing.
func (p Pattern) Match(tags []string) []string {
	var out []string
	for _, t := range tags {
		// The glob is valid (ParsePattern checked it).
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
type ListFunc func(ctx context.Context, repo name.Repository) ([]string, error)

// Expand lists the tags of each pattern's repository (once per repository)
// and returns the matching tags of each pattern, in listed order; a tag
// an earlier pattern matched is left out. A listing error is returned
// wrapped, naming the pattern; a pattern matching nothing is a
// *NoMatchError. It only reads.
func Expand(ctx context.Context, patterns []Pattern, list ListFunc) ([][]name.Tag, error) {
	listed := map[string][]string{}
	seen := map[string]bool{}
	out := make([][]name.Tag, len(patterns))
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
			if !seen[tag.Name()] {
				seen[tag.Name()] = true
				out[i] = append(out[i], tag)
			}
		}
	}
	return out, nil
}
