package engine

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/limits"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/store"
	"github.com/set-image-platform/set-image-platform/internal/sweep"
)

// Mode is what the run does to each image.
type Mode int

const (
	// Set applies the platform.
	Set Mode = iota
	// Check changes nothing and fails when the platform is missing or wrong.
	Check
	// Plan changes nothing and never fails on findings: it splits the
	// images Set would change into lists for a matrix of jobs.
	Plan
)

// ParseMode parses the mode input: set, check or plan, in any letter
// case; empty is set. Both front doors read the mode through it (the
// command line's --check and --plan name a mode each).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "set":
		return Set, nil
	case "check":
		return Check, nil
	case "plan":
		return Plan, nil
	}
	return Set, fmt.Errorf("unknown mode %q: want set, check or plan", s)
}

func (m Mode) String() string {
	switch m {
	case Check:
		return "check"
	case Plan:
		return "plan"
	}
	return "set"
}

// Input is what a front door read, before validation.
type Input struct {
	Images      []string
	Platform    string
	Tag         string
	Mode        Mode
	Overwrite   bool
	DryRun      bool
	Insecure    bool
	Username    string
	Password    string
	GitHubToken string
	GitHubActor string
	// Referrers is warn, fail or carry; empty is warn.
	Referrers string
	// StallTimeout bounds a request without progress; zero is the default.
	StallTimeout time.Duration
	// RegistryBudget bounds the time a registry may go with no request
	// succeeding; zero is the default.
	RegistryBudget time.Duration
	// Concurrency caps the images worked at once; Shards the lists of a
	// plan's matrix. Zero is the default; ParseCount reads them.
	Concurrency, Shards int
	// WorkDir is the absolute directory a relative layout or archive
	// path is resolved against: the workspace in the action, the working
	// directory on the command line. The front door passes it, so that
	// nothing below reads the environment.
	WorkDir string
	// DockerHost and DockerTLSVerify are DOCKER_HOST and
	// DOCKER_TLS_VERIFY, read by the front door (FromEnv): a
	// docker-daemon: line reaches the engine there.
	DockerHost, DockerTLSVerify string
}

// Config is a validated Input. Nothing after it reads the environment.
type Config struct {
	Jobs []Job
	// Patterns are the image lines with a tag pattern, expanded into jobs
	// when the run has its clients.
	Patterns []Pattern
	// Local are the image lines naming an OCI layout or an archive
	// (oci:, oci-archive:, docker-archive:, docker-daemon:), with the
	// run's registry lines among them when there are any (LocalJob.Job),
	// or the one registry image a layout tag saves: Jobs and Patterns are
	// then empty.
	Local []LocalJob
	// Concurrency caps the images worked at once (at least 1); Shards the
	// lists of a plan's matrix (1 to sweep.MaxShards).
	Concurrency, Shards int
	// Platform is the requested platform; zero when none was given or Auto.
	Platform platform.Platform
	Auto     bool
	Mode     Mode
	// Notices say how the input was normalized.
	Notices   []string
	Overwrite bool
	DryRun    bool
	Insecure  bool
	Creds     Credentials
	Referrers ReferrerPolicy
	// StallTimeout bounds a request without progress; zero is the default.
	StallTimeout time.Duration
	// RegistryBudget bounds the time a registry may go with no request
	// succeeding; zero is the default.
	RegistryBudget time.Duration
	// Daemon is the Docker engine's client when a line names
	// docker-daemon:; nil otherwise.
	Daemon *daemon.Client
}

// Credentials are what the inputs give for authentication.
type Credentials struct {
	// Registry is the one registry where Username and Password apply: the
	// target's when tag names another registry, else the images'. They go
	// nowhere else, so that no other registry of a run can collect them.
	Registry    string
	Username    string
	Password    string
	GitHubToken string
	GitHubActor string
}

// appliesTo reports whether Username and Password are for registry.
func (c Credentials) appliesTo(registry string) bool {
	return c.Username != "" && sameRegistry(c.Registry, registry)
}

// sameRegistry compares registry hosts, which are case-insensitive.
func sameRegistry(a, b string) bool { return strings.EqualFold(a, b) }

