package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/registry"
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
}

// Result is what happened to one image.
type Result struct {
	Source         string
	Target         string
	PreviousDigest string
	Digest         string
	Changed        bool
	Before, After  platform.Platform
	Err            error
}

// maxParallel bounds concurrent blob requests per image.
const maxParallel = 8

// Run processes every job of cfg in order and returns one result each.
func Run(ctx context.Context, cfg *Config, deps Deps) []Result {
	for _, n := range cfg.Notices {
		deps.Log.Notice(n)
	}
	clients := openClients(ctx, cfg, deps)
	results := make([]Result, len(cfg.Jobs))
	for i, j := range cfg.Jobs {
		deps.Log.Group(j.Source.String())
		r := runJob(ctx, cfg, deps, clients, j)
		if r.Err == nil {
			deps.Log.Info(SummaryLine(r))
		} else {
			deps.Log.Error(r.Err.Error())
		}
		deps.Log.EndGroup()
		results[i] = r
	}
	return results
}

type clientResult struct {
	c   *registry.Client
	err error
}

// openClients opens one client per registry for the whole run, concurrently,
// with every repository's scope so that one token serves every request.
func openClients(ctx context.Context, cfg *Config, deps Deps) map[string]clientResult {
	scopes := map[string]map[string]bool{} // registry -> repository -> push
	regs := map[string]name.Registry{}
	add := func(repo name.Repository, push bool) {
		reg := repo.Registry
		if scopes[reg.RegistryStr()] == nil {
			scopes[reg.RegistryStr()] = map[string]bool{}
			regs[reg.RegistryStr()] = reg
		}
		scopes[reg.RegistryStr()][repo.RepositoryStr()] = scopes[reg.RegistryStr()][repo.RepositoryStr()] || push
	}
	write := cfg.Mode == Set && !cfg.DryRun
	for _, j := range cfg.Jobs {
		add(j.Source.Context(), false)
		add(j.Target.Context(), write)
	}
	kc := keychain{creds: cfg.Creds, fallback: deps.Keychain}
	out := make(map[string]clientResult, len(regs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for host, reg := range regs {
		var ss []registry.Scope
		for repo, push := range scopes[host] {
			ss = append(ss, registry.Scope{Repository: repo, Push: push})
		}
		sort.Slice(ss, func(a, b int) bool { return ss[a].Repository < ss[b].Repository })
		wg.Go(func() {
			c, err := registry.Open(ctx, reg, ss, registry.Options{
				Keychain:  kc,
				Insecure:  cfg.Insecure,
				Transport: deps.Transport,
				UserAgent: deps.UserAgent,
			})
			mu.Lock()
			out[host] = clientResult{c, err}
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func runJob(ctx context.Context, cfg *Config, deps Deps, clients map[string]clientResult, j Job) Result {
	r := Result{Source: j.Source.String(), Target: j.Target.Context().Name()}
	src, dst := clients[j.Source.Context().RegistryStr()], clients[j.Target.Context().RegistryStr()]
	if src.err != nil {
		r.Err = describe(src.err, j.Source, false)
		return r
	}
	if dst.err != nil {
		r.Err = describe(dst.err, j.Target, true)
		return r
	}
	c, err := read(ctx, src.c, j.Source, cfg)
	if err != nil {
		r.Err = describe(err, j.Source, false)
		return r
	}
	r.PreviousDigest, r.Digest = c.PreviousDigest.String(), c.Digest.String()
	r.Before, r.After, r.Changed = c.Before, c.After, c.Changed
	if cfg.Mode == Check || cfg.DryRun || (!c.Changed && sameTarget(j)) {
		return r
	}
	if err := apply(ctx, deps, src.c, dst.c, j, c); err != nil {
		r.Err = describe(err, j.Target, true)
		return r
	}
	return r
}

// sameTarget reports whether the result goes back where it was read from.
func sameTarget(j Job) bool { return j.Source.String() == j.Target.String() }

// read fetches manifest and config and plans the change.
func read(ctx context.Context, c *registry.Client, ref name.Reference, cfg *Config) (*plan.Change, error) {
	repo := ref.Context().RepositoryStr()
	m, err := c.GetManifest(ctx, repo, ref.Identifier())
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	pm, err := plan.ParseManifest(m.MediaType, m.Bytes)
	if err != nil {
		var ue *plan.UnsupportedError
		if errors.As(err, &ue) && plan.IsIndex(ue.MediaType) {
			return nil, fmt.Errorf("%w: image indexes (multi-platform images) are not supported yet; point image at a single-platform manifest by digest", err)
		}
		return nil, err
	}
	if pm.Config.Size > registry.MaxConfigSize {
		return nil, fmt.Errorf("reading config %s: %w", pm.Config.Digest, &registry.TooLargeError{What: "config", Limit: registry.MaxConfigSize})
	}
	cfgBytes, err := c.GetBlob(ctx, repo, pm.Config.Digest, registry.MaxConfigSize, "config")
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return plan.SetImage(plan.Image{MediaType: m.MediaType, Manifest: m.Bytes, Digest: m.Digest, Config: cfgBytes}, pm, cfg.Platform, cfg.Overwrite)
}

// apply writes the plan: every blob the manifest needs in the target
// repository, then the manifest, then reads the digest back.
func apply(ctx context.Context, deps Deps, src, dst *registry.Client, j Job, c *plan.Change) error {
	from, to := j.Source.Context(), j.Target.Context()
	var blobs []blobCopy
	if c.ConfigChanged {
		blobs = append(blobs, blobCopy{upload: c.Config, d: c.ConfigDigest})
	}
	if from.Name() != to.Name() {
		if !c.ConfigChanged {
			blobs = append(blobs, blobCopy{d: c.OldConfig.Digest, size: c.OldConfig.Size})
		}
		for _, l := range c.Layers {
			blobs = append(blobs, blobCopy{d: l.Digest, size: l.Size})
		}
	}
	if from.RegistryStr() != to.RegistryStr() && len(c.Layers) > 0 {
		var total int64
		for _, l := range c.Layers {
			total += l.Size
		}
		deps.Log.Notice(fmt.Sprintf("%s is on another registry than %s: streaming %d layers (%s) across", to.RegistryStr(), from.RegistryStr(), len(c.Layers), humanBytes(total)))
	}
	if err := copyBlobs(ctx, src, dst, from, to, blobs); err != nil {
		return err
	}
	ref := j.Target.Identifier()
	if _, ok := j.Target.(name.Digest); ok {
		ref = c.Digest.String()
	}
	if err := dst.PutManifest(ctx, to.RepositoryStr(), ref, c.Manifest, c.MediaType); err != nil {
		return fmt.Errorf("pushing manifest: %w", err)
	}
	got, err := dst.HeadManifest(ctx, to.RepositoryStr(), ref, c.MediaType)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", ref, err)
	}
	if got != c.Digest {
		return fmt.Errorf("reading back %s: registry holds %s, pushed %s (another run may have moved the tag)", ref, got, c.Digest)
	}
	return nil
}

// blobCopy is one blob the target needs: bytes to upload, or a blob of the
// source to mount (same registry) or stream (another registry).
type blobCopy struct {
	upload []byte
	d      v1.Hash
	size   int64
}

func copyBlobs(ctx context.Context, src, dst *registry.Client, from, to name.Repository, blobs []blobCopy) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, maxParallel)
	errs := make([]error, len(blobs))
	var wg sync.WaitGroup
	for i, b := range blobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := copyBlob(ctx, src, dst, from, to, b); err != nil {
				errs[i] = err
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

func copyBlob(ctx context.Context, src, dst *registry.Client, from, to name.Repository, b blobCopy) error {
	repo := to.RepositoryStr()
	if b.upload != nil {
		if err := dst.PushBlob(ctx, repo, b.d, int64(len(b.upload)), bytesReader(b.upload)); err != nil {
			return fmt.Errorf("uploading config %s: %w", b.d, err)
		}
		return nil
	}
	var loc string
	if from.RegistryStr() == to.RegistryStr() {
		mounted, l, err := dst.Mount(ctx, repo, from.RepositoryStr(), b.d)
		if err != nil {
			return fmt.Errorf("mounting %s from %s: %w", b.d, from.RepositoryStr(), err)
		}
		if mounted {
			return nil
		}
		loc = l
	}
	rc, err := src.OpenBlob(ctx, from.RepositoryStr(), b.d)
	if err != nil {
		return fmt.Errorf("reading blob %s: %w", b.d, err)
	}
	defer rc.Close()
	if loc != "" {
		err = dst.FinishUpload(ctx, loc, b.d, b.size, rc)
	} else {
		err = dst.PushBlob(ctx, repo, b.d, b.size, rc)
	}
	if err != nil {
		return fmt.Errorf("copying blob %s: %w", b.d, err)
	}
	return nil
}
