package imageref

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/store"
	"github.com/set-image-platform/set-image-platform/internal/sweep"
)

// patternChars are the characters that make a tag part a path.Match
// pattern; none can appear in a tag.
const patternChars = "*?["

// IsTagPattern reports whether the registry image line s ends in a tag
// pattern rather than a tag: its tag part (after the last ':' past the
// last '/', before any '@') holds one of * ? [.
func IsTagPattern(s string) bool {
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

// ParsePattern parses the registry image line s, which IsTagPattern
// accepts. The repository is validated as the name package does it; the
// pattern by path.Match. Errors name the line.
func ParsePattern(s string, opts ...name.Option) (sweep.Pattern, error) {
	s = strings.TrimSpace(s)
	repo, glob, ok := splitPattern(s)
	if !ok || !strings.ContainsAny(glob, patternChars) {
		return sweep.Pattern{}, patternError(s, errors.New("no tag pattern (such as :v1.*) at the end"))
	}
	if strings.Contains(s, "@") {
		return sweep.Pattern{}, patternError(s, errors.New("a tag pattern cannot be pinned to a digest: drop the @digest"))
	}
	if err := checkGlob(glob); err != nil {
		return sweep.Pattern{}, patternError(s, err)
	}
	r, err := name.NewRepository(repo, opts...)
	if err != nil {
		return sweep.Pattern{}, patternError(s, fmt.Errorf("parsing repository %q: %w", repo, err))
	}
	return sweep.Pattern{Line: s, Repository: RepoOf(r), Glob: glob}, nil
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

// RepoOf is the registry repository r as the engine and the sweep carry
// it.
func RepoOf(r name.Repository) store.RepoRef {
	return store.RepoRef{Scheme: store.RegistryScheme, Host: r.RegistryStr(), Path: r.RepositoryStr()}
}

// RefOf is the registry reference r as the engine carries it, written as
// r was.
func RefOf(r name.Reference) store.Ref {
	repo := RepoOf(r.Context())
	if _, ok := r.(name.Digest); ok {
		return repo.Digest(r.Identifier()).WithText(r.String())
	}
	return repo.Tag(r.Identifier()).WithText(r.String())
}
