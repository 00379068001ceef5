package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/layout"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/referrers"
	"github.com/set-image-platform/set-image-platform/internal/store"
	"github.com/set-image-platform/set-image-platform/internal/sweep"
)

// localPrefixes are the transports of images outside a registry. A line
// is read by imageref only when it starts with one of them, so that every
// registry line is parsed exactly as before.
var localPrefixes = []imageref.Transport{imageref.OCI, imageref.OCIArchive, imageref.DockerArchive, imageref.DockerDaemon}

// isLocal reports whether line names a layout, an archive or the engine.
func isLocal(line string) bool {
	prefix, _, ok := strings.Cut(line, ":")
	for _, t := range localPrefixes {
		if ok && imageref.Transport(prefix) == t {
			return true
		}
	}
	return false
}

// parseLocal parses a layout or archive line into c.Local, noting a line
// that names one already seen.
func (c *Config) parseLocal(line, wd string, at int, seen map[string]string) error {
	ref, err := imageref.Parse(line, wd)
	if err != nil {
		return &InputError{Input: "image", Err: err, Arg: line}
	}
	key := ref.String()
	if first, ok := seen[key]; ok {
		c.Notices = append(c.Notices, fmt.Sprintf("image %q names the same image as %q: it is worked once", line, first))
		return nil
	}
	seen[key] = line
	c.Local = append(c.Local, LocalJob{Source: ref, at: at})
	return nil
}

// LocalJob is one layout or archive image, and where its result goes.
type LocalJob struct {
	// Source is where the image is read: a layout, an archive, the
	// engine, or a registry image saved into a layout (Into).
	Source imageref.Reference
	// Target is the registry tag the fixed image is published to, which
	// the tag input names; nil writes it back in place.
	Target name.Reference
	// Tag is a bare tag input: the fixed image gets that name in its own
	// layout or archive, and the source's name stays where it was.
	Tag string
	// Into is the layout or archive the tag input names (oci:out:1.0):
	// the fixed image is saved there, with every blob, under Into.Ref.
	Into *imageref.Reference
	// Job is the job of a registry line in a run with layout lines: it
	// is worked as a run of registry images works it (runJob), in line
	// order with the layouts.
	Job *Job
	// at is how many registry lines came before the line: where it goes
	// among them.
	at int
}

// checkLocal refuses what a run of layouts and archives does not do,
// registry images (refs) beside them, and reads the tag input: a full
// registry reference publishes the one image there, a layout or archive
// (checkInto) saves it there.
func (c *Config) checkLocal(in Input, refs []store.Ref, lines map[string]string, opts []name.Option) error {
	t := strings.TrimSpace(in.Tag)
	if isLocal(t) {
		return c.checkInto(in, t, refs, lines)
	}
	switch {
	case t == "":
	case len(c.Patterns) > 0:
		return &InputError{Input: "tag", Err: fmt.Errorf("%q cannot go with the tag pattern %q: each matching tag is fixed in place; leave tag empty", t, c.Patterns[0].Line)}
	case slices.ContainsFunc(c.Local, func(j LocalJob) bool { return j.Source.Pattern != nil }):
		return &InputError{Input: "tag", Err: fmt.Errorf("%q cannot go with a tag pattern: each matching tag is fixed in place; leave tag empty", t)}
	case tagRE.MatchString(t):
		writers := map[string]string{} // layout path -> the line written to t in it
		for i := range c.Local {
			src := c.Local[i].Source
			if other, ok := writers[src.Path]; ok {
				return &InputError{Input: "tag", Err: fmt.Errorf("images %q and %q would both be written to %q in %s, which can name only one of them: give them different tags, or work them in separate runs", other, src.Line, t, src.GivenPath)}
			}
			writers[src.Path] = src.Line
			c.Local[i].Tag = t
		}
	default:
		tag, err := parseTag(t, len(c.Local)+len(refs), opts)
		if err != nil {
			return err
		}
		c.Local[0].Target = tag.full
	}
	if err := c.mixIn(refs, lines, t, opts); err != nil {
		return err
	}
	return c.localCreds(in)
}

// mixIn puts the registry lines (refs) of a run with layout lines among
// them, in line order, each with its job: where it goes, as tag says
// (empty or a bare tag: a full reference takes one image, which parseTag
// checked).
func (c *Config) mixIn(refs []store.Ref, lines map[string]string, tag string, opts []name.Option) error {
	if len(refs) == 0 {
		return nil
	}
	t, err := parseTag(tag, len(refs)+len(c.Local), opts)
	if err != nil {
		return err
	}
	jobs, err := t.jobs(refs, lines)
	if err != nil {
		return err
	}
	var all []LocalJob
	k := 0
	for i, j := range jobs {
		for ; k < len(c.Local) && c.Local[k].at <= i; k++ {
			all = append(all, c.Local[k])
		}
		src, err := registryLine(refs[i], lines, opts)
		if err != nil {
			return err
		}
		all = append(all, LocalJob{Source: src, Job: &j})
	}
	c.Local = append(all, c.Local[k:]...)
	return nil
}

