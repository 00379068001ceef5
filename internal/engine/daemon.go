package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// checkDaemon refuses what a run of docker-daemon: lines does not do (a
// bare tag) or cannot (a set with no platform) and makes the engine's
// client from DOCKER_HOST as the front door read it, before any request.
func (c *Config) checkDaemon(in Input) error {
	var j *LocalJob
	for i := range c.Local {
		if c.Local[i].Source.Transport == imageref.DockerDaemon {
			j = &c.Local[i]
			break
		}
	}
	switch {
	case j == nil:
		return nil
	case j.Tag != "":
		return &InputError{Input: "tag", Err: fmt.Errorf("%q with %q: a bare tag is not supported for an image in the Docker engine: give a registry reference such as ghcr.io/owner/name:tag to push the fixed image there, or leave tag empty to set it in place", j.Tag, j.Source.Line)}
	case c.Mode == Set && c.Platform.IsZero() && !c.Auto:
		return &InputError{Input: "platform", Err: errPlatformRequired}
	}
	env := map[string]string{"DOCKER_HOST": in.DockerHost, "DOCKER_TLS_VERIFY": in.DockerTLSVerify}
	var err error
	c.Daemon, err = daemon.FromEnv(func(k string) string { return env[k] })
	return err
}

// workDaemon checks, plans or sets the engine's image j names, from one
// inspect (GET /images/{name}/json): no layer is read, nothing loaded or
// tagged. With platform auto the store is asked (GET /info), and the save
// stream (GET /images/{id}/get) read up to where the binaries settle the
// platform; a set goes on from the same stream. digest
// is the image ID the engine reports. A set goes on in setDaemon, or
// pushDaemon with a registry tag.
func workDaemon(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, j LocalJob) Result {
	ref := j.Source
	r := Result{Source: ref.Line, Target: ref.Line}
	fail := func(err error) Result {
		r.Err = describeDaemon(err, ref.Line, deps.Words)
		return r
	}
	if err := interrupted(ctx, "started"); err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r
	}
	im, err := cfg.Daemon.Inspect(ctx, daemonName(ref))
	if err != nil {
		return fail(err)
	}
	r = daemonResult(r, j, im)
	want, s, err := daemonWant(ctx, cfg, deps, im, r.Before[0], ref.Line)
	if err != nil {
		return fail(err)
	}
	if s != nil {
		defer s.Close()
	}
	have := r.Before[0]
	switch cfg.Mode {
	case Check:
		r.Findings, r.Err = findings(ref.Line, plan.CheckPlatform(ref.Line, have, want), deps.Words)
	case Plan:
		// What set would do, told from the inspect alone (and, with auto,
		// the binaries): a plan of many images costs one request each.
		r.Changed = want.IsZero() && !have.Complete() || !want.IsZero() && !(have.Valid() && platform.Same(have, want))
	case Set:
		r.DryRun = cfg.DryRun
		if j.Target != nil {
			if s != nil {
				// Its layers were read up to where detect stopped: the
				// push takes a save of its own.
				s.Close()
			}
			return pushDaemon(ctx, cfg, deps, clients, j, im, want, r)
		}
		r = setDaemon(ctx, cfg, deps, ref, im, want, s, r)
	}
	return r
}

// daemonResult is r for the engine's image im that j names: the platform
// the inspect gives, before and after, the image ID as both digests, and
// the target the image output names (a registry tag's repository when j
// pushes there).
func daemonResult(r Result, j LocalJob, im *daemon.Image) Result {
	have := platform.Platform{OS: im.OS, Architecture: im.Architecture, Variant: im.Variant, OSVersion: im.OSVersion}
	r.Before, r.After = []platform.Platform{have}, []platform.Platform{have}
	r.PreviousDigest, r.Digest = im.ID.String(), im.ID.String()
	r.TargetRepository, r.ByID = daemonRepository(j.Source)
	if j.Target != nil {
		r.ByID = false
		r.Target, r.TargetRepository = j.Target.String(), j.Target.Context().Name()
	}
	return r
}

// daemonWant is the platform to set on im, which declares have: the
// platform input, or with auto what the binaries say, read from a save
// of im (returned open, for a set to go on from) up to where they settle
// it.
func daemonWant(ctx context.Context, cfg *Config, deps Deps, im *daemon.Image, have platform.Platform, line string) (platform.Platform, *daemon.Save, error) {
	if !cfg.Auto {
		return cfg.Platform, nil, nil
	}
	// The store says how to read the save: a classic store's layers are
	// named by diff ID, a containerd store's are compressed blobs among
	// the JSON ones.
	store, err := cfg.Daemon.Store(ctx)
	if err != nil {
		return platform.Platform{}, nil, err
	}
	s, err := cfg.Daemon.Save(ctx, im, store)
	if err != nil {
		return platform.Platform{}, nil, err
	}
	detected, err := detectLayers(ctx, s.DetectLayers(), deps.Log, line)
	if err != nil {
		s.Close()
		return platform.Platform{}, nil, err
	}
	return plan.Refine(detected, have), s, nil
}

