package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/set-image-platform/set-image-platform/internal/limits"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/store"
	"github.com/set-image-platform/set-image-platform/internal/sweep"
)

// Outcome is what a run did: a result per image, in order, and what the
// run met on the way.
type Outcome struct {
	Results []Result
	// Matrix is, in plan mode, the images set would change (or fail on)
	// as a JSON array of newline-separated lists, for strategy.matrix.
	Matrix string
	// Throttled counts the registries' 429 Too Many Requests answers.
	Throttled int
	mode      Mode
}

// Failed returns ErrFailed when an image failed; a plan never fails on
// its images, only on its input.
func (o *Outcome) Failed() error {
	if o.mode == Plan {
		return nil
	}
	return Failed(o.Results)
}

// expand returns the jobs of cfg with the tags of its patterns in their
// places: one listing per repository. A tag named twice is worked once.
func expand(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult) ([]Job, error) {
	if len(cfg.Patterns) == 0 {
		return cfg.Jobs, nil
	}
	tags, listed, err := expandTags(ctx, cfg, deps, clients)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, j := range cfg.Jobs {
		seen[refKey(j.Source)] = true
	}
	var jobs []Job
	next := 0
	for i, j := range cfg.Jobs {
		for ; next < len(cfg.Patterns) && cfg.Patterns[next].At == i; next++ {
			jobs = appendTags(jobs, tags[next], seen)
		}
		jobs = append(jobs, j)
	}
	for ; next < len(cfg.Patterns); next++ {
		jobs = appendTags(jobs, tags[next], seen)
	}
	for i := range jobs {
		jobs[i].Listed = listed[jobs[i].Source.Repo.Name()]
	}
	return jobs, nil
}

// expandTags lists the tags each pattern of cfg matches, in pattern
// order, and each repository's listing (repository -> its tags). A
// pattern that matches nothing, or whose repository cannot be listed, is
// an input error naming it.
func expandTags(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult) ([][]store.Ref, map[string]map[string]bool, error) {
	ps := make([]sweep.Pattern, len(cfg.Patterns))
	for i, p := range cfg.Patterns {
		ps[i] = p.Pattern
	}
	listed := map[string]map[string]bool{}
	tags, err := sweep.Expand(ctx, ps, func(ctx context.Context, repo store.RepoRef) ([]string, error) {
		r, err := openRepo(clients, repo)
		if err != nil {
			return nil, describe(err, repo.Tag(""), false, cfg.Creds, deps.Words)
		}
		ts, err := r.Tags(ctx)
		listed[repo.Name()] = tagSet(ts)
		return ts, err
	})
	if err != nil {
		ie := &InputError{Input: "image", Err: err}
		var nm *sweep.NoMatchError
		if errors.As(err, &nm) {
			ie.Arg = nm.Pattern
		}
		return nil, nil, ie
	}
	return tags, listed, nil
}

// tagSet holds the tags of a listing.
func tagSet(tags []string) map[string]bool {
	set := make(map[string]bool, len(tags))
	for _, t := range tags {
		set[t] = true
	}
	return set
}

func appendTags(jobs []Job, tags []store.Ref, seen map[string]bool) []Job {
	for _, t := range tags {
		if !seen[refKey(t)] {
			seen[refKey(t)] = true
			jobs = append(jobs, Job{Source: t, Target: t})
		}
	}
	return jobs
}

// unit is the jobs worked as one: tags of a repository that share a
// digest, the first leading. m is their manifest, read already.
type unit struct {
	jobs []int
	m    *store.Manifest
	err  error // reading the manifest failed
}

// group reads the manifest of every job written back where it is read
// (not in check mode, whose findings name each tag) and groups the jobs
// by repository and digest. A job whose manifest could not be read is a
// unit of its own, failed with the reason.
func group(ctx context.Context, cfg *Config, clients map[string]clientResult, jobs []Job) []unit {
	ms := make([]*store.Manifest, len(jobs))
	errs := make([]error, len(jobs))
	if cfg.Mode != Check {
		// A manifest read is one request: as many at once as the
		// registry client lets through.
		limits.All(len(jobs), limits.Requests(cfg.Concurrency), func(i int) {
			j := jobs[i]
			if !sameTarget(j) {
				return
			}
			if src, err := openRepo(clients, j.Source.Repo); err == nil {
				ms[i], errs[i] = src.GetManifest(ctx, j.Source.Identifier())
			}
		})
	}
	idx := make([]int, len(jobs))
	for i := range idx {
		idx[i] = i
	}
	groups := sweep.ByDigest(idx, func(i int) string {
		if ms[i] == nil {
			return ""
		}
		return jobs[i].Source.Repo.Name() + "@" + ms[i].Digest.String()
	})
	us := make([]unit, len(groups))
	for k, g := range groups {
		us[k] = unit{jobs: g.Items, m: ms[g.Items[0]], err: errs[g.Items[0]]}
	}
	return us
}

// worked is a job's result and its held-back log.
type worked struct {
	Result
	log *bufferLogger
}