// registryLine is the reference of ref, a registry line of a run with
// layouts (lines maps it to the line as given), as the layouts' lines are.
func registryLine(ref store.Ref, lines map[string]string, opts []name.Option) (imageref.Reference, error) {
	line := lines[refKey(ref)]
	src, err := imageref.Parse(line, "", opts...)
	if err != nil {
		return imageref.Reference{}, &InputError{Input: "image", Err: err, Arg: line}
	}
	return src, nil
}

// checkInto reads a tag naming a layout or archive, oci:PATH:REF or
// oci-archive:PATH:REF: the run's one image, from a registry (refs) or a
// layout, is saved fixed there under REF.
func (c *Config) checkInto(in Input, t string, refs []store.Ref, lines map[string]string) error {
	into, err := imageref.Parse(t, in.WorkDir)
	if err != nil {
		return &InputError{Input: "tag", Err: err}
	}
	pattern := ""
	if i := slices.IndexFunc(c.Local, func(j LocalJob) bool { return j.Source.Pattern != nil }); i >= 0 {
		pattern = c.Local[i].Source.Line
	}
	if len(c.Patterns) > 0 {
		pattern = c.Patterns[0].Line
	}
	switch {
	case pattern != "":
		return &InputError{Input: "tag", Err: fmt.Errorf("%q cannot go with the tag pattern %q: a name in a layout holds one image; without it, each matching tag is fixed in place", t, pattern)}
	case into.Pattern != nil:
		return &InputError{Input: "tag", Err: fmt.Errorf("%q is a tag pattern: a tag names one place, as in oci:out:1.0", t)}
	case into.Transport == imageref.DockerArchive:
		// A docker save tar lists layer tars by path and names images by
		// repository: a registry image's layers and manifest have no place
		// in it that docker load reads back as the same image.
		return &InputError{Input: "tag", Err: fmt.Errorf("%q: a docker-archive cannot be written as a tag: name an oci-archive: instead (docker load of Engine 25 and later reads it), or an oci: layout", t)}
	case into.Transport == imageref.DockerDaemon:
		return &InputError{Input: "tag", Err: fmt.Errorf("%q: loading into the Docker engine as a tag is not supported: name an oci: layout or an oci-archive: file instead", t)}
	case into.Ref == "":
		return &InputError{Input: "tag", Err: fmt.Errorf("%q names no image in the layout: add the name to give it, as in %s:1.0", t, t)}
	case strings.HasPrefix(into.Ref, "sha256:") || strings.HasPrefix(into.Ref, "@"):
		// The fixed image's digest is known only once it is made.
		return &InputError{Input: "tag", Err: fmt.Errorf("%q names a digest: give the image a name in the layout, as in %s:%s:1.0", t, into.Transport, into.GivenPath)}
	}
	for _, ref := range refs {
		src, err := registryLine(ref, lines, nameOptions(in.Insecure))
		if err != nil {
			return err
		}
		c.Local = append(c.Local, LocalJob{Source: src})
	}
	if len(c.Local) > 1 {
		return &InputError{Input: "tag", Err: fmt.Errorf("images %q and %q would both be written to %q, which can name only one of them: give each image a run of its own", c.Local[0].Source.Line, c.Local[1].Source.Line, t)}
	}
	c.Local[0].Into = &into
	return c.localCreds(in)
}

// localCreds checks the engine lines and reads the credentials of the
// registries the run reads from or publishes to, if any.
func (c *Config) localCreds(in Input) error {
	if err := c.checkDaemon(in); err != nil {
		return err
	}
	refs := registryRefs(c.Local)
	for _, p := range c.Patterns {
		refs = append(refs, p.Repository.Tag(""))
	}
	if len(refs) == 0 {
		// Nothing of the run reaches a registry: credentials go nowhere.
		return nil
	}
	var err error
	c.Creds, err = credentials(in, refs, tagInput{})
	return err
}

// registryRefs are the registry references of jobs: the targets they
// publish to, then the sources they save from and the registry lines'
// targets.
func registryRefs(jobs []LocalJob) []store.Ref {
	out := refsOf(targets(jobs))
	for _, j := range jobs {
		if j.Source.Transport == imageref.Registry {
			out = append(out, imageref.RefOf(j.Source.Name))
		}
		if j.Job != nil {
			out = append(out, j.Job.Target)
		}
	}
	return out
}

