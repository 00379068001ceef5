package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/limits"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/referrers"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// Logger receives what a run has to say. The front doors decide how it
// looks (workflow commands or plain lines).
type Logger interface {
	Group(title string)
	EndGroup()
	Info(msg string)
	Notice(msg string)
	Warning(msg string)
	Error(msg string)
}

// Deps are the run's side effects, injected so that tests run in parallel.
type Deps struct {
	// Transport is the base HTTP transport; nil means the default.
	Transport http.RoundTripper
	// Keychain is consulted after the inputs' credentials; nil means
	// anonymous.
	Keychain  authn.Keychain
	Log       Logger
	UserAgent string
	// Words words hints; nil leaves them out.
	Words Words
}

// Result is what happened to one image.
type Result struct {
	Source string
	// Target is where the result is: the target tag, or repository@digest
	// when a digest source is pushed by digest. TargetRepository is its
	// repository, for the image output.
	Target           string
	TargetRepository string
	PreviousDigest   string
	Digest           string
	Changed          bool
	// Before and After are the image's platform, or an index's image
	// children's platforms in index order.
	Before, After []platform.Platform
	// Findings are what check mode found wrong, one per image or child,
	// worded by the front door (Deps.Words).
	Findings []string
	// Referrers are what refers to the digests that changed (the image's,
	// or an index's and its changed children's), found before or while
	// writing.
	Referrers []referrers.Referrer
	// DryRun says nothing was written: Changed is what a run would change.
	DryRun bool
	// ByID says the image output names the image by its ID alone:
	// docker-daemon:<id> for an image of the engine a line named by its
	// ID, as that line would name the result.
	ByID bool
	// Err is why the image failed. A *WrittenError means the target was
	// written all the same: the digests above say what it holds.
	Err error
}

// Image is the image output: TargetRepository@Digest, or with ByID the
// transport and the digest alone.
func (r Result) Image() string {
	if r.ByID {
		return r.TargetRepository + ":" + r.Digest
	}
	return r.TargetRepository + "@" + r.Digest
}

// Written reports whether the target was written although r failed.
func (r Result) Written() bool {
	var we *WrittenError
	return errors.As(r.Err, &we)
}

