package engine

import (
	"strings"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

func TestDaemonName(t *testing.T) {
	t.Parallel()
	id := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		line, want string
	}{
		{"docker-daemon:app:1", "app:1"},
		{"docker-daemon:app", "app:latest"},
		{"docker-daemon:docker.io/library/app:1", "app:1"},
		{"docker-daemon:index.docker.io/library/app:1", "app:1"},
		{"docker-daemon:org/app:pr-7", "org/app:pr-7"},
		{"docker-daemon:localhost:5000/app", "localhost:5000/app:latest"},
		{"docker-daemon:ghcr.io/o/app:1", "ghcr.io/o/app:1"},
		{"docker-daemon:" + id, id},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			ref, err := imageref.Parse(tt.line, "/ws")
			if err != nil {
				t.Fatalf("imageref.Parse(%q) = %v", tt.line, err)
			}
			if got := daemonName(ref); got != tt.want {
				t.Errorf("daemonName(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}