// targets are the registry references of jobs: where they publish.
func targets(jobs []LocalJob) []name.Reference {
	var out []name.Reference
	for _, j := range jobs {
		if j.Target != nil {
			out = append(out, j.Target)
		}
	}
	return out
}

// mixPatterns returns cfg.Local with the tags of each registry tag
// pattern of cfg among them, where the pattern's line was, each a
// registry job of its own; a tag a registry line names already is not
// added again. A pattern that cannot be expanded is an error: then
// nothing was read or written, as in a run of registry images.
func mixPatterns(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult) ([]LocalJob, error) {
	if len(cfg.Patterns) == 0 {
		return cfg.Local, nil
	}
	tags, listed, err := expandTags(ctx, cfg, deps, clients)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, j := range cfg.Local {
		if j.Job != nil {
			seen[refKey(j.Job.Source)] = true
		}
	}
	var out []LocalJob
	next := 0
	// flush adds the tags of the patterns that came before a line, which
	// before(p) says.
	flush := func(before func(p Pattern) bool) error {
		for ; next < len(cfg.Patterns) && before(cfg.Patterns[next]); next++ {
			for _, t := range tags[next] {
				if seen[refKey(t)] {
					continue
				}
				seen[refKey(t)] = true
				src, err := imageref.Parse(t.String(), "", nameOptions(cfg.Insecure)...)
				if err != nil {
					return &InputError{Input: "image", Err: err, Arg: t.String()}
				}
				out = append(out, LocalJob{Source: src, Job: &Job{Source: t, Target: t, Listed: listed[t.Repo.Name()]}})
			}
		}
		return nil
	}
	regs, locals := 0, 0 // registry and layout lines so far
	for _, j := range cfg.Local {
		var err error
		if j.Job != nil {
			err = flush(func(p Pattern) bool { return p.At <= regs })
			regs++
		} else {
			err = flush(func(p Pattern) bool { return p.locals <= locals })
			locals++
		}
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, flush(func(Pattern) bool { return true })
}

// runLocal works the layouts and archives of local one after another
// (they share the machine's disk, and a run names few of them), and the
// registry images among them, tags sharing a digest once, as a run of
// registry images works them; commits each layout written once, then
// prints each image in its group. clients are the registries they
// publish to or save from.
func runLocal(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, scrub scrubber, local []LocalJob) *Outcome {
	out := &Outcome{mode: cfg.Mode}
	ps := newPlaces()
	defer ps.close()
	jobs, errs := expandLocal(ctx, local, ps)
	reg := newRegistryUnits(ctx, cfg, clients, jobs)
	held := make([]*bufferLogger, len(jobs))
	wrote := make([]string, len(jobs)) // the path each job wrote into, if any
	for i, j := range jobs {
		held[i] = &bufferLogger{}
		jd := deps
		jd.Log = held[i]
		var r Result
		switch {
		case errs[i] != nil:
			r = Result{Source: j.Source.Line, Target: j.Source.Line, Err: errs[i]}
		case j.Job != nil:
			r, held[i] = reg.work(ctx, cfg, deps, clients, i)
		default:
			r, wrote[i] = workLocal(ctx, cfg, jd, clients, j, ps)
		}
		out.Results = append(out.Results, r)
	}
	failed := ps.commit(ctx)
	var work []sweep.Work
	unitWork := map[int]int{} // a registry unit's first job -> its work, whose list takes the unit's tags
	for i, j := range jobs {
		r := &out.Results[i]
		if err := failed[wrote[i]]; err != nil && wrote[i] != "" {
			r.Err = fmt.Errorf("%s: nothing written: %w", j.Source.Line, err)
		}
		r.Err = scrub.err(r.Err)
		printImage(deps.Log, cfg.Mode, *r, held[i], j.Source.Line, i, len(jobs))
		lead, inUnit := reg.leadOf(i)
		if w, ok := unitWork[lead]; ok && inUnit {
			work[w].Refs = append(work[w].Refs, j.Source.Line)
			work[w].Cost = sweep.Cost(len(work[w].Refs))
			continue
		}
		if r.Changed || r.Err != nil {
			if inUnit {
				unitWork[lead] = len(work)
			}
			work = append(work, sweep.Work{Cost: sweep.Cost(1), Refs: []string{j.Source.Line}})
		}
	}
	out.Throttled = throttles(clients)
	if cfg.Mode == Plan {
		out.Matrix = matrixOf(work, cfg.Shards, deps.Log)
	}
	return out
}

// workLocal reads, plans and (in set mode) writes the image j names: in
// place, published to j's registry target, or saved into the layout j's
// Into names. Check, plan and dry-run only read: the layout is opened,
// read and closed, nothing written beside it, and a layout to save into
// is not created. Publishing and saving read the source only: the unfixed
// image never reaches the target, and the source stays as it was.
//
// It returns the path of the layout it wrote into, if any: ps commits it
// at the end.
func workLocal(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, j LocalJob, ps *places) (Result, string) {
	ref := j.Source
	if ref.Transport == imageref.DockerDaemon {
		return workDaemon(ctx, cfg, deps, clients, j), ""
	}
	r, writeRef := localResult(cfg, j)
	if err := interrupted(ctx, "started"); err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r, ""
	}
	copyAll := (j.Target != nil || j.Into != nil) && cfg.Mode == Set
	if j.Into != nil && copyAll {
		// A file of the wrong kind where the image is to be saved fails
		// before anything is read.
		if err := ps.probe(*j.Into); err != nil {
			r.Err = fmt.Errorf("%s: saving to %s: %w", ref.Line, j.Into.Line, err)
			return r, ""
		}
	}
	src, err := openSource(cfg, deps, clients, ref, ps)
	if err != nil {
		r.Err = err
		return r, ""
	}
	if src.l == nil {
		// Retries go to this image's log, which is printed in its group.
		ctx = withRetryLog(ctx, func(f string, a ...any) { deps.Log.Info(ref.Line + ": " + fmt.Sprintf(f, a...)) })
	}
	m, p, entry, err := readLocal(ctx, cfg, deps, src, ref, copyAll)
	if err != nil {
		r.Err = src.fail(err)
		return r, ""
	}
	r.Before, r.After, r.Changed = p.Before, p.After, p.Changed
	if r.PreviousDigest, r.Digest, r.Err = localDigests(src.l, m, p, copyAll); r.Err != nil {
		return r, ""
	}
	return finishLocal(ctx, cfg, deps, clients, src, j, p, entry, writeRef, copyAll, ps, r)
}

