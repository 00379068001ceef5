package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// daemonTree reads the tree the image ID id names from a containerd
// store's save, as readTree reads it from a registry: the manifest, or
// the index and its children, and the images' configs, each blob byte for
// byte (Save.Blob). With copyAll the attestations are read too, which a
// push to a registry copies; without it a child the store lacks is left
// as it is.
func daemonTree(s *daemon.Save, id v1.Hash, copyAll bool) (*plan.Node, error) {
	top, err := s.Blob(id)
	if err != nil {
		return nil, err
	}
	mt := oci.Shape(top)
	if !mt.IsIndex() {
		return daemonImageNode(s, plan.Image{MediaType: mt, Manifest: top, Digest: id}, nil)
	}
	idx, err := plan.ParseIndex(mt, id, top)
	if err != nil {
		return nil, err
	}
	children := make([]*plan.Node, len(idx.Entries))
	for i := range idx.Entries {
		e := &idx.Entries[i]
		if !plan.NeedsRead(*e, copyAll) {
			continue
		}
		b, err := s.Blob(e.Digest)
		switch {
		case errors.Is(err, daemon.ErrNoBlob) && !copyAll:
			// A child the store lacks (a pull keeps one platform's) is
			// kept as it is, as the engine keeps it.
			continue
		case errors.Is(err, daemon.ErrNoBlob):
			return nil, fmt.Errorf("reading child %s: the engine lacks it (a pull keeps one platform's), so the index cannot be pushed whole: %w", e.Digest, err)
		case err != nil:
			return nil, fmt.Errorf("reading child %s: %w", e.Digest, err)
		}
		if children[i], err = daemonImageNode(s, plan.Image{MediaType: oci.Shape(b), Manifest: b, Digest: e.Digest}, e); err != nil {
			return nil, err
		}
	}
	return plan.NewIndex(idx, children), nil
}

// daemonImageNode is the node of the manifest img (the root when e is
// nil, else the index's child at e) with its config from the save, or,
// for a child that is no image (an attestation), the manifest kept as it
// is.
func daemonImageNode(s *daemon.Save, img plan.Image, e *plan.Entry) (*plan.Node, error) {
	var pm *plan.Manifest
	var err error
	if e == nil {
		pm, err = plan.ParseManifest(img.MediaType, img.Manifest)
	} else {
		pm, err = plan.ReadChild(*e, img)
	}
	switch {
	case err != nil:
		return nil, err
	case pm == nil:
		return plan.NewOther(img, e), nil
	}
	if img.Config, err = s.Blob(pm.Config.Digest); err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return plan.NewImage(img, pm, e), nil
}

// planContainerd plans setting want on the tree of the containerd
// store's image im from its save s, as the registry path plans it: a
// single image, or an index's image child (its attestations kept), the
// configs patched and the manifests re-pointed byte for byte.
func planContainerd(cfg *Config, deps Deps, line string, s *daemon.Save, im *daemon.Image, want platform.Platform, copyAll bool) (*plan.Plan, error) {
	root, err := daemonTree(s, im.ID, copyAll)
	if err != nil {
		return nil, err
	}
	p, err := plan.Set(root, want, cfg.Overwrite)
	if errors.Is(err, plan.ErrNoPlatform) {
		return nil, &InputError{Input: "platform", Err: errPlatformRequired}
	}
	if err != nil {
		return nil, err
	}
	for _, st := range p.Stale {
		deps.Log.Warning(fmt.Sprintf("%s: %s, the previous digest; it does not carry over", line, st))
	}
	return p, nil
}

// setContainerd sets want on im in a containerd image store in place:
// the tree from the save (s when auto opened it), planned, and the new
// configs, child manifests and top manifest or index loaded back as an
// OCI layout (never a layer, nor a blob the engine holds, such as an
// attestation's). digest is the ID the engine reports after the load.
func setContainerd(ctx context.Context, cfg *Config, deps Deps, ref imageref.Reference, im *daemon.Image, want platform.Platform, s *daemon.Save, r Result) (Result, error) {
	if s == nil {
		var err error
		if s, err = cfg.Daemon.Save(ctx, im, daemon.Containerd); err != nil {
			return r, err
		}
		defer s.Close()
	}
	p, err := planContainerd(cfg, deps, ref.Line, s, im, want, false)
	if err != nil {
		return r, err
	}
	s.Close()
	r.After, r.Digest, r.Changed = p.After, p.Digest.String(), p.Changed
	if len(p.Before) > 1 {
		r.Before = p.Before
	}
	if cfg.DryRun || !r.Changed {
		return r, nil
	}
	if err := interrupted(ctx, "written"); err != nil {
		return r, err
	}
	w, err := p.Writes(false)
	if err != nil {
		return r, err
	}
	var blobs [][]byte
	for _, b := range w.Uploads {
		blobs = append(blobs, b.Upload)
	}
	for _, c := range w.Children {
		blobs = append(blobs, c.Bytes)
	}
	tag := ""
	if ref.DaemonID.Hex == "" {
		tag = daemonName(ref)
	}
	ld, err := cfg.Daemon.LoadOCI(ctx, tag, w.Top.Bytes, w.Top.MediaType, blobs...)
	if err != nil {
		return r, err
	}
	r.Digest = ld.ID.String()
	return r, nil
}

