package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// pushDaemon pushes the engine's image im, with want set in its config,
// to j's registry tag ("push it fixed"): the unfixed image never reaches
// the registry, and nothing is loaded into or tagged in the engine.
//
// The manifest is a Docker v2 one, as docker push writes, but of the
// layers as the save holds them, uncompressed
// (application/vnd.docker.image.rootfs.diff.tar): their digests are the
// diff IDs the config names, so each layer is known, and its presence in
// the registry asked (HEAD), before a byte of it is read; it streams from
// the save into the registry with no copy on disk or in memory, and the
// bytes pushed are the engine's own. Compressing as docker push does
// would make digests only known once a layer is through, and cost the
// CPU of gzip on the runner.
//
// A dry run reads the save through for the layers' sizes (the manifest
// names them) and asks the registry nothing.
func pushDaemon(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, j LocalJob, im *daemon.Image, want platform.Platform, r Result) Result {
	ref, target := j.Source, imageref.RefOf(j.Target)
	job := Job{Source: target, Target: target}
	done, err := settled(cfg, r.Before[0], want)
	if err != nil {
		r.Err = describeDaemon(err, ref.Line, deps.Words)
		return r
	}
	dst, streamer, st, err := daemonTarget(ctx, cfg, deps, clients, target, ref.Line)
	if err != nil {
		r.Err = err
		return r
	}
	if st == daemon.Containerd {
		p, err := pushContainerd(ctx, cfg, deps, dst, streamer, job, ref.Line, im, want)
		if err != nil {
			return pushFailed(r, err, cfg, deps, job, ref.Line)
		}
		r.After, r.Digest, r.Changed = p.After, p.Digest.String(), p.Changed
		if len(p.Before) > 1 {
			r.Before = p.Before
		}
		return r
	}
	return pushClassic(ctx, cfg, deps, dst, streamer, job, ref.Line, im, want, done, r)
}

// daemonTarget opens the registry repository a push goes to, and asks
// the engine's store, each error worded for the person: the registry's in
// the target's words, the engine's about the image line. The registry
// comes first: one that cannot be reached costs the engine nothing more.
func daemonTarget(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, target store.Ref, line string) (store.Repository, store.BlobStreamer, daemon.Store, error) {
	dst, err := openRepo(clients, target.Repo)
	if err != nil {
		return nil, nil, 0, describe(err, target, true, cfg.Creds, deps.Words)
	}
	streamer, ok := dst.(store.BlobStreamer)
	if !ok {
		return nil, nil, 0, describeDaemon(fmt.Errorf("%s takes no blob from a stream", dst.Name()), line, deps.Words)
	}
	st, err := cfg.Daemon.Store(ctx)
	if err != nil {
		return nil, nil, 0, describeDaemon(err, line, deps.Words)
	}
	return dst, streamer, st, nil
}

// pushClassic is pushDaemon from a classic store: the layers the
// registry lacks streamed from the save, then the config (patched unless
// done) and the Docker v2 manifest of them.
func pushClassic(ctx context.Context, cfg *Config, deps Deps, dst store.Repository, streamer store.BlobStreamer, job Job, line string, im *daemon.Image, want platform.Platform, done bool, r Result) Result {
	fail := func(err error) Result {
		r.Err = describeDaemon(err, line, deps.Words)
		return r
	}
	var there map[v1.Hash]bool
	if !cfg.DryRun {
		var err error
		there, err = blobsThere(ctx, dst, im.DiffIDs)
		if err := interrupted(ctx, "written"); err != nil {
			return fail(err)
		}
		if err != nil {
			return fail(err)
		}
	}
	config, sizes, err := streamLayers(ctx, cfg.Daemon, im, func(p daemon.Part, body io.Reader) error {
		if cfg.DryRun || there[p.DiffID] {
			return nil
		}
		return streamer.PushStream(ctx, p.DiffID, p.Size, body)
	})
	if err != nil {
		return pushFailed(r, err, cfg, deps, job, line)
	}
	if !done {
		if config, err = patch.SetPlatform(config, nil, want); err != nil {
			return fail(fmt.Errorf("patching config: %w", err))
		}
	}
	top, err := daemonManifest(config, im.DiffIDs, sizes)
	if err != nil {
		return fail(err)
	}
	r.After = []platform.Platform{want}
	r.Digest, r.Changed = top.Digest.String(), !done
	if cfg.DryRun {
		return r
	}
	if err := pushConfigAndTop(ctx, dst, job, config, top); err != nil {
		r.Err = writeError(err, cfg, deps, job)
	}
	return r
}

