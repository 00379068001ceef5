package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/layout"
	"github.com/set-image-platform/set-image-platform/internal/plan"
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
func (c *Config) parseLocal(line, wd string, seen map[string]string) error {
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
	c.Local = append(c.Local, LocalJob{Source: ref})
	return nil
}

// LocalJob is one layout or archive image, and where its result goes.
type LocalJob struct {
	Source imageref.Reference
	// Target is the registry tag the fixed image is published to, which
	// the tag input names; nil writes it back in place.
	Target name.Reference
	// Tag is a bare tag input: the fixed image gets that name in its own
	// layout or archive, and the source's name stays where it was.
	Tag string
}

// checkLocal refuses what a run of layouts and archives does not do,
// registry images beside them (registryLines), and reads the tag input:
// a full registry reference publishes the one image there.
func (c *Config) checkLocal(in Input, registryLines int, opts []name.Option) error {
	if registryLines > 0 {
		return &InputError{Input: "image", Err: fmt.Errorf("%q names a layout or archive, which cannot go with registry images in one run: list them in a run of their own", c.Local[0].Source.Line)}
	}
	t := strings.TrimSpace(in.Tag)
	switch {
	case t == "":
	case slices.ContainsFunc(c.Local, func(j LocalJob) bool { return j.Source.Pattern != nil }):
		return &InputError{Input: "tag", Err: fmt.Errorf("%q cannot go with a tag pattern: each matching tag is fixed in place; leave tag empty", t)}
	case isLocal(t):
		return &InputError{Input: "tag", Err: fmt.Errorf("%q: a tag naming a layout or archive is not supported yet: give a bare tag to name the fixed image in its own layout, a registry reference such as ghcr.io/owner/name:tag to publish it there, or leave tag empty to set it in place", t)}
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
		tag, err := parseTag(t, len(c.Local), opts)
		if err != nil {
			return err
		}
		c.Local[0].Target = tag.full
	}
	if err := c.checkDaemon(in); err != nil {
		return err
	}
	ts := targets(c.Local)
	if len(ts) == 0 {
		// Nothing of the run reaches a registry: credentials go nowhere.
		return nil
	}
	var err error
	c.Creds, err = credentials(in, ts, tagInput{})
	return err
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

// runLocal works the layouts and archives of cfg one after another (they
// share the machine's disk, and a run names few of them), commits each
// layout written once, then prints each image in its group. clients are
// the registries they publish to.
func runLocal(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, scrub scrubber) *Outcome {
	out := &Outcome{mode: cfg.Mode}
	ps := newPlaces()
	defer ps.close()
	jobs, errs := expandLocal(ctx, cfg, ps)
	held := make([]*bufferLogger, len(jobs))
	wrote := make([]bool, len(jobs))
	for i, j := range jobs {
		held[i] = &bufferLogger{}
		jd := deps
		jd.Log = held[i]
		var r Result
		if errs[i] != nil {
			r = Result{Source: j.Source.Line, Target: j.Source.Line, Err: errs[i]}
		} else {
			r, wrote[i] = workLocal(ctx, cfg, jd, clients, j, ps)
		}
		out.Results = append(out.Results, r)
	}
	failed := ps.commit(ctx)
	var work []sweep.Work
	for i, j := range jobs {
		r := &out.Results[i]
		if err := failed[j.Source.Path]; err != nil && wrote[i] {
			r.Err = fmt.Errorf("%s: nothing written: %w", j.Source.Line, err)
		}
		r.Err = scrub.err(r.Err)
		printImage(deps.Log, cfg.Mode, *r, held[i], j.Source.Line, i, len(jobs))
		if r.Changed || r.Err != nil {
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
// place, or published to j's registry target. Check, plan and dry-run
// only read: the layout is opened, read and closed, nothing written
// beside it. Publishing reads the layout only: the unfixed image never
// reaches the registry, and the file stays as it was.
//
// It reports whether it wrote into the layout: ps commits it at the end.
func workLocal(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, j LocalJob, ps *places) (Result, bool) {
	ref := j.Source
	if ref.Transport == imageref.DockerDaemon {
		return workDaemon(ctx, cfg, deps, clients, j), false
	}
	r, writeRef := localResult(cfg, j)
	if err := interrupted(ctx, "started"); err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r, false
	}
	l, err := ps.get(ref)
	if err != nil {
		r.Err = err
		return r, false
	}
	m, err := l.GetManifest(ctx, ref.Ref)
	if err != nil {
		r.Err = fmt.Errorf("%s: reading manifest: %w", ref.Line, err)
		return r, false
	}
	publish := j.Target != nil && cfg.Mode == Set
	p, err := read(ctx, l, ref.Ref, ref.Line, m, cfg, publish, deps.Log)
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r, false
	}
	r.Before, r.After, r.Changed = p.Before, p.After, p.Changed
	if r.PreviousDigest, r.Digest, r.Err = localDigests(l, m, p, publish); r.Err != nil {
		return r, false
	}
	switch {
	case cfg.Mode == Check:
		r.Findings, r.Err = findings(ref.Line, p.Findings, deps.Words)
		return r, false
	case cfg.Mode == Plan, cfg.DryRun && publish:
		return r, false
	case publish:
		r.Err = publishLocal(ctx, cfg, deps, clients, l, j, p)
		return r, false
	case !p.Changed && j.Tag == "":
		return r, false
	}
	return setLocal(ctx, cfg, deps, l, j, p, writeRef, ps, r)
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
	}
	return r, writeRef
}

// setLocal writes plan p into the layout l under writeRef (or, in a dry
// run, says what it would write), after looking up what refers to the
// digests it changes, which stays pointing at them. It reports whether it
// wrote.
func setLocal(ctx context.Context, cfg *Config, deps Deps, l *layout.Layout, j LocalJob, p *plan.Plan, writeRef string, ps *places, r Result) (Result, bool) {
	ref := j.Source
	lk := lookUpLocal(ctx, l, p)
	r.Referrers = lk.all()
	warnLookups(deps.Log, ref.Line, lk.failed)
	if err := lk.errOrphans(); err != nil && cfg.Referrers == FailOnReferrers {
		listReferrers(deps.Log, r.Referrers)
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r, false
	}
	if !cfg.DryRun {
		ps.wrote(ref.Path)
		if err := applyLocal(ctx, l, writeRef, p); err != nil {
			r.Err = fmt.Errorf("%s: %w", ref.Line, err)
			return r, true
		}
	}
	for _, s := range lk.subjects {
		warnOrphans(deps.Log, ref.Line, r.TargetRepository, s, cfg.DryRun)
	}
	return r, !cfg.DryRun
}

// lookUpLocal finds what in l refers to each digest p changes: the
// manifests index.json lists, and the children of its indexes, whose
// subject is the digest (Layout.Referrers). Carrying them over is not
// done in a layout: they are named as staying behind.
func lookUpLocal(ctx context.Context, l *layout.Layout, p *plan.Plan) lookups {
	var out lookups
	for _, s := range changedSubjects(p) {
		ds, err := l.Referrers(ctx, s.Old)
		if err != nil {
			out.failed = append(out.failed, err)
			continue
		}
		sr := subjectReferrers{subject: s}
		for _, d := range ds {
			sr.found.Referrers = append(sr.found.Referrers, referrers.Referrer{Subject: s.Old, Digest: d.Digest, MediaType: string(d.MediaType), ArtifactType: d.ArtifactType, FoundBy: referrers.ByLayout, Size: d.Size})
		}
		out.subjects = append(out.subjects, sr)
	}
	return out
}

// localDigests are the previous-digest and digest outputs of the image m
// of l, planned as p: a docker-archive's image IDs in place, and the
// manifest's digests in a registry.
func localDigests(l *layout.Layout, m *store.Manifest, p *plan.Plan, publish bool) (previous, digest string, err error) {
	if publish {
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

// publishLocal pushes the fixed image p of the layout l to j's registry
// tag: every blob the registry lacks (asked first: a rerun, or a base
// image the registry holds, sends nothing), the children by digest, the
// manifest at the tag, read back.
func publishLocal(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, l *layout.Layout, j LocalJob, p *plan.Plan) error {
	c := clients[j.Target.Context().RegistryStr()]
	if c.err != nil {
		return describe(c.err, j.Target, true, cfg.Creds, deps.Words)
	}
	dst := c.c.Repo(j.Target.Context().RepositoryStr())
	w, err := p.Writes(true)
	if err == nil {
		blobs := w.Blobs(true)
		err = each(ctx, len(blobs), func(ctx context.Context, i int) error {
			if there, err := dst.BlobExists(ctx, blobs[i].Digest); err == nil && there {
				return nil
			}
			return putBlob(ctx, l, dst, blobs[i], false)
		})
	}
	if err == nil {
		err = interrupted(ctx, "written")
	}
	if err == nil {
		err = each(ctx, len(w.Children), func(ctx context.Context, i int) error {
			ch := w.Children[i]
			if err := dst.PutManifest(ctx, ch.Digest.String(), ch.Bytes, ch.MediaType); err != nil {
				return fmt.Errorf("pushing child manifest %s: %w", ch.Digest, err)
			}
			return nil
		})
	}
	if err == nil {
		err = pushTop(ctx, dst, Job{Source: j.Target, Target: j.Target}, w)
	}
	if err != nil {
		return writeError(err, cfg, deps, Job{Source: j.Target, Target: j.Target})
	}
	return nil
}

// applyLocal writes p into l in dependency order (new configs, child
// manifests by digest, the manifest at ref). The run commits l once at
// the end: an archive is rewritten beside itself and renamed over the
// original, so that a failure before that leaves it as it was.
func applyLocal(ctx context.Context, l *layout.Layout, ref string, p *plan.Plan) error {
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
	return nil
}
