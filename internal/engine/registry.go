package engine

import (
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// This file is where the engine meets the registry package's names: the
// rest of it carries store references.

// nameRepo is the registry repository r names; insecure allows plain HTTP.
func nameRepo(r store.RepoRef, insecure bool) name.Repository {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(r.Host, opts...)
	if err != nil {
		// r was parsed by the name package: its host is one.
		panic(err)
	}
	return reg.Repo(r.Path)
}