// workUnit works the lead job of u, then points each other tag at what
// the lead's tag now holds: one PUT of the same manifest and its
// read-back per tag.
func workUnit(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, jobs []Job, u unit) []worked {
	out := make([]worked, len(u.jobs))
	for k := range out {
		out[k].log = &bufferLogger{}
	}
	if err := interrupted(ctx, "started"); err != nil {
		for k, i := range u.jobs {
			j := jobs[i]
			out[k].Result = Result{Source: j.Source.String(), Target: j.Target.String(), TargetRepository: j.Target.Repo.Name(), Err: fmt.Errorf("%s: %w", j.Source, err)}
		}
		return out
	}
	if u.err != nil {
		j := jobs[u.jobs[0]]
		out[0].Result = Result{Source: j.Source.String(), Target: j.Target.String(), TargetRepository: j.Target.Repo.Name(),
			Err: describe(fmt.Errorf("reading manifest: %w", u.err), j.Source, false, cfg.Creds, deps.Words)}
		return out
	}
	jd := deps
	jd.Log = out[0].log
	// The other tags are resolved again while the lead writes: each is
	// written only if it still holds the digest the plan was made from.
	checks := make([]*tagCheck, len(u.jobs))
	lead, p := runJob(ctx, cfg, jd, clients, jobs[u.jobs[0]], u.m, func() {
		for k, i := range u.jobs[1:] {
			checks[k+1] = startCheck(ctx, clients, jobs[i])
		}
	})
	out[0].Result = lead
	limits.All(len(u.jobs)-1, limits.PerStage, func(k int) {
		out[k+1].Result = follow(ctx, cfg, deps, clients, jobs[u.jobs[k+1]], lead, p, checks[k+1])
	})
	return out
}

// startCheck starts resolving j's target tag again; nil for a digest.
func startCheck(ctx context.Context, clients map[string]clientResult, j Job) *tagCheck {
	to, err := openRepo(clients, j.Target.Repo)
	if j.Target.IsDigest() || err != nil {
		// A client that could not be opened failed the lead already.
		return nil
	}
	return checkTag(ctx, to, j.Target)
}

// follow is the result for j, a tag sharing its digest with lead's; check
// resolves j's tag again (started with the lead's writes, or now when nil).
func follow(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, j Job, lead Result, p *plan.Plan, check *tagCheck) Result {
	r := lead
	r.Source, r.Target, r.TargetRepository = j.Source.String(), j.Target.String(), j.Target.Repo.Name()
	if lead.Err != nil && !lead.Written() {
		r.Err = fmt.Errorf("%s has the digest of %s, which failed: %w", j.Source, lead.Source, lead.Err)
		return r
	}
	r.Err = nil
	if cfg.Mode != Set || cfg.DryRun || p == nil || !p.Changed {
		return r
	}
	w, err := p.Writes(false)
	if check == nil {
		check = startCheck(ctx, clients, j)
	}
	if err == nil {
		err = interrupted(ctx, "written")
	}
	if err == nil && check != nil {
		var done bool
		if done, err = check.settle(p.PreviousDigest, w.Top.Digest); done {
			return r
		}
	}
	if err == nil {
		var to store.Repository
		if to, err = openRepo(clients, j.Target.Repo); err == nil {
			err = pushTop(ctx, to, j, w)
		}
	}
	if err != nil {
		r.Err = writeError(err, cfg, deps, j)
	}
	return r
}

// throttles sums the 429s the run's registries answered.
func throttles(clients map[string]clientResult) int {
	n := 0
	for _, c := range clients {
		if c.err == nil {
			n += c.c.Throttled()
		}
	}
	return n
}

// matrix splits the units set would change or fail on into at most shards
// lists balanced by work, a unit's tags in one list, and says in log what
// the output's limit made it do.
func matrix(us []unit, jobs []Job, results []Result, shards int, log Logger) string {
	var work []sweep.Work
	for _, u := range us {
		lead := results[u.jobs[0]]
		if !lead.Changed && lead.Err == nil {
			continue
		}
		w := sweep.Work{Cost: sweep.Cost(len(u.jobs))}
		for _, i := range u.jobs {
			w.Refs = append(w.Refs, jobs[i].Source.String())
		}
		work = append(work, w)
	}
	return matrixOf(work, shards, log)
}

// matrixOf splits work into at most shards lists, and says in log what
// the output's limit made it do.
func matrixOf(work []sweep.Work, shards int, log Logger) string {
	m, compact, omitted := sweep.Matrix(sweep.Shards(work, shards), sweep.OutputLimit)
	if compact {
		log.Info("the matrix writes a tag that follows a reference of its repository as :tag alone, which the image input reads as that repository's tag, to stay under GitHub's 1 MB output limit")
	}
	if omitted > 0 {
		log.Warning(fmt.Sprintf("the matrix leaves out %d images that set would change or fail on, to stay under GitHub's 1 MB output limit: results-file lists every image; run the plan again after the matrix jobs to get the rest", omitted))
	}
	return m
}