// finishLocal reports the plan p of j's image, read from src, in check and
// plan mode, and otherwise carries it out: copied to where j's tag names,
// or written in place (nothing to write when p changes nothing, no bare
// tag names the image, and its index.json entry is right).
func finishLocal(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, src *source, j LocalJob, p *plan.Plan, entry *plan.Entry, writeRef string, copyAll bool, ps *places, r Result) (Result, string) {
	ref := j.Source
	switch {
	case cfg.Mode == Check:
		r.Findings, r.Err = findings(ref.Line, p.Findings, deps.Words)
		return r, ""
	case cfg.Mode == Plan:
		return r, ""
	case copyAll:
		return copyLocal(ctx, cfg, deps, clients, src, j, p, entry, ps, r)
	case !p.Changed && j.Tag == "" && !entryStale(entry, p):
		return r, ""
	}
	if entryStale(entry, p) {
		deps.Log.Info(fmt.Sprintf("%s%s: index.json entry platform %s -> %s", DryRunPrefix(r, false), ref.Line, entry.Platform.Display(), p.After[0]))
	}
	return setLocal(ctx, cfg, deps, src.l, j, p, entry, writeRef, ps, r)
}

// copyLocal publishes the fixed image p to j's registry tag, or saves it
// into the layout j's Into names (in a dry run, says it would). What in
// a source layout refers to the digests p changes stays there with the
// image it refers to, as a registry run to another repository leaves the
// source's referrers: named in a warning with the commands that make
// them for the copy, and with referrers fail, nothing is written. It
// returns the path it wrote into, if any.
func copyLocal(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, src *source, j LocalJob, p *plan.Plan, entry *plan.Entry, ps *places, r Result) (Result, string) {
	ref := j.Source
	var lk lookups
	if src.l != nil {
		if lk, r.Err = lookUpBefore(ctx, cfg, deps, src.l, p, false, ref.Line, &r); r.Err != nil {
			return r, ""
		}
	}
	wrote := ""
	switch {
	case cfg.DryRun:
		if j.Into != nil {
			deps.Log.Info(fmt.Sprintf("dry run: would save %s to %s", p.Digest, j.Into.Line))
		}
	case j.Target != nil:
		if r.Err = publishLocal(ctx, cfg, deps, clients, src.repo, j, p); r.Err != nil {
			return r, ""
		}
	default:
		deps.Log.Info(fmt.Sprintf("saving %s to %s", p.Digest, j.Into.Line))
		if err := saveLocal(ctx, src.repo, *j.Into, p, entry, ps); err != nil {
			r.Err = fmt.Errorf("%s: saving to %s: %w", ref.Line, j.Into.Line, errors.Join(err, ps.discard(j.Into.Path)))
			return r, ""
		}
		wrote = j.Into.Path
	}
	for _, s := range lk.subjects {
		warnOrphans(deps.Log, ref.Line, r.TargetRepository, s, cfg.DryRun)
	}
	return r, wrote
}