// Job is one image: where it is read and where the result goes.
type Job struct {
	Source store.Ref
	// Target is a tag, or a digest when a digest source is pushed by
	// digest only (the digest part is then the source's and is replaced
	// by the new one).
	Target store.Ref
	// Listed holds every tag of the source repository when a tag pattern
	// listed them at the start of the run, else nil: tag look-ups of
	// referrers need no request for a tag that is not there.
	Listed map[string]bool
}

// Pattern is an image line with a tag pattern, and where its tags go
// among the jobs: before Jobs[At].
type Pattern struct {
	sweep.Pattern
	At int
	// locals is how many layout lines came before it: where its tags go
	// among them in a run with layouts.
	locals int
}

// InputError is a bad input, found before any request.
type InputError struct {
	Input string
	Err   error
	// As is how the front door names the input ("--tag", Words.Input);
	// empty says "input NAME".
	As string
	// Arg is the one image line the error is about, if any: a front door
	// that names the input by As names that line, not a placeholder.
	Arg string
}

func (e *InputError) Error() string {
	switch {
	case e.As != "" && e.Arg != "" && strings.Contains(e.Err.Error(), strconv.Quote(e.Arg)):
		// The message names the argument itself.
		return e.Err.Error()
	case e.As != "" && e.Arg != "":
		return fmt.Sprintf("%s %q: %v", e.As, e.Arg, e.Err)
	case e.As != "":
		return fmt.Sprintf("%s: %v", e.As, e.Err)
	}
	return fmt.Sprintf("input %s: %v", e.Input, e.Err)
}
func (e *InputError) Unwrap() error { return e.Err }

// tagRE is the grammar of a bare tag in the distribution spec.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// NewConfig validates in and resolves every image's target.
func NewConfig(in Input) (*Config, error) {
	c := &Config{Mode: in.Mode, Overwrite: in.Overwrite, DryRun: in.DryRun, Insecure: in.Insecure, StallTimeout: in.StallTimeout, RegistryBudget: in.RegistryBudget,
		Concurrency: cmp.Or(in.Concurrency, limits.DefaultImages), Shards: cmp.Or(in.Shards, sweep.DefaultShards)}
	if err := c.checkCounts(); err != nil {
		return nil, err
	}
	opts := nameOptions(in.Insecure)
	refs, lines, err := c.parseImages(in.Images, in.WorkDir, in.Insecure)
	if err != nil {
		return nil, err
	}
	if err := c.parsePlatform(in.Platform); err != nil {
		return nil, err
	}
	if c.Referrers, err = ParseReferrerPolicy(in.Referrers); err != nil {
		return nil, err
	}
	if len(c.Local) > 0 || isLocal(strings.TrimSpace(in.Tag)) {
		return c, c.checkLocal(in, refs, lines, opts)
	}
	t, err := parseTag(in.Tag, len(refs)+len(c.Patterns), opts)
	if err != nil {
		return nil, err
	}
	if t.tag != "" && len(c.Patterns) > 0 {
		return nil, &InputError{Input: "tag", Err: fmt.Errorf("%q cannot go with the tag pattern %q: each matching tag is fixed in place; leave tag empty", t.tag, c.Patterns[0].Line)}
	}
	if c.Jobs, err = t.jobs(refs, lines); err != nil {
		return nil, err
	}
	all := refs
	for _, p := range c.Patterns {
		all = append(all, p.Repository.Tag(""))
	}
	if c.Creds, err = credentials(in, all, t); err != nil {
		return nil, err
	}
	return c, nil
}

// checkCounts checks the counts the inputs give, within their bounds.
func (c *Config) checkCounts() error {
	if c.Concurrency < 1 || c.Concurrency > limits.MaxImages {
		return &InputError{Input: "concurrency", Err: fmt.Errorf("%d images at once: %w", c.Concurrency, errConcurrency)}
	}
	if c.Shards < 1 || c.Shards > sweep.MaxShards {
		return &InputError{Input: "shards", Err: fmt.Errorf("%d lists: %w", c.Shards, errShards)}
	}
	return nil
}