// pushConfigAndTop uploads config unless dst holds it, then puts top at
// job's target.
func pushConfigAndTop(ctx context.Context, dst store.Repository, job Job, config []byte, top plan.Push) error {
	cd := oci.Digest(config)
	if ok, err := dst.BlobExists(ctx, cd); err != nil || !ok {
		if err := dst.PushBlob(ctx, cd, int64(len(config)), bytes.NewReader(config)); err != nil {
			return fmt.Errorf("uploading config %s: %w", cd, err)
		}
	}
	return putManifests(ctx, dst, job, &plan.Writes{Top: top})
}

// putManifests puts w's child manifests by digest, then its top at job's
// target, as a push from the engine's either store ends.
func putManifests(ctx context.Context, dst store.Repository, job Job, w *plan.Writes) error {
	for _, c := range w.Children {
		if err := dst.PutManifest(ctx, c.Digest.String(), c.Bytes, c.MediaType); err != nil {
			return fmt.Errorf("pushing child manifest %s: %w", c.Digest, err)
		}
	}
	return pushTop(ctx, dst, job, w)
}

// pushFailed is r failed with err: a write to the registry that failed
// (*pushError) worded as a write's, anything else as about the engine's
// image line.
func pushFailed(r Result, err error, cfg *Config, deps Deps, job Job, line string) Result {
	var pe *pushError
	if errors.As(err, &pe) {
		r.Err = writeError(pe.err, cfg, deps, job)
	} else {
		r.Err = describeDaemon(err, line, deps.Words)
	}
	return r
}

// pushError is a layer's upload that failed: the registry's error, which
// the door words as a write's.
type pushError struct{ err error }

func (e *pushError) Error() string { return e.err.Error() }

// blobsThere asks the registry, concurrently, which of blobs it holds. A
// question that fails counts as absent: the upload then says why. The
// error is the run's context ending, all that stops the questions.
func blobsThere(ctx context.Context, dst store.Repository, blobs []v1.Hash) (map[v1.Hash]bool, error) {
	held := make([]bool, len(blobs))
	err := each(ctx, len(blobs), func(ctx context.Context, i int) error {
		held[i], _ = dst.BlobExists(ctx, blobs[i])
		return nil
	})
	out := map[v1.Hash]bool{}
	for i, b := range blobs {
		out[b] = held[i]
	}
	return out, err
}

// streamLayers reads im's save once, handing each distinct layer to push
// as it streams (named by its diff ID, its size from the archive), and
// returns the config and the size of each layer. A layer the archive does
// not name, or one the image has and the save lacks, is an error.
func streamLayers(ctx context.Context, c *daemon.Client, im *daemon.Image, push func(daemon.Part, io.Reader) error) ([]byte, map[v1.Hash]int64, error) {
	s, err := c.Save(ctx, im, daemon.Classic)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	sizes := map[v1.Hash]int64{}
	for {
		p, err := s.NextLayer()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if p.DiffID.Hex == "" {
			return nil, nil, fmt.Errorf("saving image %s: the archive does not say which of the image's layers %s is", im.ID, p.Name)
		}
		if _, ok := sizes[p.DiffID]; ok {
			continue
		}
		sizes[p.DiffID] = p.Size
		if err := push(p, s); err != nil {
			return nil, nil, &pushError{err: err}
		}
	}
	for _, d := range im.DiffIDs {
		if _, ok := sizes[d]; !ok {
			return nil, nil, fmt.Errorf("saving image %s: the archive holds no layer %s", im.ID, d)
		}
	}
	config, err := s.Config()
	return config, sizes, err
}

// daemonManifest is the Docker v2 manifest of config and the uncompressed
// layers diffIDs (base first) of the given sizes.
func daemonManifest(config []byte, diffIDs []v1.Hash, sizes map[v1.Hash]int64) (plan.Push, error) {
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(config)), Digest: oci.Digest(config)},
		Layers:        make([]v1.Descriptor, len(diffIDs)),
	}
	for i, d := range diffIDs {
		m.Layers[i] = v1.Descriptor{MediaType: types.DockerUncompressedLayer, Size: sizes[d], Digest: d}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return plan.Push{}, fmt.Errorf("writing the manifest: %w", err)
	}
	return plan.Push{Digest: oci.Digest(b), MediaType: m.MediaType, Bytes: b}, nil
}
