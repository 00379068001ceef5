package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRef(t *testing.T) {
	t.Parallel()
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	repo := RepoRef{Scheme: RegistryScheme, Host: "index.docker.io", Path: "library/busybox"}
	type parts struct {
		String, Repo, Identifier string
		IsDigest                 bool
	}
	summarize := func(r Ref) parts { return parts{r.String(), r.Repo.Name(), r.Identifier(), r.IsDigest()} }
	tests := []struct {
		name string
		ref  Ref
		want parts
	}{
		{"tag", repo.Tag("1.36"), parts{"index.docker.io/library/busybox:1.36", "index.docker.io/library/busybox", "1.36", false}},
		{"empty tag", repo.Tag(""), parts{"index.docker.io/library/busybox:", "index.docker.io/library/busybox", "", false}},
		{"digest", repo.Digest(d), parts{"index.docker.io/library/busybox@" + d, "index.docker.io/library/busybox", d, true}},
		{"as written", repo.Tag("latest").WithText("busybox"), parts{"busybox", "index.docker.io/library/busybox", "latest", false}},
		{"with digest", repo.Tag("latest").WithText("busybox").WithDigest(d), parts{"index.docker.io/library/busybox@" + d, "index.docker.io/library/busybox", d, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, summarize(tt.ref)); diff != "" {
				t.Errorf("Ref %s mismatch (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}
