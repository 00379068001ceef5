package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewConfigTargets(t *testing.T) {
	t.Parallel()
	const d = "sha256:0123456789012345678901234567890123456789012345678901234567890123"
	tests := []struct {
		name    string
		in      Input
		want    []string // source -> target
		regs    []string // where username/password apply
		notices int
	}{
		{"same tag", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:1"}, []string{"ghcr.io"}, 0},
		{"bare tag", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Tag: "1-amd64"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:1-amd64"}, []string{"ghcr.io"}, 0},
		{"full tag other registry", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Tag: "docker.io/o/r:1"}, []string{"ghcr.io/o/r:1 -> docker.io/o/r:1"}, []string{"index.docker.io"}, 0},
		{"digest source", Input{Images: []string{"ghcr.io/o/r@" + d}, Platform: "linux/amd64"}, []string{"ghcr.io/o/r@" + d + " -> ghcr.io/o/r@" + d}, []string{"ghcr.io"}, 0},
		{"several with blanks and spaces", Input{Images: []string{"", "  ghcr.io/o/a:1 ", "", "quay.io/o/b:2", " "}, Platform: "linux/amd64", Tag: "fixed"}, []string{"ghcr.io/o/a:1 -> ghcr.io/o/a:fixed", "quay.io/o/b:2 -> quay.io/o/b:fixed"}, []string{"ghcr.io", "quay.io"}, 0},
		{"alias notice", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/x86_64"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:1"}, []string{"ghcr.io"}, 1},
		{"check needs no platform", Input{Images: []string{"ghcr.io/o/r:1"}, Mode: Check}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:1"}, []string{"ghcr.io"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewConfig(tt.in)
			if err != nil {
				t.Fatalf("NewConfig(%+v) = %v, want no error", tt.in, err)
			}
			var got []string
			for _, j := range c.Jobs {
				got = append(got, j.Source.String()+" -> "+j.Target.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NewConfig(%+v) targets (-want +got):\n%s", tt.in, diff)
			}
			var regs []string
			for r := range c.Creds.Registries {
				regs = append(regs, r)
			}
			if diff := cmp.Diff(tt.regs, regs, cmpSorted); diff != "" {
				t.Errorf("NewConfig(%+v) credential registries (-want +got):\n%s", tt.in, diff)
			}
			if len(c.Notices) != tt.notices {
				t.Errorf("NewConfig(%+v) notices = %q, want %d", tt.in, c.Notices, tt.notices)
			}
		})
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        Input
		input     string // which input the error names
		mentioned string // text the message must hold
	}{
		{"no image", Input{Images: []string{"", " "}, Platform: "linux/amd64"}, "image", "no image"},
		{"bad reference", Input{Images: []string{"ghcr.io/O/R:bad tag"}, Platform: "linux/amd64"}, "image", `"ghcr.io/O/R:bad tag"`},
		{"unknown arch", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd65"}, "platform", "linux/amd64"},
		{"unknown os", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linus/amd64"}, "platform", "linux/amd64"},
		{"bare arch", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "amd64"}, "platform", "linux/amd64"},
		{"full tag with two images", Input{Images: []string{"ghcr.io/o/a:1", "ghcr.io/o/b:1"}, Platform: "linux/amd64", Tag: "ghcr.io/o/c:1"}, "tag", "one image"},
		{"bad tag", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Tag: "not a tag"}, "tag", `"not a tag"`},
		{"username without password", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Username: "u"}, "password", "together"},
		{"password without username", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Password: "p"}, "username", "together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewConfig(tt.in)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("NewConfig(%+v) = %v, want an *InputError", tt.in, err)
			}
			if ie.Input != tt.input || !strings.Contains(err.Error(), tt.mentioned) {
				t.Errorf("NewConfig(%+v) = %q (input %q), want input %q and a message holding %q", tt.in, err, ie.Input, tt.input, tt.mentioned)
			}
		})
	}
}
