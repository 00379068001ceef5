package action

import "github.com/set-image-platform/set-image-platform/internal/engine"

// words words the core's hints in the action's terms: its inputs and the
// job's permissions. A %s stands for the repository.
var words = engine.HintWords{
	engine.HintInsecure:    "; set insecure to true if this registry really speaks plain HTTP",
	engine.HintPushGitHub:  "; the credentials may not push to %s: give the job `permissions: packages: write` (for github-token), or a token with write:packages, and make sure the package grants this repository write access",
	engine.HintPush:        "; the credentials may not push to %s: use username and password of an account with push rights",
	engine.HintCredentials: "; the registry refused the username and password given for %s: check them, and that the account can read the repository",
	engine.HintReadGitHub:  "; the registry refused access to %s: set username and password, or give the job `permissions: packages: read` for github-token",
	engine.HintRead:        "; the registry refused access to %s: set username and password",
	engine.HintNotFound:    "; check the reference, and that the credentials can see the repository",
	engine.HintOverwrite:   "; set overwrite to replace it",
}
