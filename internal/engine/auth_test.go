package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// TestKeychainOneRegistry checks where the inputs' credentials go: the
// username and password to exactly one registry, github-token to ghcr.io
// wherever the username is not for it, and nothing to any other registry.
func TestKeychainOneRegistry(t *testing.T) {
	t.Parallel()
	const (
		user, password = "u", "p"
		actor, token   = "octocat", "ghs_token"
	)
	basic := &authn.AuthConfig{Username: user, Password: password}
	github := &authn.AuthConfig{Username: actor, Password: token}
	anonymous := &authn.AuthConfig{}
	tests := []struct {
		name   string
		images []string
		tag    string
		want   map[string]*authn.AuthConfig // registry -> what it is sent
	}{{
		name:   "images on ghcr.io",
		images: []string{"ghcr.io/o/a:1", "ghcr.io/o/b:1"},
		want:   map[string]*authn.AuthConfig{"ghcr.io": basic, "quay.io": anonymous},
	}, {
		name:   "images on quay.io, github-token stays on ghcr.io",
		images: []string{"quay.io/o/a:1", "quay.io/o/b:1"},
		tag:    "fixed",
		want:   map[string]*authn.AuthConfig{"quay.io": basic, "ghcr.io": github, "index.docker.io": anonymous},
	}, {
		name:   "from ghcr.io to docker hub",
		images: []string{"ghcr.io/o/a:1"},
		tag:    "docker.io/o/a:1",
		want:   map[string]*authn.AuthConfig{"index.docker.io": basic, "ghcr.io": github, "quay.io": anonymous},
	}, {
		name:   "from quay.io to ghcr.io",
		images: []string{"quay.io/o/a:1"},
		tag:    "ghcr.io/o/a:1",
		want:   map[string]*authn.AuthConfig{"ghcr.io": basic, "quay.io": anonymous},
	}, {
		// Host names are case-insensitive: one registry, two spellings.
		name:   "one registry in two spellings",
		images: []string{"LOCALHOST:5000/a:1"},
		tag:    "localhost:5000/b:1",
		want:   map[string]*authn.AuthConfig{"LOCALHOST:5000": basic, "localhost:5000": basic, "127.0.0.1:5000": anonymous},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := Input{Images: tt.images, Tag: tt.tag, Platform: "linux/amd64", Username: user, Password: password, GitHubToken: token, GitHubActor: actor}
			c, err := NewConfig(in)
			if err != nil {
				t.Fatalf("NewConfig(%+v) = %v, want no error", in, err)
			}
			kc := keychain{creds: c.Creds}
			got := map[string]*authn.AuthConfig{}
			for host := range tt.want {
				reg, err := name.NewRegistry(host)
				if err != nil {
					t.Fatal(err)
				}
				a, err := kc.Resolve(reg)
				if err != nil {
					t.Fatalf("Resolve(%s) = %v", host, err)
				}
				if got[host], err = a.Authorization(); err != nil {
					t.Fatalf("Resolve(%s).Authorization() = %v", host, err)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("keychain of NewConfig(%+v) (-want +got):\n%s", in, diff)
			}
		})
	}
}
