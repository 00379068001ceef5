// Command set-image-platform gives container images the platform metadata
// they lack, in place, in their registry. With no arguments and
// GITHUB_ACTIONS=true it runs as a GitHub Action; otherwise as a CLI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/authn/github"

	"github.com/set-image-platform/set-image-platform/internal/action"
	"github.com/set-image-platform/set-image-platform/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		os.Exit(1)
	}
}

// cliKeychain is crane's order: the docker config, then GITHUB_TOKEN (with
// GITHUB_ACTOR) for ghcr.io, as workflow `run:` steps provide. The action
// takes its github-token from its input instead.
var cliKeychain = authn.NewMultiKeychain(authn.DefaultKeychain, github.Keychain)

func run(ctx context.Context, args []string) error {
	ua := "set-image-platform"
	wd, _ := os.Getwd() // without it, a relative layout path is refused by name
	if len(args) == 0 && os.Getenv("GITHUB_ACTIONS") == "true" {
		return action.Run(ctx, action.Env{Getenv: os.Getenv, Stdout: os.Stdout, Keychain: authn.DefaultKeychain, UserAgent: ua, WorkDir: wd})
	}
	return cli.Run(ctx, args, cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Keychain: cliKeychain, UserAgent: ua, WorkDir: wd})
}
