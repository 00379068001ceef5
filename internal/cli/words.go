package cli

import (
	"fmt"

	"github.com/set-image-platform/set-image-platform/internal/engine"
)

// words words the core's hints in the command line's terms: its flags and
// the environment it reads credentials from.
func words(h engine.Hint, repo string) string {
	switch h {
	case engine.HintInsecure:
		return "; pass --insecure if this registry really speaks plain HTTP"
	case engine.HintPushGitHub:
		return fmt.Sprintf("; the credentials may not push to %s: set GITHUB_TOKEN to a token with write:packages (in a workflow, give the job `permissions: packages: write`), and make sure the package grants this repository write access", repo)
	case engine.HintPush:
		return fmt.Sprintf("; the credentials may not push to %s: log in, or pass --username and --password-stdin, with an account that has push rights", repo)
	case engine.HintCredentials:
		return fmt.Sprintf("; the registry refused the --username and password given for %s: check them, and that the account can read the repository", repo)
	case engine.HintReadGitHub:
		return fmt.Sprintf("; the registry refused access to %s: log in, pass --username and --password-stdin, or set GITHUB_TOKEN", repo)
	case engine.HintRead:
		return fmt.Sprintf("; the registry refused access to %s: log in, or pass --username and --password-stdin", repo)
	case engine.HintNotFound:
		return "; check the reference, and that the credentials can see the repository"
	case engine.HintOverwrite:
		return "; pass --overwrite to replace it"
	}
	return ""
}
