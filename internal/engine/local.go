package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/layout"
	"github.com/set-image-platform/set-image-platform/internal/plan"
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

// errDaemon is a docker-daemon: line: the engine's image is its own
// issue, and is not worked by a run yet.
var errDaemon = errors.New("the docker-daemon: transport is not wired into a run yet: docker save the image and name the file with oci-archive: or docker-archive:")

// parseLocal parses a layout or archive line into c.Local, noting a line
// that names one already seen.
func (c *Config) parseLocal(line, wd string, seen map[string]string) error {
	ref, err := imageref.Parse(line, wd)
	switch {
	case err != nil:
		return &InputError{Input: "image", Err: err, Arg: line}
	case ref.Transport == imageref.DockerDaemon:
		return &InputError{Input: "image", Err: fmt.Errorf("%q: %w", line, errDaemon), Arg: line}
	case ref.Pattern != nil:
		return &InputError{Input: "image", Err: fmt.Errorf("%q: a tag pattern in a layout or archive is not supported yet: name each REF on a line of its own", line), Arg: line}
	}
	key := ref.String()
	if first, ok := seen[key]; ok {
		c.Notices = append(c.Notices, fmt.Sprintf("image %q names the same image as %q: it is worked once", line, first))
		return nil
	}
	seen[key] = line
	c.Local = append(c.Local, ref)
	return nil
}

// checkLocal refuses what a run of layouts and archives does not do:
// registry images beside them (registries images other lines name), and
// a tag (publishing elsewhere is not wired yet).
func (c *Config) checkLocal(in Input, registryLines int) error {
	if registryLines > 0 {
		return &InputError{Input: "image", Err: fmt.Errorf("%q names a layout or archive, which cannot go with registry images in one run: list them in a run of their own", c.Local[0].Line)}
	}
	if t := strings.TrimSpace(in.Tag); t != "" {
		return &InputError{Input: "tag", Err: fmt.Errorf("%q: a tag for a layout or archive is not supported yet: leave tag empty to check or set it in place", t)}
	}
	return nil
}

// runLocal works the layouts and archives of cfg one after another (they
// share the machine's disk, and a run names few of them), each printed
// in its group as it is done.
func runLocal(ctx context.Context, cfg *Config, deps Deps) *Outcome {
	out := &Outcome{mode: cfg.Mode}
	var work []sweep.Work
	for i, ref := range cfg.Local {
		held := &bufferLogger{}
		jd := deps
		jd.Log = held
		r := workLocal(ctx, cfg, jd, ref)
		printImage(deps.Log, cfg.Mode, r, held, ref.Line, i, len(cfg.Local))
		out.Results = append(out.Results, r)
		if r.Changed || r.Err != nil {
			work = append(work, sweep.Work{Cost: sweep.Cost(1), Refs: []string{ref.Line}})
		}
	}
	if cfg.Mode == Plan {
		out.Matrix = matrixOf(work, cfg.Shards, deps.Log)
	}
	return out
}

// workLocal reads, plans and (in set mode) writes the image ref names, in
// place. Check, plan and dry-run only read: the layout is opened, read
// and closed, nothing written beside it.
func workLocal(ctx context.Context, cfg *Config, deps Deps, ref imageref.Reference) Result {
	// TargetRepository is what the image output puts before "@digest":
	// <transport>:<path as given>, as imageref.Reference.WithDigest.
	r := Result{Source: ref.Line, Target: ref.Line, TargetRepository: string(ref.Transport) + ":" + ref.GivenPath, DryRun: cfg.DryRun && cfg.Mode == Set}
	if err := interrupted(ctx, "started"); err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r
	}
	l, err := layout.Open(ref)
	if err != nil {
		r.Err = err
		return r
	}
	defer l.Close()
	m, err := l.GetManifest(ctx, ref.Ref)
	if err != nil {
		r.Err = fmt.Errorf("%s: reading manifest: %w", ref.Line, err)
		return r
	}
	p, err := read(ctx, l, ref.Ref, ref.Line, m, cfg, false, deps.Log)
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r
	}
	r.Before, r.After, r.Changed = p.Before, p.After, p.Changed
	if r.PreviousDigest, r.Err = outputDigest(l, m); r.Err != nil {
		return r
	}
	r.Digest = r.PreviousDigest
	if p.Changed {
		top := &store.Manifest{Bytes: p.Bytes, Digest: p.Digest, MediaType: p.MediaType}
		if r.Digest, r.Err = outputDigest(l, top); r.Err != nil {
			return r
		}
	}
	switch {
	case cfg.Mode == Check:
		r.Findings, r.Err = findings(ref.Line, p.Findings, deps.Words)
		return r
	case cfg.Mode == Plan, cfg.DryRun, !p.Changed:
		return r
	}
	if err := applyLocal(ctx, l, ref.Ref, p); err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
	}
	return r
}

// outputDigest is the digest output of m in l: the manifest's, or a
// docker-archive's image ID.
func outputDigest(l *layout.Layout, m *store.Manifest) (string, error) {
	d, err := l.OutputDigest(m)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// applyLocal writes p into l in dependency order (new configs, child
// manifests by digest, the manifest at ref), then commits once: an archive
// is rewritten beside itself and renamed over the original, so that a
// failure before that leaves it as it was.
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
	return l.Commit(ctx)
}
