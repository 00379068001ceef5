package action

import (
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/engine"
	"github.com/set-image-platform/set-image-platform/internal/plan"
)

// words words what the core decides in the action's terms: its inputs and
// the job's permissions, never the command line's flags.
var words = engine.Words{Hints: hints, Fix: fix}

// hints word the core's hints. A %s stands for the repository.
var hints = engine.HintWords{
	engine.HintInsecure:         "; set `insecure: true` if this registry really speaks plain HTTP",
	engine.HintPushGitHub:       "; the credentials can read %s but not write to it: give the job `permissions: packages: write` (for github-token), or a token with write:packages, and make sure the package grants this repository write access",
	engine.HintPush:             "; the credentials can read %s but not write to it: use username and password of an account with push rights",
	engine.HintCredentials:      "; the registry refused the username and password given for %s: check them, and that the account can read the repository",
	engine.HintReadGitHub:       "; the registry refused access to %s: set username and password, or give the job `permissions: packages: read` for github-token",
	engine.HintRead:             "; the registry refused access to %s: set username and password",
	engine.HintNotFound:         "; check the reference, and that the credentials can see the repository",
	engine.HintOverwrite:        "; set `overwrite: true` to replace it",
	engine.HintReferrers:        "; or set `referrers: carry` to move the unsigned ones, or `referrers: warn` to write all the same",
	engine.HintLoopback:         "; inside the action's container, localhost (or any loopback address) is the container itself, not the runner: reach a service container by its label instead, such as registry:5000 for a service named registry, with `insecure: true` if it speaks plain HTTP",
	engine.HintPlatform:         "; set `platform` to os/arch such as linux/amd64, or to auto to read it from the image's binaries",
	engine.HintStaleAttestation: "; make the attestation again for the new digest, the `digest` output",
	engine.HintImmutable:        "; the registry keeps its tags immutable and will not overwrite one, even with the same digest: set `tag` to a tag that does not exist yet to push the result there",
	engine.HintNoEngine:         "; the runner mounts its Docker engine's socket, /var/run/docker.sock, into the action's container: run the job on a runner with Docker (ubuntu-latest has it), or set DOCKER_HOST in the step's env to where the engine listens",
	engine.HintEnginePermission: "; a socket proxy or an authorization plugin in front of the engine must allow image inspect (and, to set, save and load)",
	engine.HintEngineNotFound:   "; build or load the image into the runner's Docker engine in an earlier step of the same job (docker/build-push-action with `load: true`, pack build without --publish), and check the name and tag",
}

// fix words a fix with the inputs that make it: the ones to set for a
// refusal, a run in set mode for a check finding.
func fix(f plan.Fix) string {
	var in []string
	switch {
	case f.Auto:
		in = append(in, "`platform: auto`")
	case f.Any:
		in = append(in, "`platform: <os/arch>`")
	case !f.Platform.IsZero():
		in = append(in, "`platform: "+f.Platform.String()+"`")
	case f.Ref != "" || f.Clear:
		in = append(in, "`platform` empty")
	}
	if f.Overwrite {
		in = append(in, "`overwrite: true`")
	}
	switch {
	case f.Ref != "":
		return "fix it by running this action with `mode: set`, " + strings.Join(in, ", ")
	case f.Clear:
		return "leave " + strings.Join(in, " and ")
	}
	return "set " + strings.Join(in, " and ")
}