// Platforms joins platforms as the platform output does: "," between
// an index's children.
func Platforms(ps []platform.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// DisplayPlatforms joins platforms for logs, "(none)" and "?" included.
func DisplayPlatforms(ps []platform.Platform) string {
	if len(ps) == 0 {
		return platform.Platform{}.Display()
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Display()
	}
	return strings.Join(s, ",")
}

// Run processes every job of cfg, with the tags its patterns match, and
// returns one result each, in order. Tags sharing a digest are worked
// once; images are worked concurrently, up to cfg.Concurrency, and each
// one's log is held back and printed in order, so that groups never
// interleave. The error is a pattern that could not be expanded: then
// nothing was read or written.
//
// When ctx is cancelled (SIGINT, SIGTERM) no new image is started, and
// requests in flight get a few seconds to finish (see withGrace): every
// image still gets a result, which says what its tag holds.
func Run(ctx context.Context, cfg *Config, deps Deps) (*Outcome, error) {
	stop := ctx
	ctx, release := withGrace(stop)
	defer release()
	scrub := newScrubber(cfg.Creds)
	deps.Log = scrubLogger{Logger: deps.Log, s: scrub}
	for _, n := range cfg.Notices {
		deps.Log.Notice(n)
	}
	// Opening, listing and grouping only read: they stop with the signal.
	clients := openClients(stop, cfg, deps, scrub.tokens.add)
	if len(cfg.Local) > 0 {
		local, err := mixPatterns(stop, cfg, deps, clients)
		if err != nil {
			return nil, scrub.err(err)
		}
		o := runLocal(ctx, cfg, deps, clients, scrub, local)
		warnInterrupted(deps.Log, stop)
		return o, nil
	}
	jobs, err := expand(stop, cfg, deps, clients)
	if err != nil {
		return nil, scrub.err(err)
	}
	us := group(stop, cfg, clients, jobs)
	throttled := func() int { return throttles(clients) }
	rp := newReplay(len(jobs), deps.Log, throttled)
	start(ctx, cfg, deps, clients, jobs, us, scrub, rp)
	results := rp.print(deps.Log, cfg.Mode, jobs)
	warnInterrupted(deps.Log, stop)
	return outcome(cfg, deps.Log, us, jobs, results, throttled()), nil
}

// start works the units us in the background, up to cfg.Concurrency at
// once, and hands each job's result, scrubbed, to rp as it is done.
func start(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, jobs []Job, us []unit, scrub scrubber, rp *replay) {
	go limits.All(len(us), cfg.Concurrency, func(i int) {
		u := us[i]
		for k, w := range workUnit(ctx, cfg, deps, clients, jobs, u) {
			r := w.Result
			r.Err = scrub.err(r.Err)
			for f := range r.Findings {
				r.Findings[f] = scrub.text(r.Findings[f])
			}
			rp.done(u.jobs[k], r, w.log)
		}
	})
}

// outcome is the run's outcome once every result is in: what the
// registries' 429s did and, in plan mode, the matrix.
func outcome(cfg *Config, log Logger, us []unit, jobs []Job, results []Result, throttled int) *Outcome {
	out := &Outcome{Results: results, Throttled: throttled, mode: cfg.Mode}
	if out.Throttled > 0 {
		log.Info(fmt.Sprintf("the registries answered 429 Too Many Requests %d times: the run lowered its requests in flight to them for a while", out.Throttled))
	}
	if cfg.Mode == Plan {
		out.Matrix = matrix(us, jobs, results, cfg.Shards, log)
	}
	return out
}

// runJob works one job, from m when its manifest was read already, and
// returns the plan it made, if any, for the tags that share it.
//
// writing, when not nil, is called when the job is about to write.
func runJob(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, j Job, m *store.Manifest, writing func()) (Result, *plan.Plan) {
	r := Result{Source: j.Source.String(), Target: j.Target.String(), TargetRepository: j.Target.Repo.Name(), DryRun: cfg.DryRun && cfg.Mode == Set}
	from, err := openRepo(clients, j.Source.Repo)
	if err != nil {
		r.Err = describe(err, j.Source, false, cfg.Creds, deps.Words)
		return r, nil
	}
	to, err := openRepo(clients, j.Target.Repo)
	if err != nil {
		r.Err = describe(err, j.Target, true, cfg.Creds, deps.Words)
		return r, nil
	}
	// Retries go to this image's log, which is printed in its group.
	ctx = withRetryLog(ctx, func(f string, a ...any) { deps.Log.Info(j.Source.String() + ": " + fmt.Sprintf(f, a...)) })
	// Only a write to another repository needs every blob and child listed.
	copyAll := cfg.Mode == Set && !cfg.DryRun && !SameRepository(j.Source, j.Target)
	proceed := targetGate(ctx, cfg, deps.Log, j, to, writing)
	p, err := read(ctx, from, j.Source.Identifier(), j.Source.String(), m, cfg, copyAll, deps.Log)
	if err != nil {
		r.Err = describe(err, j.Source, false, cfg.Creds, deps.Words)
		return r, nil
	}
	r.PreviousDigest, r.Digest = p.PreviousDigest.String(), p.Digest.String()
	if j.Target.IsDigest() {
		r.Target = r.TargetRepository + "@" + r.Digest
	}
	r.Before, r.After, r.Changed = p.Before, p.After, p.Changed
	if cfg.Mode == Check {
		r.Findings, r.Err = findings(j.Source.String(), p.Findings, deps.Words)
		return r, p
	}
	if cfg.Mode == Plan {
		return r, p
	}
	warnStale(deps.Log, deps.Words, j, p, cfg.DryRun)
	if !p.Changed && sameTarget(j) {
		return r, p
	}
	r.Referrers, r.Err = write(ctx, cfg, deps, from, to, j, p, copyAll, func() bool { return proceed(p) })
	if r.Err == nil && !cfg.DryRun {
		noticeUntagged(deps.Log, deps.Words, j, r.Digest)
	}
	return r, p
}

// warnStale names the attestations of p that describe a child's previous
// digest, which the change leaves behind; the front door words what to do
// (HintStaleAttestation).
func warnStale(log Logger, words Words, j Job, p *plan.Plan, dryRun bool) {
	carry := "it does not carry over"
	if dryRun {
		carry = "dry run: it would not carry over"
	}
	todo := words.Hints.Words(HintStaleAttestation, j.Target.Repo.Name())
	for _, s := range p.Stale {
		log.Warning(fmt.Sprintf("%s: %s, the previous digest; %s%s", j.Source, s, carry, todo))
	}
}

// targetGate starts resolving j's target when it is a tag other than the
// source, alongside the reads, and returns what write asks just before
// writing p: false when the target holds p's result already (a rerun:
// nothing is written again). writing, when not nil, is called first.
func targetGate(ctx context.Context, cfg *Config, log Logger, j Job, to store.Repository, writing func()) func(p *plan.Plan) bool {
	var target *tagCheck
	if !j.Target.IsDigest() && cfg.Mode == Set && !cfg.DryRun && !sameTarget(j) {
		target = checkTag(ctx, to, j.Target)
	}
	return func(p *plan.Plan) bool {
		if writing != nil {
			writing()
		}
		if target == nil {
			return true
		}
		if done, _ := target.settle(v1.Hash{}, p.Digest); done {
			log.Info(fmt.Sprintf("%s holds %s already: nothing to write", j.Target, p.Digest))
			return false
		}
		return true
	}
}

// findings words check mode's findings about ref, each naming what it is
// about, and the error that lists them naming ref once.
func findings(ref string, fs []plan.Finding, words Words) ([]string, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	lines := make([]string, len(fs))
	short := make([]string, len(fs))
	for i, f := range fs {
		what := f.Problem
		if w := words.FixText(f.Fix); w != "" {
			what += "; " + w
		}
		lines[i] = f.Subject(ref) + ": " + what
		short[i] = what
		if f.Child != "" {
			short[i] = "child " + f.Child + ": " + what
		}
	}
	return lines, fmt.Errorf("%s: check failed: %s", ref, strings.Join(short, "; "))
}

// write applies p (unless dry-run) while it looks up what refers to the
// digests that change: the lookups do not depend on the writes. With
// referrers fail they come first, and a referrer found writes nothing. It
// returns the referrers found. proceed, asked just before writing, may
// call the writes off: the target holds the result already.
func write(ctx context.Context, cfg *Config, deps Deps, src, dst store.Repository, j Job, p *plan.Plan, copyAll bool, proceed func() bool) ([]referrers.Referrer, error) {
	subs := changedSubjects(p)
	// Carried artifacts stay in the repository they are in.
	carry := cfg.Referrers == CarryReferrers && SameRepository(j.Source, j.Target)
	var l lookups
	// The look-ups report in l, never an error: waiting for them is all.
	var lookUps sync.WaitGroup
	lookUps.Go(func() {
		listed := j.Listed
		if listed == nil && len(subs) > 0 {
			// One listing answers the fallback and cosign tags of every
			// digest that changes, 4 look-ups each; a registry that will
			// not list leaves them to be asked one by one.
			if ts, err := src.Tags(ctx); err == nil {
				listed = tagSet(ts)
			}
		}
		l = lookUp(ctx, listedSource{referrers.Of(src), listed}, subs, carry)
	})
	if cfg.Referrers == FailOnReferrers {
		lookUps.Wait()
		if err := l.errOrphans(); err != nil {
			warnLookups(deps.Log, j.Source.String(), l.failed)
			noticeForeign(deps.Log, j.Source.String(), l)
			listReferrers(deps.Log, l.all())
			return l.all(), describe(err, j.Source, false, cfg.Creds, deps.Words)
		}
	}
	if !cfg.DryRun {
		if err := interrupted(ctx, "written"); err != nil {
			lookUps.Wait()
			return l.all(), err
		}
	}
	if !cfg.DryRun && proceed() {
		if err := applyPlan(ctx, deps, src, dst, j, p, copyAll); err != nil {
			lookUps.Wait()
			return l.all(), writeError(err, cfg, deps, j)
		}
	}
	lookUps.Wait()
	warnLookups(deps.Log, j.Source.String(), l.failed)
	noticeForeign(deps.Log, j.Source.String(), l)
	var carryErr error
	if carry {
		carryErr = carryError(j, p, carryAll(ctx, deps, referrers.Of(dst), j.Source.String(), l, cfg.DryRun))
	}
	for _, s := range l.subjects {
		warnOrphans(deps.Log, j.Source.String(), j.Target.Repo.Name(), s, cfg.DryRun)
	}
	return l.all(), carryErr
}

// writeError describes a failed write, unless it is a *WrittenError,
// which names the target and what it holds: the result keeps the digests
// written.
func writeError(err error, cfg *Config, deps Deps, j Job) error {
	var we *WrittenError
	if errors.As(err, &we) {
		return we
	}
	var me *MovedError
	if errors.As(err, &me) {
		return me
	}
	var ie *InterruptedError
	if errors.As(err, &ie) {
		return fmt.Errorf("%s: %w", j.Target, ie)
	}
	return describe(err, j.Target, true, cfg.Creds, deps.Words)
}

// sameTarget reports whether the result goes back where it was read from.
func sameTarget(j Job) bool { return j.Source.String() == j.Target.String() }
