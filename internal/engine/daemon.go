package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// errDaemonSet is a set run (dry run included) of a docker-daemon: line:
// loading the patched config into the engine is not wired yet, and
// check and plan read only what the engine says of the image.
var errDaemonSet = errors.New("setting a platform in the Docker engine is not wired yet: only check and plan read docker-daemon: images; docker save the image and name the file as oci-archive:FILE or docker-archive:FILE to set it")

// checkDaemon refuses what a run of docker-daemon: lines does not do yet
// (set, dry run, platform auto, a tag) and makes the engine's client from
// DOCKER_HOST as the front door read it, before any request.
func (c *Config) checkDaemon(in Input) error {
	var line string
	for _, j := range c.Local {
		if j.Source.Transport == imageref.DockerDaemon {
			line = j.Source.Line
			break
		}
	}
	switch {
	case line == "":
		return nil
	case c.Mode == Set:
		return &InputError{Input: "image", Err: fmt.Errorf("%q: %w", line, errDaemonSet), Arg: line}
	case c.Auto:
		// Auto reads the binaries, which only the engine's save stream has.
		return &InputError{Input: "platform", Err: fmt.Errorf("auto with %q is not wired yet: give a platform such as linux/amd64, or none to check that one is declared", line)}
	case strings.TrimSpace(in.Tag) != "":
		return &InputError{Input: "tag", Err: fmt.Errorf("%q with %q is not wired yet: leave tag empty", strings.TrimSpace(in.Tag), line)}
	}
	env := map[string]string{"DOCKER_HOST": in.DockerHost, "DOCKER_TLS_VERIFY": in.DockerTLSVerify}
	var err error
	c.Daemon, err = daemon.FromEnv(func(k string) string { return env[k] })
	return err
}

// workDaemon checks or plans the engine's image ref names from one
// inspect (GET /images/{name}/json): no layer is read, nothing loaded or
// tagged. digest is the image ID the engine reports.
func workDaemon(ctx context.Context, cfg *Config, deps Deps, ref imageref.Reference) Result {
	r := Result{Source: ref.Line, Target: ref.Line}
	if err := interrupted(ctx, "started"); err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r
	}
	im, err := cfg.Daemon.Inspect(ctx, daemonName(ref))
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", ref.Line, err)
		return r
	}
	have := platform.Platform{OS: im.OS, Architecture: im.Architecture, Variant: im.Variant, OSVersion: im.OSVersion}
	r.Before, r.After = []platform.Platform{have}, []platform.Platform{have}
	r.PreviousDigest, r.Digest = im.ID.String(), im.ID.String()
	r.TargetRepository = daemonRepository(ref, im)
	if cfg.Mode == Check {
		r.Findings, r.Err = findings(ref.Line, plan.CheckPlatform(ref.Line, have, cfg.Platform), deps.Words)
	}
	return r
}

// daemonRepository is what the image output puts before "@<id>":
// docker-daemon:<name>, the name of the line's tag, or for an image named
// by its ID the repository of its first tag in the engine. An untagged
// image has none: the output is docker-daemon:@<id>, still its ID.
func daemonRepository(ref imageref.Reference, im *daemon.Image) string {
	if ref.DaemonID.Hex == "" {
		return string(imageref.DockerDaemon) + ":" + ref.Daemon.Context().Name()
	}
	for _, t := range im.RepoTags {
		if tag, err := name.NewTag(t); err == nil {
			return string(imageref.DockerDaemon) + ":" + tag.Context().Name()
		}
	}
	return string(imageref.DockerDaemon) + ":"
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
