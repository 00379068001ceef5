package cli

import (
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/engine"
	"github.com/set-image-platform/set-image-platform/internal/plan"
)

// words words what the core decides in the command line's terms: its
// flags and the environment it reads credentials from, never the action's
// inputs.
var words = engine.Words{Hints: hints, Fix: fix, Input: flagName}

// hints word the core's hints. A %s stands for the repository.
var hints = engine.HintWords{
	engine.HintInsecure:         "; pass --insecure if this registry really speaks plain HTTP",
	engine.HintPushGitHub:       "; the credentials can read %s but not write to it: set GITHUB_TOKEN to a token with write:packages (in a workflow, give the job `permissions: packages: write`), and make sure the package grants this repository write access",
	engine.HintPush:             "; the credentials can read %s but not write to it: log in, or pass --username and --password-stdin, with an account that has push rights",
	engine.HintCredentials:      "; the registry refused the --username and password given for %s: check them, and that the account can read the repository",
	engine.HintReadGitHub:       "; the registry refused access to %s: log in, pass --username and --password-stdin, or set GITHUB_TOKEN",
	engine.HintRead:             "; the registry refused access to %s: log in, or pass --username and --password-stdin",
	engine.HintNotFound:         "; check the reference, and that the credentials can see the repository",
	engine.HintOverwrite:        "; pass --overwrite to replace it",
	engine.HintReferrers:        "; or pass --referrers carry to move the unsigned ones, or --referrers warn to write all the same",
	engine.HintLoopback:         "; nothing answers there: check that the registry runs and listens on that port",
	engine.HintPlatform:         "; pass --platform with os/arch such as linux/amd64, or --platform auto to read it from the image's binaries",
	engine.HintStaleAttestation: "; make the attestation again for the new digest",
	engine.HintImmutable:        "; the registry keeps its tags immutable and will not overwrite one, even with the same digest: pass --tag with a tag that does not exist yet to push the result there",
	engine.HintNoEngine:         "; start the Docker engine, or set DOCKER_HOST to where it listens (unix:///path/to/docker.sock or tcp://host:port)",
	engine.HintEnginePermission: "; add your user to the docker group and log in again, or set DOCKER_HOST to a socket you may use",
	engine.HintEngineNotFound:   "; docker images lists what the engine holds: check the name and tag",
}

// fix words a fix with the flags that make it: the ones to pass for a
// refusal, the whole command for a check finding.
func fix(f plan.Fix) string {
	var flags []string
	switch {
	case f.Auto:
		flags = append(flags, "--platform auto")
	case f.Any:
		flags = append(flags, "--platform <os/arch>")
	case !f.Platform.IsZero():
		flags = append(flags, "--platform "+f.Platform.String())
	}
	if f.Overwrite {
		flags = append(flags, "--overwrite")
	}
	switch {
	case f.Ref != "":
		return "fix it with set-image-platform " + strings.Join(append(flags, f.Ref), " ")
	case f.Clear:
		return "leave out --platform"
	}
	return "pass " + strings.Join(flags, " ")
}

// flagName names an input as the command line takes it.
func flagName(input string) string {
	switch input {
	case "image":
		// With InputError.Arg, the image argument itself is named.
		return "argument"
	case "password":
		return "--password-stdin"
	case engine.StallTimeoutEnv, engine.RegistryBudgetEnv:
		return input
	}
	return "--" + input
}
