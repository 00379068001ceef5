package action

import (
	"context"
	"fmt"
	"io"
	"net/http"

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
	if dir := env.Getenv("RUNNER_TEMP"); dir != "" {
		// What was written must reach the outputs and the summary all
		// the same: the results output holds the same results.
		if outs["results-file"], err = sweep.CreateResultsFile(dir, engine.ResultsJSON(results)); err != nil {
			log.Warning(err.Error() + "; the outputs and the step summary are written without it")
		}
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
