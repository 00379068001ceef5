package cli

import "github.com/set-image-platform/set-image-platform/internal/engine"

// words words the core's hints in the command line's terms: its flags and
// the environment it reads credentials from. A %s stands for the repository.
var words = engine.HintWords{
	engine.HintInsecure:    "; pass --insecure if this registry really speaks plain HTTP",
	engine.HintPushGitHub:  "; the credentials may not push to %s: set GITHUB_TOKEN to a token with write:packages (in a workflow, give the job `permissions: packages: write`), and make sure the package grants this repository write access",
	engine.HintPush:        "; the credentials may not push to %s: log in, or pass --username and --password-stdin, with an account that has push rights",
	engine.HintCredentials: "; the registry refused the --username and password given for %s: check them, and that the account can read the repository",
	engine.HintReadGitHub:  "; the registry refused access to %s: log in, pass --username and --password-stdin, or set GITHUB_TOKEN",
	engine.HintRead:        "; the registry refused access to %s: log in, or pass --username and --password-stdin",
	engine.HintNotFound:    "; check the reference, and that the credentials can see the repository",
	engine.HintOverwrite:   "; pass --overwrite to replace it",
}
