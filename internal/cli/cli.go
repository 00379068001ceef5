package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/set-image-platform/set-image-platform/internal/engine"
	"github.com/set-image-platform/set-image-platform/internal/safetext"
	"github.com/set-image-platform/set-image-platform/internal/sweep"
	"github.com/set-image-platform/set-image-platform/internal/version"
)

// Env is what the command line reads and writes besides the registry.
type Env struct {
	Getenv         func(string) string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Transport      http.RoundTripper
	Keychain       authn.Keychain
	UserAgent      string
}

const usage = `Usage: set-image-platform [flags] IMAGE...

Sets the platform (os/arch[/variant][:os.version]) of container images in
place, in their registry, and prints the new digest.

Flags:
`

const examples = `
Examples:
  set-image-platform --platform linux/amd64 ghcr.io/owner/app:1.0
  set-image-platform --platform linux/arm64 --tag 1.0-arm64 ghcr.io/owner/app:1.0
  set-image-platform --check --platform linux/amd64 ghcr.io/owner/app:1.0
  set-image-platform --dry-run --json --platform linux/amd64 ghcr.io/owner/app:1.0 | jq .
  set-image-platform --plan --shards 8 --platform linux/amd64 'ghcr.io/owner/app:v1.*'
  set-image-platform --demo

Credentials are read like docker and crane read them (DOCKER_CONFIG,
~/.docker/config.json, credential helpers); --username with
--password-stdin overrides them for one registry (the --tag registry, else
the images' one); GITHUB_TOKEN (with GITHUB_ACTOR) is used for ghcr.io
when the docker config has nothing for it.

Exit status: 0 when every image succeeded (with --check: passed), 1 otherwise.
`

// Run runs the command line with args (without the program name).
func Run(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("set-image-platform", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		in                engine.Input
		check, asJSON     bool
		planOnly          bool
		resultsFile       string
		demo, showVersion bool
		passwordStdin     bool
	)
	fs.StringVar(&in.Platform, "platform", "", "platform to set, os/arch[/variant][:os.version]")
	fs.StringVar(&in.Tag, "tag", "", "where to push: a bare tag in the same repository, or a full reference")
	fs.BoolVar(&check, "check", false, "change nothing; fail when the platform is missing or differs from --platform")
	fs.BoolVar(&planOnly, "plan", false, "change nothing; print the images a set would change as a JSON matrix of --shards lists")
	fs.Func("shards", "with --plan, at most this many lists in the matrix, 1 to 256 (default 16)", countFlag(&in.Shards))
	fs.Func("concurrency", "images worked at once, 1 to 256 (default 4)", countFlag(&in.Concurrency))
	fs.StringVar(&resultsFile, "results-file", "", "write the full results JSON array to this file")
	fs.BoolVar(&in.Overwrite, "overwrite", false, "replace a platform that is already present and different")
	fs.BoolVar(&in.DryRun, "dry-run", false, "compute and report the result, push nothing")
	fs.BoolVar(&in.Insecure, "insecure", false, "allow plain HTTP and unverified TLS")
	fs.StringVar(&in.Referrers, "referrers", "warn", "what to do about signatures, attestations and SBOMs of a digest that changes: warn, fail or carry")
	fs.StringVar(&in.Username, "username", "", "registry user (with --password-stdin)")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read the registry password from standard input")
	fs.BoolVar(&asJSON, "json", false, "print only the results JSON array on standard output (with --plan, the matrix)")
	fs.BoolVar(&demo, "demo", false, "run against a registry started on loopback with a sample image")
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(env.Stderr, examples)
	}
	images, err := parseInterspersed(fs, args)
	// With --json, standard output is a JSON array whatever happens: an
	// empty one when no image was worked on; the error goes to standard
	// error.
	results := []engine.Result{}
	jsonOut := asJSON || err != nil && (slices.Contains(args, "--json") || slices.Contains(args, "-json"))
	// With --plan it holds the matrix alone, and only once there is one.
	if jsonOut && !planOnly && !showVersion && !demo && !errors.Is(err, flag.ErrHelp) {
		defer func() { printJSON(env, results) }()
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if showVersion {
		fmt.Fprintln(env.Stdout, version.String())
		return nil
	}
	if demo {
		return Demo(ctx, env)
	}
	if len(images) == 0 {
		fs.Usage()
		return report(env, errors.New("no image given"))
	}
	switch {
	case check && planOnly:
		return report(env, errors.New("--check and --plan go separately: choose one"))
	case check:
		in.Mode = engine.Check
	case planOnly:
		in.Mode = engine.Plan
	}
	if passwordStdin {
		p, err := readPassword(env.Stdin)
		if err != nil {
			return report(env, err)
		}
		in.Password = p
	}
	in.Images = images
	if err := engine.FromEnv(env.Getenv, &in); err != nil {
		return report(env, err)
	}
	cfg, err := engine.NewConfig(in)
	if err != nil {
		return report(env, err)
	}
	// Standard output is for what a pipe reads: with --json or --plan the
	// logs, progress and summary lines go to standard error.
	logw := env.Stdout
	if asJSON || planOnly {
		logw = env.Stderr
	}
	o, err := engine.Run(ctx, cfg, engine.Deps{
		Transport: env.Transport,
		Keychain:  env.Keychain,
		Log:       &logger{w: logw, errw: env.Stderr},
		UserAgent: env.UserAgent,
		Words:     words,
	})
	if err != nil {
		return report(env, err)
	}
	results = o.Results
	if resultsFile != "" {
		if err := sweep.WriteResultsFile(resultsFile, engine.ResultsJSON(results)); err != nil {
			return report(env, err)
		}
	}
	if planOnly {
		fmt.Fprintln(env.Stdout, o.Matrix)
	}
	return o.Failed()
}

