package imageref

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
)

// TestRefOf checks that a reference carried as a store.Ref says what the
// name package says of it: messages, outputs and keys stay as they were.
func TestRefOf(t *testing.T) {
	t.Parallel()
	type parts struct{ String, Name, Registry, Repository, Identifier string }
	tests := []string{
		"busybox",
		"docker.io/library/busybox:1.36",
		"ghcr.io/o/r:t",
		"localhost:5000/a/b:v1",
		"127.0.0.1:5000/app",
		"ghcr.io/o/r@sha256:" + hex64,
		"ghcr.io/o/r:t@sha256:" + hex64,
		"busybox@sha256:" + hex64,
	}
	for _, line := range tests {
		t.Run(line, func(t *testing.T) {
			t.Parallel()
			n, err := name.ParseReference(line)
			if err != nil {
				t.Fatalf("name.ParseReference(%q) = %v", line, err)
			}
			r := RefOf(n)
			want := parts{n.String(), n.Context().Name(), n.Context().RegistryStr(), n.Context().RepositoryStr(), n.Identifier()}
			got := parts{r.String(), r.Repo.Name(), r.Repo.Host, r.Repo.Path, r.Identifier()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("RefOf(%q) mismatch (-want +got):\n%s", line, diff)
			}
			_, isDigest := n.(name.Digest)
			if r.IsDigest() != isDigest {
				t.Errorf("RefOf(%q).IsDigest() = %v, want %v", line, r.IsDigest(), isDigest)
			}
			d := "sha256:" + hex64
			if got, want := r.WithDigest(d).String(), n.Context().Digest(d).String(); got != want {
				t.Errorf("RefOf(%q).WithDigest(d) = %q, want %q", line, got, want)
			}
			if got, want := r.Repo.Tag("x").String(), n.Context().Tag("x").String(); got != want {
				t.Errorf("RefOf(%q).Repo.Tag(x) = %q, want %q", line, got, want)
			}
		})
	}
}
