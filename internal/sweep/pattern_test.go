package sweep

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	tags := []string{"latest", "v1.0", "v1.1", "v10.0", "v2.0", "1.2.3", "20240501", "sha256-abc.sig", "bad tag", ".hidden"}
	tests := []struct {
		glob string
		want []string
	}{
		{"*", []string{"latest", "v1.0", "v1.1", "v10.0", "v2.0", "1.2.3", "20240501", "sha256-abc.sig"}},
		{"v1.*", []string{"v1.0", "v1.1"}},
		{"[0-9]*", []string{"1.2.3", "20240501"}},
		{"v?.0", []string{"v1.0", "v2.0"}},
		{"[^v]*.sig", []string{"sha256-abc.sig"}},
		{"nothing*", nil},
	}
	for _, tt := range tests {
		t.Run(tt.glob, func(t *testing.T) {
			t.Parallel()
			p := mustPattern("ghcr.io/o/r:" + tt.glob)
			if diff := cmp.Diff(tt.want, p.Match(tags)); diff != "" {
				t.Errorf("Pattern(%q).Match() (-want +got):\n%s", tt.glob, diff)
			}
		})
	}
}

type fakeListing struct {
	tags  map[string][]string
	err   error
	calls map[string]int
}

func (f *fakeListing) list(_ context.Context, repo store.RepoRef) ([]string, error) {
	f.calls[repo.Name()]++
	return f.tags[repo.Name()], f.err
}

// mustPattern is the pattern of line, host/path:glob: imageref parses
// image lines, these tests need only the parts.
func mustPattern(line string) Pattern {
	host, rest, _ := strings.Cut(line, "/")
	colon := strings.LastIndexByte(rest, ':')
	return Pattern{Line: line, Repository: store.RepoRef{Scheme: store.RegistryScheme, Host: host, Path: rest[:colon]}, Glob: rest[colon+1:]}
}

func mustPatterns(lines ...string) []Pattern {
	var ps []Pattern
	for _, l := range lines {
		ps = append(ps, mustPattern(l))
	}
	return ps
}

func TestExpand(t *testing.T) {
	t.Parallel()
	f := &fakeListing{tags: map[string][]string{
		"ghcr.io/o/a": {"v1.0", "v1.1", "v2.0", "latest"},
		"ghcr.io/o/b": {"1", "2"},
	}, calls: map[string]int{}}
	got, err := Expand(context.Background(), mustPatterns("ghcr.io/o/a:v1.*", "ghcr.io/o/b:*", "ghcr.io/o/a:v*"), f.list)
	if err != nil {
		t.Fatalf("Expand() error = %v", err)
	}
	var names [][]string
	for _, tags := range got {
		var ns []string
		for _, tag := range tags {
			ns = append(ns, tag.String())
		}
		names = append(names, ns)
	}
	want := [][]string{{"ghcr.io/o/a:v1.0", "ghcr.io/o/a:v1.1"}, {"ghcr.io/o/b:1", "ghcr.io/o/b:2"}, {"ghcr.io/o/a:v2.0"}}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("Expand() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"ghcr.io/o/a": 1, "ghcr.io/o/b": 1}, f.calls); diff != "" {
		t.Errorf("Expand() listings per repository (-want +got):\n%s", diff)
	}
}

func TestExpandErrors(t *testing.T) {
	t.Parallel()
	listErr := errors.New("listing refused")
	tests := []struct {
		name    string
		tags    []string
		err     error
		pattern string
		want    string
		wantErr any
	}{
		{"no match", []string{"v1.0", "v2.0"}, nil, "ghcr.io/o/a:v3.*", `tag pattern "ghcr.io/o/a:v3.*" matches none of the repository's 2 tags`, new(*NoMatchError)},
		{"empty repository", nil, nil, "ghcr.io/o/a:*", "the repository has none", new(*NoMatchError)},
		{"listing fails", nil, listErr, "ghcr.io/o/a:*", `expanding tag pattern "ghcr.io/o/a:*": listing refused`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeListing{tags: map[string][]string{"ghcr.io/o/a": tt.tags}, err: tt.err, calls: map[string]int{}}
			got, err := Expand(context.Background(), mustPatterns(tt.pattern), f.list)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Expand(%q) = %v, %v, want error %q", tt.pattern, got, err, tt.want)
			}
			if tt.wantErr != nil && !errors.As(err, tt.wantErr) {
				t.Errorf("Expand(%q) error = %T, want %T", tt.pattern, err, tt.wantErr)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Expand(%q) error = %v, want it to wrap %v", tt.pattern, err, tt.err)
			}
		})
	}
}