// countFlag reads a count flag into dst, as the action reads its input.
func countFlag(dst *int) func(string) error {
	return func(s string) error {
		n, err := engine.ParseCount(s)
		if err == nil && n == 0 {
			err = errors.New("want a whole number of at least 1")
		}
		*dst = n
		return err
	}
}

// printJSON prints results as the JSON array --json promises.
func printJSON(env Env, results []engine.Result) {
	b, err := engine.JSON(results)
	if err != nil {
		report(env, err)
		b = []byte("[]")
	}
	fmt.Fprintf(env.Stdout, "%s\n", b)
}

// parseInterspersed lets flags come after images, as users type them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("reading password from standard input: no standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading password from standard input: %w", err)
	}
	p := strings.TrimRight(line, "\r\n")
	if p == "" {
		return "", errors.New("reading password from standard input: it is empty")
	}
	return p, nil
}

// report prints err on standard error, an input named as its flag.
func report(env Env, err error) error {
	var ie *engine.InputError
	if errors.As(err, &ie) {
		ie.As = flagName(ie.Input)
	}
	fmt.Fprintln(env.Stderr, "error: "+safetext.Line(err.Error()))
	return err
}

// logger prints plain lines: results to w, everything else to errw. Every
// message may carry registry text: it is made one line with no control
// character (safetext.Line), so that it can neither erase nor repaint what
// the terminal shows.
type logger struct {
	w, errw io.Writer
}

func (l *logger) Group(string)       {}
func (l *logger) EndGroup()          {}
func (l *logger) Info(msg string)    { fmt.Fprintln(l.w, safetext.Line(msg)) }
func (l *logger) Notice(msg string)  { fmt.Fprintln(l.errw, "notice: "+safetext.Line(msg)) }
func (l *logger) Warning(msg string) { fmt.Fprintln(l.errw, "warning: "+safetext.Line(msg)) }
func (l *logger) Error(msg string)   { fmt.Fprintln(l.errw, "error: "+safetext.Line(msg)) }