// settled says whether an image declaring have needs want set: done when
// it declares want already, a *plan.ConflictError when it declares
// another platform and overwrite is off.
func settled(cfg *Config, have, want platform.Platform) (done bool, err error) {
	if have.Valid() && platform.Same(have, want) {
		return true, nil
	}
	if plan.Conflicts(have, want) && !cfg.Overwrite {
		return false, &plan.ConflictError{Have: have, Want: want}
	}
	return false, nil
}

// setDaemon sets want on the engine's image im in place. In the classic
// store: the raw config from the save stream (s when auto opened it; read
// up to the config, no layer kept), patched, and loaded back with
// manifest.json alone; the image ID, the digest output, is the new
// config's digest. In the containerd image store, which keeps manifests
// and indexes: setContainerd. Either way the engine holds every layer, so
// none is sent, and the tag moves to the new image. An image already
// right costs nothing more than the inspect; a dry run reads the save and
// loads nothing.
func setDaemon(ctx context.Context, cfg *Config, deps Deps, ref imageref.Reference, im *daemon.Image, want platform.Platform, s *daemon.Save, r Result) Result {
	fail := func(err error) Result {
		r.Err = describeDaemon(err, ref.Line, deps.Words)
		return r
	}
	done, err := settled(cfg, r.Before[0], want)
	switch {
	case err != nil:
		return fail(err)
	case done:
		return r
	}
	store, err := cfg.Daemon.Store(ctx)
	if err != nil {
		return fail(err)
	}
	if store == daemon.Containerd {
		if r, err = setContainerd(ctx, cfg, deps, ref, im, want, s, r); err != nil {
			return fail(err)
		}
		return r
	}
	var config []byte
	if s != nil {
		config, err = s.Config()
	} else {
		config, err = readDaemonConfig(ctx, cfg.Daemon, im)
	}
	if err != nil {
		return fail(err)
	}
	if config, err = patch.SetPlatform(config, nil, want); err != nil {
		return fail(fmt.Errorf("patching config: %w", err))
	}
	r.Digest = oci.Digest(config).String()
	r.After = []platform.Platform{want}
	r.Changed = r.Digest != r.PreviousDigest
	if cfg.DryRun || !r.Changed {
		return r
	}
	if err := interrupted(ctx, "written"); err != nil {
		return fail(err)
	}
	tag := ""
	if ref.DaemonID.Hex == "" {
		tag = daemonName(ref)
	}
	ld, err := cfg.Daemon.Load(ctx, tag, config, len(im.DiffIDs))
	if err != nil {
		return fail(err)
	}
	r.Digest = ld.ID.String()
	return r
}

// readDaemonConfig reads im's config, byte for byte, from a classic
// store's save stream, which it closes before the rest is sent.
func readDaemonConfig(ctx context.Context, c *daemon.Client, im *daemon.Image) ([]byte, error) {
	s, err := c.Save(ctx, im, daemon.Classic)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Config()
}

// describeDaemon is err about the engine's image line, with what a person
// can do about it in the door's words: where the engine is, who may use
// its socket, how an image gets there.
func describeDaemon(err error, line string, words Words) error {
	err = fmt.Errorf("%s: %w", line, err)
	var ne *daemon.NoEngineError
	var pe *daemon.PermissionError
	var nf *daemon.NotFoundError
	var rf *plan.RefusalError
	var h Hint
	switch {
	case errors.As(err, &rf):
		// An index of several images: the fixes a registry's index takes
		// (no platform, a child by digest) have no docker-daemon: form,
		// a layout has.
		return fmt.Errorf("%w: docker save the image and name the file as oci-archive:FILE, where each child can be set from its index entry", err)
	case errors.As(err, &ne):
		h = HintNoEngine
	case errors.As(err, &pe):
		h = HintEnginePermission
	case errors.As(err, &nf):
		h = HintEngineNotFound
	case errors.As(err, new(*plan.ConflictError)):
		h = HintOverwrite
	default:
		return err
	}
	return &HintedError{Err: err, Hint: h, words: words.Hints.Words(h, "")}
}

// daemonRepository is what the image output puts before the image ID
// for ref: docker-daemon:<name> of the line's tag (then "@<id>"), or for
// an image named by its ID docker-daemon alone (then ":<id>", ByID), so
// that the output names the result as the line named its source: a
// tag's repository, or an ID.
func daemonRepository(ref imageref.Reference) (repo string, byID bool) {
	if ref.DaemonID.Hex != "" {
		return string(imageref.DockerDaemon), true
	}
	return string(imageref.DockerDaemon) + ":" + ref.Daemon.Context().Name(), false
}

// daemonName is how the engine names ref's image: its ID, or the tag in
// the engine's short form (app:1 for docker.io/library/app:1), which
// every engine version resolves alike.
func daemonName(ref imageref.Reference) string {
	if ref.DaemonID.Hex != "" {
		return ref.DaemonID.String()
	}
	t := ref.Daemon
	repo := t.RepositoryStr()
	if t.RegistryStr() != name.DefaultRegistry {
		return t.RegistryStr() + "/" + repo + ":" + t.TagStr()
	}
	return strings.TrimPrefix(repo, "library/") + ":" + t.TagStr()
}
