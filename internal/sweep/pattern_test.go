package sweep

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
)

func TestIsPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want bool
	}{
		{"ghcr.io/org/app:*", true},
		{"ghcr.io/org/app:v1.*", true},
		{"ghcr.io/org/app:[0-9]*", true},
		{"  ghcr.io/org/app:v?  ", true},
		{"localhost:5000/app:v1*", true},
		{"ghcr.io/org/app:v1*@sha256:0000000000000000000000000000000000000000000000000000000000000000", true},
		{"ghcr.io/org/app:v1", false},
		{"ghcr.io/org/app", false},
		{"localhost:5000/app", false},
		{"ghcr.io/org/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", false},
		// A pattern in the repository is not a tag pattern: the
		// reference parser refuses it.
		{"ghcr.io/org/*", false},
		{"ghcr.io/*/app:v1", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			if got := IsPattern(tt.line); got != tt.want {
				t.Errorf("IsPattern(%q) = %v, want %v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParsePattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, repo, glob string
	}{
		{"ghcr.io/org/app:*", "ghcr.io/org/app", "*"},
		{" ghcr.io/org/app:v1.* ", "ghcr.io/org/app", "v1.*"},
		{"ghcr.io/org/app:[0-9]*", "ghcr.io/org/app", "[0-9]*"},
		{"localhost:5000/a/b:[^v]?", "localhost:5000/a/b", "[^v]?"},
		{"busybox:1.*", "index.docker.io/library/busybox", "1.*"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePattern(tt.line)
			if err != nil {
				t.Fatalf("ParsePattern(%q) error = %v", tt.line, err)
			}
			if p.Repository.Name() != tt.repo || p.Glob != tt.glob || p.Line != strings.TrimSpace(tt.line) {
				t.Errorf("ParsePattern(%q) = %s, %q, %q, want %s, %q", tt.line, p.Repository.Name(), p.Glob, p.Line, tt.repo, tt.glob)
			}
		})
	}
}

func TestParsePatternRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want string
	}{
		{"ghcr.io/org/app:v1[", "syntax error in pattern"},
		{"ghcr.io/org/app:[]a]", "syntax error in pattern"},
		{`ghcr.io/org/app:v1*\`, "syntax error in pattern"},
		{"ghcr.io/org/app:x[a-", "syntax error in pattern"},
		{"ghcr.io/org/app:v1*@sha256:0000000000000000000000000000000000000000000000000000000000000000", "pinned to a digest"},
		{"ghcr.io/org/APP:v1*", "parsing repository"},
		{"ghcr.io/org/app:v1", "no tag pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePattern(tt.line)
			if err == nil {
				t.Fatalf("ParsePattern(%q) error = nil, want one", tt.line)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.line)) {
				t.Errorf("ParsePattern(%q) error = %q, want it to name the line and say %q", tt.line, err, tt.want)
			}
		})
	}
}

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
			p, err := ParsePattern("ghcr.io/o/r:" + tt.glob)
			if err != nil {
				t.Fatal(err)
			}
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

func (f *fakeListing) list(_ context.Context, repo name.Repository) ([]string, error) {
	f.calls[repo.Name()]++
	return f.tags[repo.Name()], f.err
}

func mustPatterns(t *testing.T, lines ...string) []Pattern {
	t.Helper()
	var ps []Pattern
	for _, l := range lines {
		p, err := ParsePattern(l)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestExpand(t *testing.T) {
	t.Parallel()
	f := &fakeListing{tags: map[string][]string{
		"ghcr.io/o/a": {"v1.0", "v1.1", "v2.0", "latest"},
		"ghcr.io/o/b": {"1", "2"},
	}, calls: map[string]int{}}
	got, err := Expand(context.Background(), mustPatterns(t, "ghcr.io/o/a:v1.*", "ghcr.io/o/b:*", "ghcr.io/o/a:v*"), f.list)
	if err != nil {
		t.Fatalf("Expand() error = %v", err)
	}
	var names [][]string
	for _, tags := range got {
		var ns []string
		for _, tag := range tags {
			ns = append(ns, tag.Name())
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
			got, err := Expand(context.Background(), mustPatterns(t, tt.pattern), f.list)
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
