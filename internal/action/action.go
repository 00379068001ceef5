package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

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

// ErrFailed is returned when at least one image failed; the reasons were
// already reported as ::error:: lines.
var ErrFailed = errors.New("one or more images failed")

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
	})
	outs, err := engine.Outputs(results)
	if err != nil {
		log.Error(err.Error())
		return err
	}
	if err := WriteOutputs(env.Getenv("GITHUB_OUTPUT"), outs); err != nil {
		log.Error(err.Error())
		return err
	}
	if err := appendFile(env.Getenv("GITHUB_STEP_SUMMARY"), engine.Markdown(cfg, results)+"\n"); err != nil {
		log.Error(fmt.Sprintf("writing the step summary: %v", err))
		return err
	}
	for _, r := range results {
		if r.Err != nil {
			return ErrFailed
		}
	}
	return nil
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
	in.GitHubActor = gha.Getenv("GITHUB_ACTOR")
	d, err := engine.ParseStallTimeout(gha.Getenv(engine.StallTimeoutEnv))
	if err != nil {
		return in, err
	}
	in.StallTimeout = d
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
