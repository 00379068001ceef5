package engine

import (
	"github.com/google/go-containerregistry/pkg/authn"
)

// ghcr is the registry where github-token applies.
const ghcr = "ghcr.io"

// keychain resolves, in order: the username and password inputs for the
// one registry they are meant for; github-token for ghcr.io (as
// go-containerregistry's pkg/authn/github does with GITHUB_TOKEN, but from
// the input rather than the environment); then the fallback, normally the
// docker config keychain (DOCKER_CONFIG, ~/.docker/config.json, helpers).
type keychain struct {
	creds    Credentials
	fallback authn.Keychain
}

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	host := r.RegistryStr()
	if k.creds.appliesTo(host) {
		return &authn.Basic{Username: k.creds.Username, Password: k.creds.Password}, nil
	}
	if host == ghcr && k.creds.GitHubToken != "" {
		user := k.creds.GitHubActor
		if user == "" {
			user = "unset"
		}
		return &authn.Basic{Username: user, Password: k.creds.GitHubToken}, nil
	}
	if k.fallback == nil {
		return authn.Anonymous, nil
	}
	return k.fallback.Resolve(r)
}
