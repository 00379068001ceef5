package action

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sethvargo/go-githubactions"

	"github.com/set-image-platform/set-image-platform/internal/engine"
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
		Words:     words,
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

// ReadInputs reads every input once. Secrets are masked first, so that no
// later line, error included, can show them.
func ReadInputs(gha *githubactions.Action) (engine.Input, error) {
	in := engine.Input{
		Password:    gha.GetInput("password"),
		GitHubToken: gha.GetInput("github-token"),
	}
	for _, s := range []string{in.Password, in.GitHubToken} {
		if s != "" {
			gha.AddMask(s)
		}
	}
	in.Images = strings.Split(gha.GetInput("image"), "\n")
	in.Platform = gha.GetInput("platform")
	in.Tag = gha.GetInput("tag")
	in.Username = gha.GetInput("username")
	if err := engine.FromEnv(gha.Getenv, &in); err != nil {
		return in, err
	}
	switch m := gha.GetInput("mode"); strings.ToLower(m) {
	case "", "set":
		in.Mode = engine.Set
	case "check":
		in.Mode = engine.Check
	default:
		return in, &engine.InputError{Input: "mode", Err: fmt.Errorf("unknown mode %q: want set or check", m)}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"overwrite", &in.Overwrite}, {"dry-run", &in.DryRun}, {"insecure", &in.Insecure}} {
		v, err := parseBool(gha.GetInput(b.name))
		if err != nil {
			return in, &engine.InputError{Input: b.name, Err: err}
		}
		*b.dst = v
	}
	return in, nil
}

// parseBool accepts what the runner's YAML booleans become: true or false
// in any case, and empty for the default (false).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("parsing boolean %q: want true or false", s)
}