// registryUnits are the registry jobs of a run with layouts, grouped as
// a run of registry images groups them: tags sharing a digest are one
// unit, worked once when its first tag's turn comes.
type registryUnits struct {
	jobs []Job
	at   map[int]int  // the position of each among the run's jobs -> its index in jobs
	lead map[int]unit // index of a unit's first job -> the unit
	done []worked     // each job's result once its unit was worked
}

func newRegistryUnits(ctx context.Context, cfg *Config, clients map[string]clientResult, local []LocalJob) *registryUnits {
	ru := &registryUnits{at: map[int]int{}, lead: map[int]unit{}}
	for i, j := range local {
		if j.Job != nil {
			ru.at[i] = len(ru.jobs)
			ru.jobs = append(ru.jobs, *j.Job)
		}
	}
	if len(ru.jobs) == 0 {
		return ru
	}
	for _, u := range group(ctx, cfg, clients, ru.jobs) {
		ru.lead[u.jobs[0]] = u
	}
	ru.done = make([]worked, len(ru.jobs))
	return ru
}

// leadOf is the first job of the unit of the run's job i, and whether i
// is a registry job.
func (ru *registryUnits) leadOf(i int) (int, bool) {
	k, ok := ru.at[i]
	if !ok {
		return 0, false
	}
	for lead, u := range ru.lead {
		if slices.Contains(u.jobs, k) {
			return lead, true
		}
	}
	return k, true
}

// work returns the result and log of the run's job i, working its unit
// when i is the unit's first job.
func (ru *registryUnits) work(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, i int) (Result, *bufferLogger) {
	k := ru.at[i]
	if u, ok := ru.lead[k]; ok {
		for n, w := range workUnit(ctx, cfg, deps, clients, ru.jobs, u) {
			ru.done[u.jobs[n]] = w
		}
	}
	return ru.done[k].Result, ru.done[k].log
}

// source is where a local job reads its image: a layout or archive (l),
// or a registry repository when the image is saved into a layout.
type source struct {
	repo store.Repository
	l    *layout.Layout // nil for a registry
	// fail describes an error of reading the source.
	fail func(error) error
}

// openSource opens the place ref names: the layout (through ps, once a
// run), or the registry repository of its client.
func openSource(cfg *Config, deps Deps, clients map[string]clientResult, ref imageref.Reference, ps *places) (*source, error) {
	if ref.Transport != imageref.Registry {
		l, err := ps.get(ref)
		if err != nil {
			return nil, err
		}
		return &source{repo: l, l: l, fail: func(err error) error { return fmt.Errorf("%s: %w", ref.Line, err) }}, nil
	}
	describeErr := func(err error) error { return describe(err, imageref.RefOf(ref.Name), false, cfg.Creds, deps.Words) }
	c := clients[ref.Name.Context().RegistryStr()]
	if c.err != nil {
		return nil, describeErr(c.err)
	}
	return &source{repo: c.c.Repo(ref.Name.Context().RepositoryStr()), fail: describeErr}, nil
}

// readLocal reads and plans the image src holds: its manifest, and the
// index.json entry of a layout's image when it carries a platform, which
// is checked and kept in step as an index's entry is.
func readLocal(ctx context.Context, cfg *Config, deps Deps, src *source, ref imageref.Reference, copyAll bool) (*store.Manifest, *plan.Plan, *plan.Entry, error) {
	id := ref.Ref
	if src.l == nil {
		id = ref.Name.Identifier()
	}
	m, err := src.repo.GetManifest(ctx, id)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading manifest: %w", err)
	}
	entry, err := entryOf(src.l, id, m)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := readUnder(ctx, src.repo, id, ref.Line, m, entry, cfg, copyAll, deps.Log)
	return m, p, entry, err
}

// entryOf is the index.json entry of the image m that ref names in l, as
// an index's entry is to its child, when it carries a platform (crane and
// containerd write one); nil for a registry, an index, or an entry
// without one.
func entryOf(l *layout.Layout, ref string, m *store.Manifest) (*plan.Entry, error) {
	if l == nil || m.MediaType.IsIndex() {
		return nil, nil
	}
	p, ok, err := l.EntryPlatform(ref)
	if err != nil || !ok {
		return nil, err
	}
	return &plan.Entry{MediaType: m.MediaType, Digest: m.Digest, Size: int64(len(m.Bytes)), Platform: p, HasPlatform: true}, nil
}

