package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Digests the tests' references name.
const (
	d  = "sha256:0123456789012345678901234567890123456789012345678901234567890123"
	d2 = "sha256:1123456789012345678901234567890123456789012345678901234567890123"
)

func TestNewConfigTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Input
		want []string // source -> target
		reg  string   // where username/password apply
		// notices are substrings of the notices, one each, in order.
		notices []string
	}{
		{"same tag", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Username: "u", Password: "p"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:1"}, "ghcr.io", nil},
		{"bare tag", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Tag: "1-amd64", Username: "u", Password: "p"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:1-amd64"}, "ghcr.io", nil},
		{"full tag other registry", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Tag: "docker.io/o/r:1", Username: "u", Password: "p"}, []string{"ghcr.io/o/r:1 -> docker.io/o/r:1"}, "index.docker.io", nil},
		{"full tag same registry", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Tag: "ghcr.io/o/q:1", Username: "u", Password: "p"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/q:1"}, "ghcr.io", nil},
		{"digest source", Input{Images: []string{"ghcr.io/o/r@" + d}, Platform: "linux/amd64"}, []string{"ghcr.io/o/r@" + d + " -> ghcr.io/o/r@" + d}, "", nil},
		{"several with blanks and spaces", Input{Images: []string{"", "  ghcr.io/o/a:1 ", "", "quay.io/o/b:2", " "}, Platform: "linux/amd64", Tag: "fixed"}, []string{"ghcr.io/o/a:1 -> ghcr.io/o/a:fixed", "quay.io/o/b:2 -> quay.io/o/b:fixed"}, "", nil},
		{"bare tag in two repositories", Input{Images: []string{"ghcr.io/o/a:1", "ghcr.io/o/b:1"}, Platform: "linux/amd64", Tag: "fixed", Username: "u", Password: "p"}, []string{"ghcr.io/o/a:1 -> ghcr.io/o/a:fixed", "ghcr.io/o/b:1 -> ghcr.io/o/b:fixed"}, "ghcr.io", nil},
		{"digest sources pushed by digest", Input{Images: []string{"ghcr.io/o/r@" + d, "ghcr.io/o/r@" + d2}, Platform: "linux/amd64"}, []string{"ghcr.io/o/r@" + d + " -> ghcr.io/o/r@" + d, "ghcr.io/o/r@" + d2 + " -> ghcr.io/o/r@" + d2}, "", nil},
		{"alias notice", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/x86_64"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:1"}, "", []string{"x86_64"}},
		{"check needs no platform", Input{Images: []string{"ghcr.io/o/r:1"}, Mode: Check}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:1"}, "", nil},
		{"same source twice", Input{Images: []string{"ghcr.io/o/r:1", "ghcr.io/o/r:1 "}, Platform: "linux/amd64", Tag: "fixed"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/r:fixed"}, "", []string{`"ghcr.io/o/r:1" names the same image as "ghcr.io/o/r:1"`}},
		{"docker hub spellings", Input{Images: []string{"x:1", "index.docker.io/library/x:1", "docker.io/library/x:1"}, Platform: "linux/amd64"}, []string{"x:1 -> x:1"}, "", []string{`"index.docker.io/library/x:1" names the same image as "x:1"`, `"docker.io/library/x:1" names the same image as "x:1"`}},
		{"implicit latest", Input{Images: []string{"ghcr.io/o/r", "ghcr.io/o/r:latest"}, Platform: "linux/amd64"}, []string{"ghcr.io/o/r -> ghcr.io/o/r"}, "", []string{`"ghcr.io/o/r:latest"`}},
		{"registry in another case", Input{Images: []string{"localhost:5000/r:1", "LOCALHOST:5000/r:1"}, Platform: "linux/amd64"}, []string{"localhost:5000/r:1 -> localhost:5000/r:1"}, "", []string{`"LOCALHOST:5000/r:1"`}},
		{"digest with and without tag", Input{Images: []string{"ghcr.io/o/r@" + d, "ghcr.io/o/r:1@" + d}, Platform: "linux/amd64", Tag: "fixed"}, []string{"ghcr.io/o/r@" + d + " -> ghcr.io/o/r:fixed"}, "", []string{`"ghcr.io/o/r:1@` + d + `"`}},
		{"duplicate before a full tag", Input{Images: []string{"ghcr.io/o/r:1", "ghcr.io/o/r:1"}, Platform: "linux/amd64", Tag: "ghcr.io/o/q:1"}, []string{"ghcr.io/o/r:1 -> ghcr.io/o/q:1"}, "", []string{`"ghcr.io/o/r:1"`}},
		{"tag lines after a reference", Input{Images: []string{"localhost:5000/o/a:1", ":2", " :3", "ghcr.io/o/b@" + d, ":4"}, Platform: "linux/amd64"}, []string{"localhost:5000/o/a:1 -> localhost:5000/o/a:1", "localhost:5000/o/a:2 -> localhost:5000/o/a:2", "localhost:5000/o/a:3 -> localhost:5000/o/a:3", "ghcr.io/o/b@" + d + " -> ghcr.io/o/b@" + d, "ghcr.io/o/b:4 -> ghcr.io/o/b:4"}, "", nil},
		{"username for one registry in two spellings", Input{Images: []string{"localhost:5000/a:1", "LOCALHOST:5000/b:1"}, Platform: "linux/amd64", Username: "u", Password: "p"}, []string{"localhost:5000/a:1 -> localhost:5000/a:1", "LOCALHOST:5000/b:1 -> LOCALHOST:5000/b:1"}, "localhost:5000", nil},
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
			if c.Creds.Registry != tt.reg {
				t.Errorf("NewConfig(%+v) credential registry = %q, want %q", tt.in, c.Creds.Registry, tt.reg)
			}
			if len(c.Notices) != len(tt.notices) {
				t.Fatalf("NewConfig(%+v) notices = %q, want %d", tt.in, c.Notices, len(tt.notices))
			}
			for i, want := range tt.notices {
				if !strings.Contains(c.Notices[i], want) {
					t.Errorf("NewConfig(%+v) notice %d = %q, want it to hold %q", tt.in, i, c.Notices[i], want)
				}
			}
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        Input
		input     string   // which input the error names
		mentioned []string // texts the message must hold
	}{
		{"no image", Input{Images: []string{"", " "}, Platform: "linux/amd64"}, "image", []string{"no image"}},
		{"bad reference", Input{Images: []string{"ghcr.io/O/R:bad tag"}, Platform: "linux/amd64"}, "image", []string{`"ghcr.io/O/R:bad tag"`}},
		{"unknown arch", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd65"}, "platform", []string{"linux/amd64"}},
		{"unknown os", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linus/amd64"}, "platform", []string{"linux/amd64"}},
		{"bare arch", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "amd64"}, "platform", []string{"linux/amd64"}},
		{"full tag with two images", Input{Images: []string{"ghcr.io/o/a:1", "ghcr.io/o/b:1"}, Platform: "linux/amd64", Tag: "ghcr.io/o/c:1"}, "tag", []string{"one image"}},
		{"bad tag", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Tag: "not a tag"}, "tag", []string{`"not a tag"`}},
		{"username without password", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Username: "u"}, "password", []string{"together"}},
		{"password without username", Input{Images: []string{"ghcr.io/o/r:1"}, Platform: "linux/amd64", Password: "p"}, "username", []string{"together"}},
		{"two images one bare tag", Input{Images: []string{"ghcr.io/o/r:one", " ghcr.io/o/r:two"}, Platform: "linux/amd64", Tag: "fixed"}, "tag", []string{`"ghcr.io/o/r:one"`, `"ghcr.io/o/r:two"`, "ghcr.io/o/r:fixed"}},
		{"a source that is the target tag", Input{Images: []string{"ghcr.io/o/r:1", "ghcr.io/o/r:fixed"}, Platform: "linux/amd64", Tag: "fixed"}, "tag", []string{`"ghcr.io/o/r:1"`, `"ghcr.io/o/r:fixed"`}},
		{"two digests one bare tag", Input{Images: []string{"ghcr.io/o/r@" + d, "ghcr.io/o/r@" + d2}, Platform: "linux/amd64", Tag: "fixed"}, "tag", []string{d, d2}},
		{"docker hub spellings one bare tag", Input{Images: []string{"x:1", "docker.io/library/x:2"}, Platform: "linux/amd64", Tag: "fixed"}, "tag", []string{`"x:1"`, `"docker.io/library/x:2"`}},
		{"registry case one bare tag", Input{Images: []string{"localhost:5000/r:1", "LOCALHOST:5000/r:2"}, Platform: "linux/amd64", Tag: "fixed"}, "tag", []string{`"localhost:5000/r:1"`, `"LOCALHOST:5000/r:2"`}},
		{"two images one bare tag in check mode", Input{Images: []string{"ghcr.io/o/r:one", "ghcr.io/o/r:two"}, Mode: Check, Tag: "fixed"}, "tag", []string{`"ghcr.io/o/r:one"`, `"ghcr.io/o/r:two"`}},
		{"username with images on two registries", Input{Images: []string{"ghcr.io/o/a:1", "quay.io/o/b:1"}, Platform: "linux/amd64", Username: "u", Password: "p", GitHubToken: "t"}, "username", []string{"ghcr.io", "quay.io"}},
		{"username with images on two registries and a bare tag", Input{Images: []string{"ghcr.io/o/a:1", "quay.io/o/b:1", "ghcr.io/o/c:1"}, Platform: "linux/amd64", Tag: "fixed", Username: "u", Password: "p"}, "username", []string{"2 registries", "ghcr.io, quay.io"}},
		{"username with images on two registries in check mode", Input{Images: []string{"ghcr.io/o/a:1", "quay.io/o/b:1"}, Mode: Check, Username: "u", Password: "p"}, "username", []string{"ghcr.io", "quay.io"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewConfig(tt.in)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("NewConfig(%+v) = %v, want an *InputError", tt.in, err)
			}
			if ie.Input != tt.input {
				t.Errorf("NewConfig(%+v) = %q (input %q), want input %q", tt.in, err, ie.Input, tt.input)
			}
			for _, m := range tt.mentioned {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("NewConfig(%+v) = %q, want a message holding %q", tt.in, err, m)
				}
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"", Set, false},
		{"set", Set, false},
		{"Check", Check, false},
		{" PLAN ", Plan, false},
		{"fix", Set, true},
		{"checks", Set, true},
	} {
		got, err := ParseMode(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseMode(%q) = %v, %v, want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "", want: 0},
		{in: " 16 ", want: 16},
		{in: "0", wantErr: true},
		{in: "-3", wantErr: true},
		{in: "four", wantErr: true},
	} {
		got, err := ParseCount(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseCount(%q) = %d, %v, want %d and an error %t", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	for m, want := range map[Mode]string{Set: "set", Check: "check", Plan: "plan"} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
	if got := CarryReferrers.String(); got != "carry" {
		t.Errorf("CarryReferrers.String() = %q, want carry", got)
	}
}