// pushContainerd pushes the containerd store's image im, with want set,
// to the registry repository dst as job's target. The save holds every
// blob under its own digest, compressed as the store keeps it, in the
// order of the digests: one read of it streams each layer the registry
// lacks (asked with a HEAD as it comes) into an upload, and keeps the
// JSON blobs; the manifest may come after its layers, which is why each
// layer is taken by the digest that names it rather than from the
// manifest. Then the tree is planned from the JSON kept (an index's
// attestations copied as they are), the new configs uploaded, child
// manifests put by digest, the top at the tag and read back. Nothing is
// spooled to disk, nothing posted to the engine. A dry run reads the JSON
// alone and asks the registry nothing.
//
// A refusal (a platform for an index of several images, an index the
// store holds in part) comes before the first write: a layer streams in
// that first read only once the top has come by as a single manifest,
// which nothing after the inspect refuses (settled has asked what the
// config declares). The layers passed before that, all of an index's,
// wait for the plan; if it stands, those the registry lacks stream from
// a second read (streamPassed).
func pushContainerd(ctx context.Context, cfg *Config, deps Deps, dst store.Repository, streamer store.BlobStreamer, job Job, line string, im *daemon.Image, want platform.Platform) (*plan.Plan, error) {
	s, err := cfg.Daemon.Save(ctx, im, daemon.Containerd)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	held, passed := map[v1.Hash]bool{}, map[v1.Hash]bool{}
	if !cfg.DryRun {
		single := func(d v1.Hash) bool {
			if top, ok := s.Passed(im.ID); ok && !oci.Shape(top).IsIndex() {
				return true
			}
			passed[d] = true
			return false
		}
		if err := streamSavedLayers(ctx, s, dst, streamer, held, single, -1); err != nil {
			return nil, err
		}
	}
	p, err := planContainerd(cfg, deps, line, s, im, want, true)
	if err != nil || cfg.DryRun {
		return p, err
	}
	if err := streamPassed(ctx, cfg.Daemon, im, dst, streamer, held, passed); err != nil {
		return nil, err
	}
	return p, pushSavedTree(ctx, s, dst, job, p, held)
}

// streamSavedLayers reads the save s, streaming each layer that take
// takes into an upload, and notes each one taken in held, none twice; the
// JSON blobs passed are kept in s. With left below zero the registry has
// not been asked: a HEAD as each layer comes skips one it has, and the
// read goes to the end, for the plan's JSON. Else the layers taken are
// known absent, and the read ends once left of them are through.
func streamSavedLayers(ctx context.Context, s *daemon.Save, dst store.Repository, streamer store.BlobStreamer, held map[v1.Hash]bool, take func(v1.Hash) bool, left int) error {
	for left != 0 {
		p, err := s.NextLayer()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.Digest.Hex == "" || held[p.Digest] || !take(p.Digest) {
			continue
		}
		held[p.Digest] = true
		if left < 0 {
			if there, err := dst.BlobExists(ctx, p.Digest); err == nil && there {
				continue
			}
		} else {
			left--
		}
		if err := streamer.PushStream(ctx, p.Digest, p.Size, s); err != nil {
			return &pushError{err: fmt.Errorf("uploading layer %s: %w", p.Digest, err)}
		}
	}
	return nil
}

// streamPassed makes sure dst holds the layers passed by the first read
// of im's save once its plan stands: the registry is asked for them all
// at once, and those it lacks stream from a second read; none when it
// has them all (a rerun reads the save once).
func streamPassed(ctx context.Context, c *daemon.Client, im *daemon.Image, dst store.Repository, streamer store.BlobStreamer, held, passed map[v1.Hash]bool) error {
	if len(passed) == 0 {
		return nil
	}
	ds := slices.Collect(maps.Keys(passed))
	there, err := blobsThere(ctx, dst, ds)
	if err := interrupted(ctx, "written"); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	lack := map[v1.Hash]bool{}
	for _, d := range ds {
		if there[d] {
			held[d] = true
		} else {
			lack[d] = true
		}
	}
	if len(lack) == 0 {
		return nil
	}
	s, err := c.Save(ctx, im, daemon.Containerd)
	if err != nil {
		return err
	}
	defer s.Close()
	return streamSavedLayers(ctx, s, dst, streamer, held, func(d v1.Hash) bool { return lack[d] }, len(lack))
}

// pushSavedTree writes the plan p of a push from the save s to dst, its
// layers there already (held): the new configs and the blobs the save
// kept, the child manifests by digest, and the top at job's target.
func pushSavedTree(ctx context.Context, s *daemon.Save, dst store.Repository, job Job, p *plan.Plan, held map[v1.Hash]bool) error {
	w, err := p.Writes(true)
	if err != nil {
		return err
	}
	for _, b := range w.Blobs(true) {
		if err := pushSaved(ctx, s, dst, b, held); err != nil {
			return &pushError{err: err}
		}
	}
	if err := interrupted(ctx, "written"); err != nil {
		return err
	}
	if err := putManifests(ctx, dst, job, w); err != nil {
		return &pushError{err: err}
	}
	return nil
}

// pushSaved makes sure dst holds blob b of a push from a containerd
// store's save: a new config is uploaded, a layer streamed already
// (held) is there, a JSON blob the save kept (an attestation's) is
// uploaded from memory; each unless the registry has it. A blob the save
// lacks and the registry too is an error.
func pushSaved(ctx context.Context, s *daemon.Save, dst store.Repository, b plan.Blob, held map[v1.Hash]bool) error {
	if held[b.Digest] {
		return nil
	}
	if there, err := dst.BlobExists(ctx, b.Digest); err == nil && there {
		return nil
	}
	body := b.Upload
	if body == nil {
		var err error
		if body, err = s.Blob(b.Digest); err != nil {
			return fmt.Errorf("pushing blob %s: the registry lacks it and %w", b.Digest, err)
		}
	}
	if err := dst.PushBlob(ctx, b.Digest, int64(len(body)), bytes.NewReader(body)); err != nil {
		return fmt.Errorf("uploading blob %s: %w", b.Digest, err)
	}
	return nil
}
