package action

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sethvargo/go-githubactions"

	"github.com/set-image-platform/set-image-platform/internal/engine"
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
	results := engine.Run(ctx, cfg, engine.Deps{
		Transport: env.Transport,
		Keychain:  env.Keychain,
		Log:       log,
		UserAgent: env.UserAgent,
		Words:     words.Words,
	})
	outs, err := Outputs(results)
	if err != nil {
		log.Error(err.Error())
		return err
	}
	if err := WriteOutputs(env.Getenv("GITHUB_OUTPUT"), outs); err != nil {
		log.Error(err.Error())
		return err
	}
	if err := appendFile(env.Getenv("GITHUB_STEP_SUMMARY"), Markdown(cfg, results)+"\n"); err != nil {
		log.Error(fmt.Sprintf("writing the step summary: %v", err))
		return err
	}
	return engine.Failed(results)
}
