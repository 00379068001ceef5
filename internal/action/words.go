package action

import (
	"fmt"

	"github.com/set-image-platform/set-image-platform/internal/engine"
)

// words words the core's hints in the action's terms: its inputs and the
// job's permissions.
func words(h engine.Hint, repo string) string {
	switch h {
	case engine.HintInsecure:
		return "; set insecure to true if this registry really speaks plain HTTP"
	case engine.HintPushGitHub:
		return fmt.Sprintf("; the credentials may not push to %s: give the job `permissions: packages: write` (for github-token), or a token with write:packages, and make sure the package grants this repository write access", repo)
	case engine.HintPush:
		return fmt.Sprintf("; the credentials may not push to %s: use username and password of an account with push rights", repo)
	case engine.HintCredentials:
		return fmt.Sprintf("; the registry refused the username and password given for %s: check them, and that the account can read the repository", repo)
	case engine.HintReadGitHub:
		return fmt.Sprintf("; the registry refused access to %s: set username and password, or give the job `permissions: packages: read` for github-token", repo)
	case engine.HintRead:
		return fmt.Sprintf("; the registry refused access to %s: set username and password", repo)
	case engine.HintNotFound:
		return "; check the reference, and that the credentials can see the repository"
	case engine.HintOverwrite:
		return "; set overwrite to replace it"
	}
	return ""
}
