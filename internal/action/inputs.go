package action

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/set-image-platform/set-image-platform/internal/engine"
)

// Kind is how an input's value is read.
type Kind int

// The kinds of input.
const (
	// Text is one value, as given.
	Text Kind = iota
	// Lines is one value per line.
	Lines
	// Secret is text masked in the log before anything else is read.
	Secret
	// Bool is true or false.
	Bool
	// Mode is set, check or plan.
	Mode
	// Count is a whole number of at least 1.
	Count
)

// InputSpec is one input of the action as action.yml declares it, and
// where ReadInputs puts its value.
type InputSpec struct {
	Name     string
	Default  string
	Required bool
	Kind     Kind
	set      func(in *engine.Input, v string) error
}

// inputs are the action's inputs in action.yml's order: ReadInputs reads
// these and no other, and a test holds action.yml to them.
var inputs = []InputSpec{
	{Name: "image", Required: true, Kind: Lines, set: func(in *engine.Input, v string) error { in.Images = strings.Split(v, "\n"); return nil }},
	{Name: "platform", Kind: Text, set: func(in *engine.Input, v string) error { in.Platform = v; return nil }},
	{Name: "tag", Kind: Text, set: func(in *engine.Input, v string) error { in.Tag = v; return nil }},
	{Name: "mode", Default: "set", Kind: Mode, set: setMode},
	{Name: "overwrite", Default: "false", Kind: Bool, set: setBool(func(in *engine.Input) *bool { return &in.Overwrite })},
	{Name: "dry-run", Default: "false", Kind: Bool, set: setBool(func(in *engine.Input) *bool { return &in.DryRun })},
	{Name: "username", Kind: Text, set: func(in *engine.Input, v string) error { in.Username = v; return nil }},
	{Name: "password", Kind: Secret, set: func(in *engine.Input, v string) error { in.Password = v; return nil }},
	{Name: "github-token", Default: "${{ github.token }}", Kind: Secret, set: func(in *engine.Input, v string) error { in.GitHubToken = v; return nil }},
	{Name: "insecure", Default: "false", Kind: Bool, set: setBool(func(in *engine.Input) *bool { return &in.Insecure })},
	{Name: "referrers", Default: "warn", Kind: Text, set: func(in *engine.Input, v string) error { in.Referrers = v; return nil }},
	{Name: "concurrency", Default: "4", Kind: Count, set: setCount(func(in *engine.Input) *int { return &in.Concurrency })},
	{Name: "shards", Default: "16", Kind: Count, set: setCount(func(in *engine.Input) *int { return &in.Shards })},
}

// Inputs returns the action's inputs in action.yml's order.
func Inputs() []InputSpec { return slices.Clone(inputs) }

// ReadInputs reads every input once. Secrets are masked first, so that no
// later line, error included, can show them.
func ReadInputs(gha *githubactions.Action) (engine.Input, error) {
	values := make([]string, len(inputs))
	for _, secrets := range []bool{true, false} {
		for i, s := range inputs {
			if (s.Kind == Secret) != secrets {
				continue
			}
			values[i] = gha.GetInput(s.Name)
			if secrets && values[i] != "" {
				gha.AddMask(values[i])
			}
		}
	}
	var in engine.Input
	if err := engine.FromEnv(gha.Getenv, &in); err != nil {
		return in, err
	}
	for i, s := range inputs {
		if err := s.set(&in, values[i]); err != nil {
			return in, &engine.InputError{Input: s.Name, Err: err}
		}
	}
	return in, nil
}

func setMode(in *engine.Input, v string) (err error) {
	in.Mode, err = engine.ParseMode(v)
	return err
}

// setBool sets the field dst picks to a boolean input.
func setBool(dst func(*engine.Input) *bool) func(*engine.Input, string) error {
	return func(in *engine.Input, v string) error {
		b, err := parseBool(v)
		*dst(in) = b
		return err
	}
}

// setCount sets the field dst picks to a count input.
func setCount(dst func(*engine.Input) *int) func(*engine.Input, string) error {
	return func(in *engine.Input, v string) error {
		n, err := engine.ParseCount(v)
		*dst(in) = n
		return err
	}
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
