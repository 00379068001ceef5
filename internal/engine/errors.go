package engine

import (
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// describe turns err into a message a person can act on: what failed for
// which image, and what to do about it.
func describe(err error, ref name.Reference, writing bool, creds Credentials) error {
	var re *registry.Error
	var ph *registry.PlainHTTPError
	hint := ""
	switch {
	case errors.As(err, &ph):
		hint = "; set insecure to true if this registry really speaks plain HTTP"
	case errors.As(err, &re) && re.Unauthorized():
		hint = unauthorizedHint(re, ref, writing, creds)
	case errors.As(err, &re) && re.NotFound():
		hint = "; check the reference, and that the credentials can see the repository"
	}
	return fmt.Errorf("%s: %w%s", ref, err, hint)
}

// unauthorizedHint says what to do when the registry refused access to ref.
func unauthorizedHint(re *registry.Error, ref name.Reference, writing bool, creds Credentials) string {
	repo, ghcrHost := ref.Context().Name(), ref.Context().RegistryStr() == ghcr
	switch {
	case writing || re.Method != "GET" && re.Method != "HEAD":
		if ghcrHost {
			return fmt.Sprintf("; the credentials may not push to %s: give the job `permissions: packages: write` (for github-token), or a token with write:packages, and make sure the package grants this repository write access", repo)
		}
		return fmt.Sprintf("; the credentials may not push to %s: use username and password of an account with push rights", repo)
	case creds.appliesTo(ref.Context().RegistryStr()):
		return fmt.Sprintf("; the registry refused the username and password given for %s: check them, and that the account can read the repository", repo)
	case ghcrHost:
		return fmt.Sprintf("; the registry refused access to %s: set username and password, or give the job `permissions: packages: read` for github-token", repo)
	}
	return fmt.Sprintf("; the registry refused access to %s: set username and password", repo)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
