package action

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sethvargo/go-githubactions"

	"github.com/set-image-platform/set-image-platform/internal/engine"
	"github.com/set-image-platform/set-image-platform/internal/sweep"
	"github.com/set-image-platform/set-image-platform/internal/version"
)

// Env is what the action reads and writes besides the registry.
type Env struct {
	Getenv    func(string) string
	Stdout    io.Writer
	Transport http.RoundTripper
	Keychain  authn.Keychain
	UserAgent string
	// WorkDir is the process's working directory, which relative layout
	// and archive paths are resolved against when GITHUB_WORKSPACE is
	// unset.
	WorkDir string
}

// Run runs the action with inputs from env.Getenv.
func Run(ctx context.Context, env Env) error {
	gha := githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout))
	log := &logger{gha: gha, w: env.Stdout}
	in, err := ReadInputs(gha)
	// After the masks ReadInputs registers, which come first; before any
	// error, so that every log says which build wrote it.
	log.Info(version.String())
	if err != nil {
		log.Error(err.Error())
		return err
	}
	// The runner maps the workspace into the action's container and sets
	// GITHUB_WORKSPACE to where it is there: oci:out names its out.
	in.WorkDir = cmp.Or(env.Getenv("GITHUB_WORKSPACE"), env.WorkDir)
	cfg, err := engine.NewConfig(in)
	if err != nil {
		log.Error(err.Error())
		return err
	}
	o, err := engine.Run(ctx, cfg, engine.Deps{
		Transport: env.Transport,
		Keychain:  env.Keychain,
		Log:       log,
		UserAgent: env.UserAgent,
		Words:     words,
	})
	if err != nil {
		log.Error(err.Error())
		return err
	}
	results := o.Results
	outs, err := Outputs(results, log)
	if err != nil {
		log.Error(err.Error())
		return err
	}
	// Every output is written, as action.yml lists them; matrix is empty
	// outside plan mode.
	outs["matrix"] = o.Matrix
	// A results file that cannot be written costs that output only: the
	// outputs and the summary say what the run did, and it did it.
	if outs["results-file"], err = resultsFile(env.Getenv, engine.ResultsJSON(results)); err != nil {
		log.Warning(err.Error() + "; the results output and the step summary have the results")
	}
	if err := WriteOutputs(env.Getenv("GITHUB_OUTPUT"), outs); err != nil {
		log.Error(err.Error())
		return err
	}
	if err := appendFile(env.Getenv("GITHUB_STEP_SUMMARY"), Markdown(cfg, o)+"\n"); err != nil {
		log.Error(fmt.Sprintf("writing the step summary: %v", err))
		return err
	}
	return o.Failed()
}

// resultsFile writes the full results to a new file in the workspace and
// returns its path relative to the workspace. Inside the action's
// container every absolute path is the container's (GITHUB_WORKSPACE is
// /github/workspace there), which the steps after it cannot open; the
// workspace is the one directory both see, and a relative path is opened
// from it by a later run: step (its working directory) and by a later
// action's with: (actions/upload-artifact resolves paths against it).
// Without GITHUB_WORKSPACE (the binary run by hand with GITHUB_ACTIONS set)
// the file goes to RUNNER_TEMP and its absolute path is given; with
// neither there is no file.
func resultsFile[T any](getenv func(string) string, all []T) (string, error) {
	if ws := getenv("GITHUB_WORKSPACE"); ws != "" {
		path, err := sweep.CreateResultsFile(ws, all)
		if err != nil {
			return "", err
		}
		return filepath.Base(path), nil
	}
	if dir := getenv("RUNNER_TEMP"); dir != "" {
		return sweep.CreateResultsFile(dir, all)
	}
	return "", nil
}