// entryStale reports whether the index.json entry (nil for none) does not
// say the platform p leaves the image with.
func entryStale(entry *plan.Entry, p *plan.Plan) bool {
	if entry == nil || len(p.After) != 1 {
		return false
	}
	e := entry.Platform
	return !e.Complete() || !e.Valid() || !platform.Same(e, p.After[0])
}

// setEntryPlatform makes the index.json entry ref names in l say the
// platform p leaves the image with, when the source's entry carried one
// (entry) or the entry written carries one: a name re-pointed at another
// image keeps no stale platform.
func setEntryPlatform(l *layout.Layout, ref string, entry *plan.Entry, p *plan.Plan) error {
	if len(p.After) != 1 {
		return nil
	}
	if entry == nil {
		_, has, err := l.EntryPlatform(ref)
		if err != nil || !has {
			return err
		}
	}
	if err := l.SetEntryPlatform(ref, p.After[0]); err != nil {
		return fmt.Errorf("setting the platform of the index.json entry: %w", err)
	}
	return nil
}

// saveLocal saves the fixed image p, read from src, into the layout or
// archive into names, under its REF: every blob it lacks streamed from
// src and checked against its digest as it lands, the children by
// digest, then the manifest at REF (an image already right is saved as
// it is). The run commits it at the end: a new archive appears then, and
// an existing one is rewritten beside itself and renamed over it.
func saveLocal(ctx context.Context, src store.Repository, into imageref.Reference, p *plan.Plan, entry *plan.Entry, ps *places) error {
	dst, err := ps.create(into)
	if err != nil {
		return err
	}
	w, err := p.Writes(true)
	if err != nil {
		return err
	}
	// The configs were read to plan: they are written from memory, not
	// fetched again.
	held := heldConfigs(p)
	for i, b := range w.Copies {
		if c, ok := held[b.Digest]; ok {
			w.Copies[i].Upload = c
		}
	}
	if err := copyImage(ctx, src, dst, w); err != nil {
		return err
	}
	if err := dst.PutManifest(ctx, into.Ref, w.Top.Bytes, w.Top.MediaType); err != nil {
		return fmt.Errorf("writing manifest: %w", err)
	}
	return setEntryPlatform(dst, into.Ref, entry, p)
}

// heldConfigs are the configs of p's images as planned, by digest.
func heldConfigs(p *plan.Plan) map[v1.Hash][]byte {
	out := map[v1.Hash][]byte{}
	for _, ch := range append([]*plan.Change{p.Image}, p.Children...) {
		if ch != nil {
			out[ch.ConfigDigest] = ch.Config
		}
	}
	return out
}

// copyImage makes the blobs and child manifests of w present in dst:
// each blob is asked for first (a rerun, or a base image dst holds,
// sends nothing), and only the missing ones are uploaded or streamed from
// src; then the children, by digest.
func copyImage(ctx context.Context, src, dst store.Repository, w *plan.Writes) error {
	blobs := w.Blobs(true)
	err := each(ctx, len(blobs), func(ctx context.Context, i int) error {
		if there, err := dst.BlobExists(ctx, blobs[i].Digest); err == nil && there {
			return nil
		}
		return putBlob(ctx, src, dst, blobs[i], false)
	})
	if err == nil {
		err = interrupted(ctx, "written")
	}
	if err != nil {
		return err
	}
	return each(ctx, len(w.Children), func(ctx context.Context, i int) error {
		ch := w.Children[i]
		if err := dst.PutManifest(ctx, ch.Digest.String(), ch.Bytes, ch.MediaType); err != nil {
			return fmt.Errorf("writing child manifest %s: %w", ch.Digest, err)
		}
		return nil
	})
}

// localResult is the result of j before anything is read, and the name
// its image is written under in the layout.
func localResult(cfg *Config, j LocalJob) (Result, string) {
	ref := j.Source
	// TargetRepository is what the image output puts before "@digest":
	// <transport>:<path as given>, as imageref.Reference.WithDigest.
	r := Result{Source: ref.Line, Target: ref.Line, TargetRepository: string(ref.Transport) + ":" + ref.GivenPath, DryRun: cfg.DryRun && cfg.Mode == Set}
	writeRef := ref.Ref
	switch {
	case j.Target != nil:
		r.Target, r.TargetRepository = j.Target.String(), j.Target.Context().Name()
	case j.Tag != "":
		writeRef = j.Tag
		r.Target = r.TargetRepository + ":" + j.Tag
	case j.Into != nil:
		r.Target, r.TargetRepository = j.Into.Line, string(j.Into.Transport)+":"+j.Into.GivenPath
	}
	return r, writeRef
}