// parseImages parses the image lines, skipping blank ones and noting
// repeats; lines maps each reference kept to the line that named it.
func (c *Config) parseImages(images []string, wd string, insecure bool) ([]store.Ref, map[string]string, error) {
	var refs []store.Ref
	seen := map[string]string{} // normalized source -> the line that named it first
	// repo is the repository of the last reference line, for ":tag"
	// lines (a plan's matrix writes a long list of one repository's tags
	// so, to stay under GitHub's output limit).
	var repo string
	for _, line := range images {
		s := strings.TrimSpace(line)
		if s == "" {
			continue
		}
		if tag, ok := strings.CutPrefix(s, ":"); ok {
			if repo == "" {
				return nil, nil, &InputError{Input: "image", Err: fmt.Errorf("line %q names a tag alone, but no image reference comes before it to take the repository from: give a full reference such as ghcr.io/owner/name:tag first", s)}
			}
			s = repo + ":" + tag
		}
		if isLocal(s) {
			if err := c.parseLocal(s, wd, len(refs), seen); err != nil {
				return nil, nil, err
			}
			continue
		}
		if imageref.IsTagPattern(s) {
			p, err := imageref.ParsePattern(s, nameOptions(insecure)...)
			if err != nil {
				return nil, nil, &InputError{Input: "image", Err: err, Arg: s}
			}
			c.Patterns = append(c.Patterns, Pattern{Pattern: p, At: len(refs), locals: len(c.Local)})
			continue
		}
		ref, err := parseRef(s, insecure)
		if err != nil {
			return nil, nil, &InputError{Input: "image", Err: fmt.Errorf("parsing reference %q: %w", s, err), Arg: s}
		}
		repo = ref.Repo.Name()
		// The same image twice would be worked twice at once, racing to
		// write the same tag; once is what was meant.
		if first, ok := seen[refKey(ref)]; ok {
			c.Notices = append(c.Notices, fmt.Sprintf("image %q names the same image as %q: it is worked once", s, first))
			continue
		}
		seen[refKey(ref)] = s
		refs = append(refs, ref)
	}
	if len(refs) == 0 && len(c.Patterns) == 0 && len(c.Local) == 0 {
		return nil, nil, &InputError{Input: "image", Err: errors.New("no image given: set it to a reference such as ghcr.io/owner/name:tag")}
	}
	return refs, seen, nil
}

// parsePlatform reads the platform input: auto, a platform, or nothing.
func (c *Config) parsePlatform(s string) error {
	switch p := strings.TrimSpace(s); {
	case strings.EqualFold(p, "auto"):
		c.Auto = true
	case p != "":
		pl, notices, err := platform.Parse(p)
		if err != nil {
			return &InputError{Input: "platform", Err: err}
		}
		c.Platform = pl
		c.Notices = append(c.Notices, notices...)
	}
	return nil
}

