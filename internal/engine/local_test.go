package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewConfigLocal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Input
		want []string // path [REF] -> target ("" in place)
		reg  string   // where username/password apply
	}{
		{"relative to the work dir", Input{Images: []string{"oci-archive:bp.cnb"}, WorkDir: "/ws"}, []string{"/ws/bp.cnb  -> "}, ""},
		{"absolute, with REF", Input{Images: []string{"oci:/out:app:1"}, WorkDir: "/ws"}, []string{"/out app:1 -> "}, ""},
		{"docker-archive", Input{Images: []string{" docker-archive:app.tar "}, WorkDir: "/ws"}, []string{"/ws/app.tar  -> "}, ""},
		{"same file twice", Input{Images: []string{"oci:out", "oci:./out"}, WorkDir: "/ws"}, []string{"/ws/out  -> "}, ""},
		{"credentials, nowhere to go", Input{Images: []string{"oci:out"}, WorkDir: "/ws", Username: "u", Password: "p"}, []string{"/ws/out  -> "}, ""},
		{"bare tag, each layout", Input{Images: []string{"oci:a", "oci:b"}, WorkDir: "/ws", Tag: "fixed"}, []string{"/ws/a  -> tag fixed", "/ws/b  -> tag fixed"}, ""},
		{"publish", Input{Images: []string{"oci-archive:bp.cnb"}, WorkDir: "/ws", Tag: "ghcr.io/o/bp:1", Username: "u", Password: "p"}, []string{"/ws/bp.cnb  -> ghcr.io/o/bp:1"}, "ghcr.io"},
		{"with registry images, in line order", Input{Images: []string{"ghcr.io/o/r:1", "oci:out", "oci:other", "ghcr.io/o/r:2"}, WorkDir: "/ws"},
			[]string{"ghcr.io/o/r:1  -> ghcr.io/o/r:1", "/ws/out  -> ", "/ws/other  -> ", "ghcr.io/o/r:2  -> ghcr.io/o/r:2"}, ""},
		{"with registry images, bare tag", Input{Images: []string{"oci:out", "ghcr.io/o/r:1"}, WorkDir: "/ws", Tag: "fixed"},
			[]string{"/ws/out  -> tag fixed", "ghcr.io/o/r:1  -> ghcr.io/o/r:fixed"}, ""},
		{"layout into a layout", Input{Images: []string{"oci-archive:a.cnb"}, WorkDir: "/ws", Tag: "oci:out:1.0"}, []string{"/ws/a.cnb  -> into /ws/out 1.0"}, ""},
		{"registry into an archive", Input{Images: []string{"ghcr.io/o/app:1"}, WorkDir: "/ws", Tag: "oci-archive:app.tar:1", Username: "u", Password: "p"}, []string{"ghcr.io/o/app:1  -> into /ws/app.tar 1"}, "ghcr.io"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewConfig(tt.in)
			if err != nil {
				t.Fatalf("NewConfig(%+v) = %v, want no error", tt.in, err)
			}
			var got []string
			for _, j := range c.Local {
				target := ""
				switch {
				case j.Target != nil:
					target = j.Target.String()
				case j.Tag != "":
					target = "tag " + j.Tag
				case j.Into != nil:
					target = "into " + j.Into.Path + " " + j.Into.Ref
				case j.Job != nil:
					target = j.Job.Target.String()
				}
				src := j.Source.Path
				if j.Source.Name != nil {
					src = j.Source.Name.String()
				}
				got = append(got, src+" "+j.Source.Ref+" -> "+target)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NewConfig(%+v) local jobs (-want +got):\n%s", tt.in, diff)
			}
			if len(c.Jobs) != 0 || len(c.Patterns) != 0 {
				t.Errorf("NewConfig(%+v) = %d registry jobs, %d patterns, want none", tt.in, len(c.Jobs), len(c.Patterns))
			}
			if c.Creds.Registry != tt.reg {
				t.Errorf("NewConfig(%+v) credentials registry = %q, want %q", tt.in, c.Creds.Registry, tt.reg)
			}
		})
	}
}

func TestNewConfigLocalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    Input
		input string // the InputError's input
		want  string
	}{
		{"a registry tag pattern with a tag", Input{Images: []string{"ghcr.io/o/r:v*", "oci:out"}, WorkDir: "/ws", Tag: "fixed"}, "tag", `the tag pattern "ghcr.io/o/r:v*"`},
		{"with a registry image, full tag", Input{Images: []string{"oci:out", "ghcr.io/o/r:1"}, WorkDir: "/ws", Tag: "ghcr.io/o/r:2"}, "tag", "one image"},
		{"pattern in REF with a tag", Input{Images: []string{"oci:out:v1.*"}, WorkDir: "/ws", Tag: "fixed"}, "tag", "tag pattern"},
		{"docker-daemon set without platform", Input{Images: []string{"docker-daemon:app:1"}, WorkDir: "/ws"}, "platform", "required"},
		{"docker-daemon bare tag", Input{Images: []string{"docker-daemon:app:1"}, Platform: "linux/amd64", Tag: "fixed"}, "tag", "a bare tag is not supported"},
		{"docker-daemon tag pattern", Input{Images: []string{"docker-daemon:app:1"}, Platform: "linux/amd64", Tag: "ghcr.io/o/app:v*"}, "tag", "ghcr.io/o/app:v*"},
		{"no path", Input{Images: []string{"oci-archive:"}, WorkDir: "/ws"}, "image", "no path"},
		{"no work dir", Input{Images: []string{"oci:out"}}, "image", "not absolute"},
		{"bare tag, one layout twice", Input{Images: []string{"oci:out:a", "oci:out:b"}, WorkDir: "/ws", Tag: "fixed"}, "tag", "would both be written"},
		{"layout tag, pattern", Input{Images: []string{"oci:out"}, WorkDir: "/ws", Tag: "oci:other:1.*"}, "tag", "tag pattern"},
		{"layout tag, image pattern", Input{Images: []string{"ghcr.io/o/r:v*"}, WorkDir: "/ws", Tag: "oci:other:1"}, "tag", "tag pattern"},
		{"layout tag, no REF", Input{Images: []string{"ghcr.io/o/r:1"}, WorkDir: "/ws", Tag: "oci:other"}, "tag", "names no image"},
		{"layout tag, two images", Input{Images: []string{"ghcr.io/o/r:1", "oci:out"}, WorkDir: "/ws", Tag: "oci:other:1"}, "tag", "would both be written"},
		{"docker-archive tag", Input{Images: []string{"ghcr.io/o/r:1"}, WorkDir: "/ws", Tag: "docker-archive:app.tar:1"}, "tag", "oci-archive"},
		{"full tag, two images", Input{Images: []string{"oci:a", "oci:b"}, WorkDir: "/ws", Tag: "ghcr.io/o/r:1"}, "tag", "one image"},
		{"username alone", Input{Images: []string{"oci:a"}, WorkDir: "/ws", Tag: "ghcr.io/o/r:1", Username: "u"}, "password", "go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewConfig(tt.in)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Input != tt.input || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewConfig(%+v) = %v, want an input error of %s mentioning %q", tt.in, err, tt.input, tt.want)
			}
		})
	}
}