// setLocal writes plan p into the layout l under writeRef (or, in a dry
// run, says what it would write), after looking up what refers to the
// digests it changes: with referrers carry the unsigned ones are carried
// over to the new digests in l, the rest stay pointing at the old ones. It
// returns the path it wrote into, if any.
func setLocal(ctx context.Context, cfg *Config, deps Deps, l *layout.Layout, j LocalJob, p *plan.Plan, entry *plan.Entry, writeRef string, ps *places, r Result) (Result, string) {
	ref := j.Source
	carry := cfg.Referrers == CarryReferrers
	lk, err := lookUpBefore(ctx, cfg, deps, l, p, carry, ref.Line, &r)
	if err != nil {
		r.Err = err
		return r, ""
	}
	if cfg.DryRun {
		if carry {
			carryLocal(ctx, deps, l, ref.Line, lk, true)
		}
		for _, s := range lk.subjects {
			warnOrphans(deps.Log, ref.Line, r.TargetRepository, s, true)
		}
		return r, ""
	}
	ps.wrote(ref.Path)
	if err := applyLocal(ctx, l, writeRef, p, entry); err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r, ref.Path
	}
	var failed []string
	if carry {
		failed = carryLocal(ctx, deps, l, ref.Line, lk, false)
	}
	for _, s := range lk.subjects {
		warnOrphans(deps.Log, ref.Line, r.TargetRepository, s, false)
	}
	if len(failed) > 0 {
		r.Err = fmt.Errorf("%s: %s now holds %s, but referrers: %s", ref.Line, r.Target, p.Digest, strings.Join(failed, "; "))
	}
	return r, ref.Path
}

// lookUpBefore looks up what in l refers to the digests p changes
// (lookUpLocal), before anything is written: r's results list it, and the
// lookups that failed are warned of. With referrers fail, one found (or
// one lookup failed) is the error of line: nothing is to be written.
func lookUpBefore(ctx context.Context, cfg *Config, deps Deps, l *layout.Layout, p *plan.Plan, carry bool, line string, r *Result) (lookups, error) {
	lk := lookUpLocal(ctx, l, p, carry)
	r.Referrers = lk.all()
	warnLookups(deps.Log, line, lk.failed)
	if err := lk.errOrphans(); err != nil && cfg.Referrers == FailOnReferrers {
		listReferrers(deps.Log, r.Referrers)
		return lk, fmt.Errorf("%s: %w", line, err)
	}
	return lk, nil
}

// lookUpLocal finds what in l refers to each digest p changes: the
// manifests index.json lists, and the children of its indexes, whose
// subject is the digest (Layout.Referrers), each read. With carry it also
// decides which may move, as a registry run does: unsigned, and with no
// referrers of their own in l.
func lookUpLocal(ctx context.Context, l *layout.Layout, p *plan.Plan, carry bool) lookups {
	var out lookups
	for _, s := range changedSubjects(p) {
		ds, err := l.Referrers(ctx, s.Old)
		if err != nil {
			out.failed = append(out.failed, err)
			continue
		}
		sr := subjectReferrers{subject: s}
		for _, d := range ds {
			r := referrers.Referrer{Subject: s.Old, Digest: d.Digest, MediaType: string(d.MediaType), ArtifactType: d.ArtifactType, FoundBy: referrers.ByLayout, Size: d.Size}
			if m, err := l.GetManifest(ctx, d.Digest.String()); err == nil {
				r.Manifest = m.Bytes
			} else {
				// Not read: it is named, and stays.
				out.failed = append(out.failed, fmt.Errorf("reading referrer %s of %s: %w", d.Digest, s.Old, err))
			}
			sr.found.Referrers = append(sr.found.Referrers, r)
			if !carry || !referrers.CanCarry(r, false) {
				continue
			}
			own, err := l.Referrers(ctx, d.Digest)
			if err != nil {
				out.failed = append(out.failed, err)
				continue
			}
			if referrers.CanCarry(r, len(own) > 0) {
				sr.carry = append(sr.carry, r)
			}
		}
		out.subjects = append(out.subjects, sr)
	}
	return out
}

