package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// TestCLIKeychain: the docker config comes first, GITHUB_TOKEN only for
// ghcr.io and only when the config has nothing for it. Not parallel: it
// sets the environment the keychains read.
func TestCLIKeychain(t *testing.T) {
	withGHCR := `{"auths":{"ghcr.io":{"username":"from-config","password":"config-secret"}}}`
	withOther := `{"auths":{"registry.example.com":{"username":"other","password":"other-secret"}}}`
	tests := []struct {
		name, config, host, token, actor string
		want                             authn.AuthConfig // zero: anonymous
	}{
		{"config wins over the token", withGHCR, "ghcr.io", "ghs_env", "octocat", authn.AuthConfig{Username: "from-config", Password: "config-secret"}},
		{"token when the config has no ghcr.io", withOther, "ghcr.io", "ghs_env", "octocat", authn.AuthConfig{Username: "octocat", Password: "ghs_env"}},
		{"token without an actor", "", "ghcr.io", "ghs_env", "", authn.AuthConfig{Username: "unset", Password: "ghs_env"}},
		{"token is for ghcr.io only", "", "registry.example.com", "ghs_env", "octocat", authn.AuthConfig{}},
		{"config for another registry", withOther, "registry.example.com", "ghs_env", "", authn.AuthConfig{Username: "other", Password: "other-secret"}},
		{"nothing", "", "ghcr.io", "", "", authn.AuthConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("DOCKER_CONFIG", dir)
			t.Setenv("GITHUB_TOKEN", tt.token)
			t.Setenv("GITHUB_ACTOR", tt.actor)
			reg, err := name.NewRegistry(tt.host)
			if err != nil {
				t.Fatal(err)
			}
			auth, err := cliKeychain.Resolve(reg)
			if err != nil {
				t.Fatalf("cliKeychain.Resolve(%s) = %v", tt.host, err)
			}
			got, err := auth.Authorization()
			if err != nil {
				t.Fatalf("Authorization() = %v", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("cliKeychain.Resolve(%s) (-want +got):\n%s", tt.host, diff)
			}
		})
	}
}
