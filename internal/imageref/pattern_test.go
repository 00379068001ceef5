package imageref

import (
	"fmt"
	"strings"
	"testing"
)

func TestIsTagPattern(t *testing.T) {
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
			if got := IsTagPattern(tt.line); got != tt.want {
				t.Errorf("IsTagPattern(%q) = %v, want %v", tt.line, got, tt.want)
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