// carryLocal carries the referrers lk may move over to their new subject
// in l, each found from it where the old one was found from the old
// subject: one index.json lists is listed again (Layout.ListLike), one an
// index lists (the referrers tag schema) goes into the index of the new
// digest's fallback tag, as a registry without the referrers API has it.
// It returns what could not be carried, one line per subject.
func carryLocal(ctx context.Context, deps Deps, l *layout.Layout, source string, lk lookups, dryRun bool) []string {
	t := layoutTarget{Target: referrers.Of(l), l: l, like: map[v1.Hash]v1.Hash{}}
	var split lookups
	for _, s := range lk.subjects {
		listed, nested := s, s
		listed.carry, nested.carry = nil, nil
		listed.found.API, nested.found.API = true, false
		for _, r := range s.carry {
			ok, err := l.Lists(r.Digest)
			if err != nil {
				return []string{fmt.Sprintf("could not carry %s of %s over to %s: %v", count(len(s.carry), "referrer"), s.Old, s.New, err)}
			}
			if !ok {
				nested.carry = append(nested.carry, r)
				continue
			}
			listed.carry = append(listed.carry, r)
			if _, d, err := referrers.Repoint(r, s.New, s.Size); err == nil {
				t.like[d] = r.Digest
			}
		}
		split.subjects = append(split.subjects, listed, nested)
	}
	return carryAll(ctx, deps, t, source, split, dryRun)
}

// layoutTarget is a layout as carrying writes to it: a referrer re-pointed
// by digest from one index.json lists (like: the new digest to the old)
// is listed there too, so that the new subject's referrers list it.
type layoutTarget struct {
	referrers.Target
	l    *layout.Layout
	like map[v1.Hash]v1.Hash
}

func (t layoutTarget) PutManifest(ctx context.Context, ref string, body []byte, mediaType string) error {
	if err := t.Target.PutManifest(ctx, ref, body, mediaType); err != nil {
		return err
	}
	d, err := v1.NewHash(ref)
	if was, ok := t.like[d]; err == nil && ok {
		return t.l.ListLike(was, d, int64(len(body)))
	}
	return nil
}

// localDigests are the previous-digest and digest outputs of the image m
// of l, planned as p: a docker-archive's image IDs in place, and the
// manifest's digests in a registry or another layout (elsewhere), or for a
// registry source (l nil).
func localDigests(l *layout.Layout, m *store.Manifest, p *plan.Plan, elsewhere bool) (previous, digest string, err error) {
	if elsewhere || l == nil {
		return m.Digest.String(), p.Digest.String(), nil
	}
	was, err := l.OutputDigest(m)
	if err != nil {
		return "", "", err
	}
	now, err := l.OutputDigest(&store.Manifest{Bytes: p.Bytes, Digest: p.Digest, MediaType: p.MediaType})
	if err != nil {
		return "", "", err
	}
	return was.String(), now.String(), nil
}

// publishLocal pushes the fixed image p, read from src, to j's registry
// tag (copyImage), then the manifest at the tag, read back.
func publishLocal(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, src store.Repository, j LocalJob, p *plan.Plan) error {
	c := clients[j.Target.Context().RegistryStr()]
	if c.err != nil {
		return describe(c.err, imageref.RefOf(j.Target), true, cfg.Creds, deps.Words)
	}
	dst := c.c.Repo(j.Target.Context().RepositoryStr())
	w, err := p.Writes(true)
	if err == nil {
		err = copyImage(ctx, src, dst, w)
	}
	if err == nil {
		err = pushTop(ctx, dst, Job{Source: imageref.RefOf(j.Target), Target: imageref.RefOf(j.Target)}, w)
	}
	if err != nil {
		return writeError(err, cfg, deps, Job{Source: imageref.RefOf(j.Target), Target: imageref.RefOf(j.Target)})
	}
	return nil
}

// applyLocal writes p into l in dependency order (new configs, child
// manifests by digest, the manifest at ref, and the platform of its
// index.json entry when the source's entry carried one). The run commits
// l once at the end: an archive is rewritten beside itself and renamed
// over the original, so that a failure before that leaves it as it was.
func applyLocal(ctx context.Context, l *layout.Layout, ref string, p *plan.Plan, entry *plan.Entry) error {
	w, err := p.Writes(false)
	if err != nil {
		return err
	}
	for _, b := range w.Blobs(false) {
		if err := putBlob(ctx, l, l, b, false); err != nil {
			return err
		}
	}
	for _, c := range w.Children {
		if err := l.PutManifest(ctx, c.Digest.String(), c.Bytes, c.MediaType); err != nil {
			return fmt.Errorf("writing child manifest %s: %w", c.Digest, err)
		}
	}
	if err := interrupted(ctx, "written"); err != nil {
		return err
	}
	if err := l.PutManifest(ctx, ref, w.Top.Bytes, w.Top.MediaType); err != nil {
		return fmt.Errorf("writing manifest: %w", err)
	}
	return setEntryPlatform(l, ref, entry, p)
}
