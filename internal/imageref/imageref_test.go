package imageref

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// parsed is what a test compares of a Reference: its kind and parts, as
// strings.
type parsed struct {
	Transport Transport
	String    string
	Path      string
	GivenPath string
	Ref       string
	Glob      string
}

func summarize(r Reference) parsed {
	p := parsed{Transport: r.Transport, String: r.String(), Path: r.Path, GivenPath: r.GivenPath, Ref: r.Ref}
	if r.Pattern != nil {
		p.Glob = r.Pattern.Glob
	}
	return p
}

func TestParse(t *testing.T) {
	t.Parallel()
	const wd = "/ws"
	tests := []struct {
		line string
		want parsed
	}{
		{"ghcr.io/o/r:t", parsed{Transport: Registry, String: "ghcr.io/o/r:t"}},
		{"  docker://ghcr.io/o/r:t ", parsed{Transport: Registry, String: "ghcr.io/o/r:t"}},
		{"localhost:5000/app:1", parsed{Transport: Registry, String: "localhost:5000/app:1"}},
		{"ghcr.io/o/r@sha256:" + hex64, parsed{Transport: Registry, String: "ghcr.io/o/r@sha256:" + hex64}},
		// "docker:" without the slashes is the Docker Hub image docker,
		// as containers/image reads it too.
		{"docker:27", parsed{Transport: Registry, String: "index.docker.io/library/docker:27"}},
		{"ghcr.io/o/r:v1.*", parsed{Transport: Registry, String: "ghcr.io/o/r:v1.*", Glob: "v1.*"}},
		{"oci:out", parsed{Transport: OCI, String: "oci:/ws/out", Path: "/ws/out", GivenPath: "out"}},
		{"oci:./out/", parsed{Transport: OCI, String: "oci:/ws/out", Path: "/ws/out", GivenPath: "out"}},
		{"oci:out:v1", parsed{Transport: OCI, String: "oci:/ws/out:v1", Path: "/ws/out", GivenPath: "out", Ref: "v1"}},
		{"oci:out:v1.*", parsed{Transport: OCI, String: "oci:/ws/out:v1.*", Path: "/ws/out", GivenPath: "out", Ref: "v1.*", Glob: "v1.*"}},
		// PATH ends at the first colon: the rest, colons and all, is REF.
		{"oci:out:docker.io/library/app:1.0", parsed{Transport: OCI, String: "oci:/ws/out:docker.io/library/app:1.0", Path: "/ws/out", GivenPath: "out", Ref: "docker.io/library/app:1.0"}},
		{"oci:out:@sha256:" + hex64, parsed{Transport: OCI, String: "oci:/ws/out:@sha256:" + hex64, Path: "/ws/out", GivenPath: "out", Ref: "@sha256:" + hex64}},
		{"oci:out:sha256:" + hex64, parsed{Transport: OCI, String: "oci:/ws/out:sha256:" + hex64, Path: "/ws/out", GivenPath: "out", Ref: "sha256:" + hex64}},
		{"oci-archive:/tmp/bp.cnb", parsed{Transport: OCIArchive, String: "oci-archive:/tmp/bp.cnb", Path: "/tmp/bp.cnb", GivenPath: "/tmp/bp.cnb"}},
		{"oci-archive:../bp.cnb:latest", parsed{Transport: OCIArchive, String: "oci-archive:/bp.cnb:latest", Path: "/bp.cnb", GivenPath: "../bp.cnb", Ref: "latest"}},
		{"docker-archive:img.tar", parsed{Transport: DockerArchive, String: "docker-archive:/ws/img.tar", Path: "/ws/img.tar", GivenPath: "img.tar"}},
		{"docker-archive:img.tar:app:1", parsed{Transport: DockerArchive, String: "docker-archive:/ws/img.tar:app:1", Path: "/ws/img.tar", GivenPath: "img.tar", Ref: "app:1"}},
		{"docker-daemon:app:1", parsed{Transport: DockerDaemon, String: "docker-daemon:index.docker.io/library/app:1"}},
		{"docker-daemon:localhost:5000/app", parsed{Transport: DockerDaemon, String: "docker-daemon:localhost:5000/app:latest"}},
		{"docker-daemon:sha256:" + hex64, parsed{Transport: DockerDaemon, String: "docker-daemon:sha256:" + hex64}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(tt.line, wd)
			if err != nil {
				t.Fatalf("Parse(%q) = %v, want no error", tt.line, err)
			}
			if diff := cmp.Diff(tt.want, summarize(r)); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.line, diff)
			}
			if r.Line != strings.TrimSpace(tt.line) {
				t.Errorf("Parse(%q).Line = %q, want the line trimmed", tt.line, r.Line)
			}
			// String is a form Parse reads back to the same reference.
			again, err := Parse(r.String(), "/elsewhere")
			if err != nil {
				t.Fatalf("Parse(%q) = %v, want no error", r.String(), err)
			}
			if diff := cmp.Diff(tt.want.String, summarize(again).String); diff != "" {
				t.Errorf("Parse(String()) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, wd string
		want     string // in the error
		is       error
	}{
		{line: "oci:", wd: "/ws", is: ErrNoPath},
		{line: "oci-archive::v1", wd: "/ws", is: ErrNoPath},
		{line: "oci:out", wd: "ws", is: ErrRelativeDir},
		{line: "oci:out:v[1", wd: "/ws", want: `parsing tag pattern "v[1"`},
		{line: "oci:out:a b", wd: "/ws", want: "space or control"},
		{line: "oci:out:@sha256:abc", wd: "/ws", want: `parsing digest "@sha256:abc"`},
		{line: "oci:out:sha256:zz", wd: "/ws", want: `parsing digest "sha256:zz"`},
		{line: "oci:a\x00b", wd: "/ws", want: "NUL"},
		{line: "dir:out", wd: "/ws", want: "the dir: transport is not supported"},
		{line: "containers-storage:app", wd: "/ws", want: "not supported"},
		{line: "docker-daemon:app@sha256:" + hex64, wd: "/ws", want: "not by digest"},
		{line: "docker-daemon:sha256:123", wd: "/ws", want: "parsing image ID"},
		{line: "docker-daemon:UPPER", wd: "/ws", want: "repository can only contain"},
		{line: "docker://", wd: "/ws", want: "parsing reference"},
		{line: "ghcr.io/o/r:v[1", wd: "/ws", want: "parsing tag pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.line, tt.wd)
			if err == nil {
				t.Fatalf("Parse(%q, %q) = nil error, want one", tt.line, tt.wd)
			}
			if !strings.HasPrefix(err.Error(), "parsing reference ") {
				t.Errorf("Parse(%q) = %q, want it to name the line", tt.line, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Parse(%q) = %v, want it to wrap %v", tt.line, err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %q, want it to hold %q", tt.line, err, tt.want)
			}
		})
	}
}

func TestWithDigest(t *testing.T) {
	t.Parallel()
	d := v1.Hash{Algorithm: "sha256", Hex: hex64}
	tests := []struct{ line, want string }{
		{"oci:./out:v1", "oci:out@sha256:" + hex64},
		{"oci-archive:/abs/bp.cnb", "oci-archive:/abs/bp.cnb@sha256:" + hex64},
		{"docker-archive:img.tar:app:1", "docker-archive:img.tar@sha256:" + hex64},
		{"docker-daemon:app:1", "docker-daemon:index.docker.io/library/app@sha256:" + hex64},
		{"docker-daemon:sha256:" + strings.Repeat("1", 64), "docker-daemon:sha256:" + hex64},
		{"ghcr.io/o/r:t", "ghcr.io/o/r@sha256:" + hex64},
		{"ghcr.io/o/r:v*", "ghcr.io/o/r@sha256:" + hex64},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(tt.line, "/ws")
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.line, err)
			}
			if got := r.WithDigest(d); got != tt.want {
				t.Errorf("Parse(%q).WithDigest(d) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}
