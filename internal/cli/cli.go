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
	// WorkDir is the working directory, which relative layout and
	// archive paths are resolved against.
	WorkDir string
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

// options is what the command line says, before validation: ko's
// options, read by parse, checked by Validate, then executed.
type options struct {
	in            engine.Input
	check, plan   bool
	asJSON        bool
	resultsFile   string
	demo, version bool
	passwordStdin bool
}

// register declares the flags, each writing into o.
func (o *options) register(fs *flag.FlagSet) {
	in := &o.in
	fs.StringVar(&in.Platform, "platform", "", "platform to set, os/arch[/variant][:os.version]")
	fs.StringVar(&in.Tag, "tag", "", "where to push: a bare tag in the same repository, or a full reference; oci:DIR:REF or oci-archive:FILE:REF saves to a layout")
	fs.BoolVar(&o.check, "check", false, "change nothing; fail when the platform is missing or differs from --platform")
	fs.BoolVar(&o.plan, "plan", false, "change nothing; print the images a set would change as a JSON matrix of --shards lists")
	fs.Func("shards", "with --plan, at most this many lists in the matrix, 1 to 256 (default 16)", countFlag(&in.Shards))
	fs.Func("concurrency", "images worked at once, 1 to 256 (default 4)", countFlag(&in.Concurrency))
	fs.StringVar(&o.resultsFile, "results-file", "", "write the full results JSON array to this file")
	fs.BoolVar(&in.Overwrite, "overwrite", false, "replace a platform that is already present and different")
	fs.BoolVar(&in.DryRun, "dry-run", false, "compute and report the result, push nothing")
	fs.BoolVar(&in.Insecure, "insecure", false, "allow plain HTTP and unverified TLS")
	fs.StringVar(&in.Referrers, "referrers", "warn", "what to do about signatures, attestations and SBOMs of a digest that changes: warn, fail or carry")
	fs.StringVar(&in.Username, "username", "", "registry user (with --password-stdin)")
	fs.BoolVar(&o.passwordStdin, "password-stdin", false, "read the registry password from standard input")
	fs.BoolVar(&o.asJSON, "json", false, "print only the results JSON array on standard output (with --plan, the matrix)")
	fs.BoolVar(&o.demo, "demo", false, "run against a registry started on loopback with a sample image")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
}

// parse reads args into options; the images are the arguments that are
// not flags, wherever they stand.
func parse(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("set-image-platform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, examples)
	}
	images, err := parseInterspersed(fs, args)
	o.in.Images = images
	return o, fs, err
}

// jsonArray reports whether standard output must hold a results array
// whatever happens (an empty one when no image was worked on): with
// --json, even when the flags did not parse, but not with --plan, whose
// standard output is the matrix alone, once there is one.
func (o *options) jsonArray(args []string, parseErr error) bool {
	asked := o.asJSON || parseErr != nil && (slices.Contains(args, "--json") || slices.Contains(args, "-json"))
	return asked && !o.plan && !o.version && !o.demo && !errors.Is(parseErr, flag.ErrHelp)
}

// Validate settles what the flags leave to settle before the first
// request: the mode, the password from standard input, and what the
// environment adds.
func (o *options) Validate(env Env) error {
	mode := "set"
	switch {
	case o.check && o.plan:
		return errors.New("--check and --plan go separately: choose one")
	case o.check:
		mode = "check"
	case o.plan:
		mode = "plan"
	}
	var err error
	if o.in.Mode, err = engine.ParseMode(mode); err != nil {
		return err
	}
	if o.passwordStdin {
		if o.in.Password, err = readPassword(env.Stdin); err != nil {
			return err
		}
	}
	return engine.FromEnv(env.Getenv, &o.in)
}

// Run runs the command line with args (without the program name).
func Run(ctx context.Context, args []string, env Env) error {
	o, fs, err := parse(args, env.Stderr)
	results := []engine.Result{}
	if o.jsonArray(args, err) {
		defer func() { printJSON(env, results) }()
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil
	case err != nil:
		return err
	case o.version:
		fmt.Fprintln(env.Stdout, version.String())
		return nil
	case o.demo:
		return Demo(ctx, env)
	case len(o.in.Images) == 0:
		fs.Usage()
		return report(env, errors.New("no image given"))
	}
	if err := o.Validate(env); err != nil {
		return report(env, err)
	}
	o.in.WorkDir = env.WorkDir
	cfg, err := engine.NewConfig(o.in)
	if err != nil {
		return report(env, err)
	}
	return o.execute(ctx, cfg, env, &results)
}

// execute runs the engine and prints what it found; results gets the
// results for --json.
func (o *options) execute(ctx context.Context, cfg *engine.Config, env Env, results *[]engine.Result) error {
	// Standard output is for what a pipe reads: with --json or --plan the
	// logs, progress and summary lines go to standard error.
	logw := env.Stdout
	if o.asJSON || o.plan {
		logw = env.Stderr
	}
	out, err := engine.Run(ctx, cfg, engine.Deps{
		Transport: env.Transport,
		Keychain:  env.Keychain,
		Log:       &logger{w: logw, errw: env.Stderr},
		UserAgent: env.UserAgent,
		Words:     words,
	})
	if err != nil {
		return report(env, err)
	}
	*results = out.Results
	if o.resultsFile != "" {
		if err := sweep.WriteResultsFile(o.resultsFile, engine.ResultsJSON(out.Results)); err != nil {
			return report(env, err)
		}
	}
	if o.plan {
		fmt.Fprintln(env.Stdout, out.Matrix)
	}
	return out.Failed()
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
		// Reported on standard error; standard output still gets the
		// array --json promises.
		_ = report(env, err)
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