// jobs resolves each image's target, refusing two images written to one tag.
func (t tagInput) jobs(refs []store.Ref, lines map[string]string) ([]Job, error) {
	var jobs []Job
	writers := map[string]string{} // normalized target tag -> the line whose image is written there
	for _, ref := range refs {
		j := Job{Source: ref, Target: ref}
		switch {
		case t.bare:
			j.Target = ref.Repo.Tag(t.tag)
		case t.tag != "":
			j.Target = t.target
		}
		// A tag holds one image: two sources written to it at once leave
		// one of them there and report two digests for it. A digest
		// target moves no tag, so it collides with nothing.
		if tag := j.Target; !tag.IsDigest() {
			line := lines[refKey(ref)]
			if other, ok := writers[refKey(tag)]; ok {
				return nil, &InputError{Input: "tag", Err: fmt.Errorf("images %q and %q would both be written to %s, which can hold only one of them: give them different tags, or work them in separate runs", other, line, tag)}
			}
			writers[refKey(tag)] = line
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// credentials checks username and password go together and decides the
// one registry they are for.
func credentials(in Input, refs []store.Ref, t tagInput) (Credentials, error) {
	if (in.Username == "") != (in.Password == "") {
		missing := "password"
		if in.Username == "" {
			missing = "username"
		}
		return Credentials{}, &InputError{Input: missing, Err: errors.New("username and password go together: set both, or neither")}
	}
	c := Credentials{
		Username:    in.Username,
		Password:    in.Password,
		GitHubToken: in.GitHubToken,
		GitHubActor: in.GitHubActor,
	}
	switch regs := registries(refs); {
	case in.Username == "":
	case t.tag != "" && !t.bare:
		// One image: its target's registry is where a password is needed
		// (to push), whichever registry the source is on.
		c.Registry = t.target.Repo.Host
	case len(regs) > 1:
		return Credentials{}, &InputError{Input: "username", Err: fmt.Errorf("the images are on %d registries (%s), and username and password go to one registry only: list the images of each registry in a run of its own", len(regs), strings.Join(regs, ", "))}
	default:
		c.Registry = regs[0]
	}
	return c, nil
}

// refKey is ref normalized, for comparing references: the registry as
// go-containerregistry resolves it (docker.io -> index.docker.io), in
// lower case; the repository; and the tag (latest when none was given) or
// the digest alone (a tag next to a digest is not what is read).
func refKey(ref store.Ref) string {
	sep := ":"
	if ref.IsDigest() {
		sep = "@"
	}
	return strings.ToLower(ref.Repo.Host) + "/" + ref.Repo.Path + sep + ref.Identifier()
}

// registries returns the distinct registries of refs in order of first use.
func registries(refs []store.Ref) []string {
	var regs []string
	for _, ref := range refs {
		if !slices.ContainsFunc(regs, func(r string) bool { return sameRegistry(r, ref.Repo.Host) }) {
			regs = append(regs, ref.Repo.Host)
		}
	}
	return regs
}

// SameRepository reports whether a and b name the same repository of the
// same registry.
func SameRepository(a, b store.Ref) bool {
	return a.Repo.Name() == b.Repo.Name()
}

var (
	errAtLeastOne = errors.New("want a whole number of at least 1")
	// The cap keeps the reads in flight (twice the images at once) far
	// from overflowing, and registries from being flooded.
	errConcurrency = fmt.Errorf("want a whole number from 1 to %d", limits.MaxImages)
	errShards      = fmt.Errorf("want a whole number from 1 to %d (GitHub runs at most %d jobs of a matrix)", sweep.MaxShards, sweep.MaxShards)
)

// ParseCount reads a count input (concurrency, shards): empty is zero,
// which NewConfig takes as the default.
func ParseCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("parsing %q: %w", s, errAtLeastOne)
	}
	return n, nil
}

// StallTimeoutEnv names the environment variable, read by both front doors
// with their inputs, that sets Input.StallTimeout (a Go duration such as
// 30s). It is for networks where a minute without progress is normal, and
// for tests that provoke stalls.
const StallTimeoutEnv = "SET_IMAGE_PLATFORM_STALL_TIMEOUT"

// RegistryBudgetEnv names the environment variable, read with
// StallTimeoutEnv, that sets Input.RegistryBudget (a Go duration such as
// 30m): how long a registry may answer with no request succeeding (429s,
// 5xx, resets, stalls) before the run gives it up. It is for a registry
// known to recover slowly, and for tests.
const RegistryBudgetEnv = "SET_IMAGE_PLATFORM_REGISTRY_BUDGET"

// ParseStallTimeout parses the value of StallTimeoutEnv; empty is zero.
func ParseStallTimeout(s string) (time.Duration, error) {
	return parseDurationEnv(StallTimeoutEnv, s)
}

// parseDurationEnv parses the value s of the environment variable name,
// a positive Go duration; empty is zero.
func parseDurationEnv(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, &InputError{Input: name, Err: fmt.Errorf("parsing duration %q: want a positive Go duration such as 30s", s)}
	}
	return d, nil
}

// FromEnv reads what both front doors take from the environment with
// their inputs: GITHUB_ACTOR, for github-token, StallTimeoutEnv,
// RegistryBudgetEnv, and DOCKER_HOST for docker-daemon: lines.
func FromEnv(getenv func(string) string, in *Input) error {
	in.GitHubActor = getenv("GITHUB_ACTOR")
	in.DockerHost, in.DockerTLSVerify = getenv("DOCKER_HOST"), getenv("DOCKER_TLS_VERIFY")
	d, err := ParseStallTimeout(getenv(StallTimeoutEnv))
	if err != nil {
		return err
	}
	in.StallTimeout = d
	in.RegistryBudget, err = parseDurationEnv(RegistryBudgetEnv, getenv(RegistryBudgetEnv))
	return err
}
