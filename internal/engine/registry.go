package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/limits"
	"github.com/set-image-platform/set-image-platform/internal/registry"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// This file is where the engine meets the registry package and
// go-containerregistry's names: image lines are parsed into store
// references here, and registries are opened from them. The rest of the
// engine carries store.Ref and store.RepoRef and works over
// store.Repository (TestEngineImports keeps it so).

// nameOptions are the name package's options for the run: insecure
// allows plain HTTP to every registry.
func nameOptions(insecure bool) []name.Option {
	if insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// parseRef parses a registry image line as the name package does.
func parseRef(s string, insecure bool) (store.Ref, error) {
	n, err := name.ParseReference(s, nameOptions(insecure)...)
	if err != nil {
		return store.Ref{}, err
	}
	return imageref.RefOf(n), nil
}

// tagInput is the tag input: none, a bare tag, or a full reference.
type tagInput struct {
	tag  string
	bare bool
	// full is the full reference, as go-containerregistry names it (a
	// layout published to a registry) and as the engine carries it.
	full   name.Tag
	target store.Ref
}

func parseTag(s string, images int, opts []name.Option) (tagInput, error) {
	t := tagInput{tag: strings.TrimSpace(s)}
	t.bare = t.tag != "" && tagRE.MatchString(t.tag)
	if t.tag == "" || t.bare {
		return t, nil
	}
	full, err := name.NewTag(t.tag, append(opts, name.StrictValidation)...)
	if err != nil {
		return t, &InputError{Input: "tag", Err: fmt.Errorf("parsing %q: want a bare tag such as fixed, or a full reference such as ghcr.io/owner/name:tag: %w", t.tag, err)}
	}
	if images > 1 {
		return t, &InputError{Input: "tag", Err: fmt.Errorf("%q is a full reference, which takes one image, not %d: use a bare tag to tag each image in its own repository", t.tag, images)}
	}
	t.full, t.target = full, imageref.RefOf(full)
	return t, nil
}

// refsOf are the registry references ns as the engine carries them.
func refsOf(ns []name.Reference) []store.Ref {
	out := make([]store.Ref, len(ns))
	for i, n := range ns {
		out[i] = imageref.RefOf(n)
	}
	return out
}

type clientResult struct {
	c   *registry.Client
	err error
}

// openClients opens one client per registry for the whole run, concurrently,
// with every repository's scope so that one token serves every request.
func openClients(ctx context.Context, cfg *Config, deps Deps, seenToken func(string)) map[string]clientResult {
	scopes := map[string]map[string]bool{} // registry -> repository -> push
	add := func(repo store.RepoRef, push bool) {
		if scopes[repo.Host] == nil {
			scopes[repo.Host] = map[string]bool{}
		}
		scopes[repo.Host][repo.Path] = scopes[repo.Host][repo.Path] || push
	}
	write := cfg.Mode == Set && !cfg.DryRun
	for _, j := range cfg.Jobs {
		add(j.Source.Repo, false)
		add(j.Target.Repo, write)
	}
	for _, p := range cfg.Patterns {
		add(p.Repository, write)
	}
	for _, t := range refsOf(targets(cfg.Local)) {
		add(t.Repo, write)
	}
	for _, j := range cfg.Local {
		if j.Source.Transport == imageref.Registry {
			add(imageref.RefOf(j.Source.Name).Repo, false)
		}
		if j.Job != nil {
			add(j.Job.Target.Repo, write)
		}
	}
	kc := keychain{creds: cfg.Creds, fallback: deps.Keychain}
	hosts := slices.Sorted(maps.Keys(scopes))
	opened := make([]clientResult, len(hosts))
	// A run names few registries: each is opened at once.
	limits.All(len(hosts), 0, func(i int) {
		host := hosts[i]
		var ss []registry.Scope
		for repo, push := range scopes[host] {
			ss = append(ss, registry.Scope{Repository: repo, Push: push})
		}
		sort.Slice(ss, func(a, b int) bool { return ss[a].Repository < ss[b].Repository })
		// host was parsed by the name package with these options: it
		// parses again.
		reg, err := name.NewRegistry(host, nameOptions(cfg.Insecure)...)
		if err != nil {
			opened[i] = clientResult{err: fmt.Errorf("parsing registry %q: %w", host, err)}
			return
		}
		c, err := registry.Open(ctx, reg, ss, registry.Options{
			Keychain:     kc,
			Insecure:     cfg.Insecure,
			Transport:    deps.Transport,
			UserAgent:    deps.UserAgent,
			Logf:         func(f string, a ...any) { deps.Log.Info(host + ": " + fmt.Sprintf(f, a...)) },
			StallTimeout: cfg.StallTimeout,
			Budget:       cfg.RegistryBudget,
			MaxRequests:  limits.Requests(cfg.Concurrency),
			SeenToken:    seenToken,
		})
		opened[i] = clientResult{c, err}
	})
	out := make(map[string]clientResult, len(hosts))
	for i, host := range hosts {
		out[host] = opened[i]
	}
	return out
}

// openRepo is repository r on its registry's client, opened for the run:
// the one place a registry repository is opened from a store reference.
// The error is why the client could not be opened.
func openRepo(clients map[string]clientResult, r store.RepoRef) (store.Repository, error) {
	c := clients[r.Host]
	if c.err != nil {
		return nil, c.err
	}
	return c.c.Repo(r.Path), nil
}

// withRetryLog returns ctx whose registry requests say their retries in
// logf.
func withRetryLog(ctx context.Context, logf func(string, ...any)) context.Context {
	return registry.WithLogf(ctx, logf)
}

// withDeclinedMounts returns ctx whose blob copies call f with each blob a
// registry declined to mount across its repositories, copied instead.
func withDeclinedMounts(ctx context.Context, f func(v1.Descriptor)) context.Context {
	return registry.WithDeclinedMounts(ctx, f)
}
