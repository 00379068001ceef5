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
				}
				got = append(got, j.Source.Path+" "+j.Source.Ref+" -> "+target)
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
		{"with a registry image", Input{Images: []string{"oci:out", "ghcr.io/o/r:1"}, WorkDir: "/ws"}, "image", "registry images"},
		{"with a tag pattern", Input{Images: []string{"ghcr.io/o/r:v*", "oci:out"}, WorkDir: "/ws"}, "image", "registry images"},
		{"pattern in REF with a tag", Input{Images: []string{"oci:out:v1.*"}, WorkDir: "/ws", Tag: "fixed"}, "tag", "tag pattern"},
		{"docker-daemon set without platform", Input{Images: []string{"docker-daemon:app:1"}, WorkDir: "/ws"}, "platform", "required"},
		{"docker-daemon bare tag", Input{Images: []string{"docker-daemon:app:1"}, Platform: "linux/amd64", Tag: "fixed"}, "tag", "a bare tag is not supported"},
		{"docker-daemon tag pattern", Input{Images: []string{"docker-daemon:app:1"}, Platform: "linux/amd64", Tag: "ghcr.io/o/app:v*"}, "tag", "ghcr.io/o/app:v*"},
		{"no path", Input{Images: []string{"oci-archive:"}, WorkDir: "/ws"}, "image", "no path"},
		{"no work dir", Input{Images: []string{"oci:out"}}, "image", "not absolute"},
		{"bare tag, one layout twice", Input{Images: []string{"oci:out:a", "oci:out:b"}, WorkDir: "/ws", Tag: "fixed"}, "tag", "would both be written"},
		{"layout tag", Input{Images: []string{"oci:out"}, WorkDir: "/ws", Tag: "oci:other:1"}, "tag", "not supported yet"},
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
