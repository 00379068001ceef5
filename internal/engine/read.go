package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// manifestPush is a manifest the target needs, by digest or as the top.
type manifestPush struct {
	digest    v1.Hash
	mediaType string
	bytes     []byte
}

// planned is what read found and what apply must write.
type planned struct {
	prev, digest  v1.Hash
	top           manifestPush
	before, after []platform.Platform
	changed       bool
	// uploads are new blobs (configs) as bytes.
	uploads []blobCopy
	// copies are the source's blobs a target in another repository needs.
	copies []blobCopy
	// foreign are the non-distributable layers such a target refers to but
	// does not get: clients fetch them from their urls.
	foreign []v1.Hash
	// children are child manifests to push by digest before the top one.
	children []manifestPush
	stale    []string
	findings []string
}

// read fetches what ref is and plans the change. With copyAll (the target
// is another repository) it also lists every blob and child manifest the
// target needs.
func read(ctx context.Context, c *registry.Client, ref name.Reference, cfg *Config, copyAll bool, log Logger) (*planned, error) {
	repo := ref.Context().RepositoryStr()
	m, err := c.GetManifest(ctx, repo, ref.Identifier())
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	if plan.IsIndex(m.MediaType) {
		return readIndex(ctx, c, ref, m, cfg, copyAll, log)
	}
	pm, err := plan.ParseManifest(m.MediaType, m.Bytes)
	if err != nil {
		return nil, err
	}
	cfgBytes, err := fetchConfig(ctx, c, repo, pm)
	if err != nil {
		return nil, err
	}
	img := plan.Image{MediaType: m.MediaType, Manifest: m.Bytes, Digest: m.Digest, Config: cfgBytes}
	have, err := patch.ReadPlatform(cfgBytes, nil)
	if err != nil {
		return nil, fmt.Errorf("reading platform of config %s: %w", pm.Config.Digest, err)
	}
	want := cfg.Platform
	if cfg.Auto {
		found, err := detectPlatform(ctx, c, repo, pm.Layers, log, ref.String())
		if err != nil {
			return nil, err
		}
		want = refine(found, have)
	}
	if cfg.Mode == Check {
		p := &planned{prev: m.Digest, digest: m.Digest, before: []platform.Platform{have}, after: []platform.Platform{have}}
		p.findings = checkImage(ref.String(), "", have, want)
		return p, nil
	}
	if want.IsZero() {
		return nil, &InputError{"platform", errors.New(`required in set mode for a single image: give os/arch such as linux/amd64, or "auto" to read it from the image's binaries`)}
	}
	ch, err := plan.SetImage(img, pm, want, cfg.Overwrite)
	if err != nil {
		return nil, err
	}
	p := &planned{
		prev: ch.PreviousDigest, digest: ch.Digest, changed: ch.Changed,
		top:    manifestPush{digest: ch.Digest, mediaType: ch.MediaType, bytes: ch.Manifest},
		before: []platform.Platform{ch.Before}, after: []platform.Platform{ch.After},
	}
	p.addChild(ch, copyAll)
	return p, nil
}

// addChild adds the blobs an image's (new) manifest needs.
func (p *planned) addChild(ch *plan.Change, copyAll bool) {
	if ch.ConfigChanged {
		p.uploads = append(p.uploads, blobCopy{upload: ch.Config, d: ch.ConfigDigest})
	} else {
		p.copies = append(p.copies, blobCopy{d: ch.OldConfig.Digest, size: ch.OldConfig.Size})
	}
	for _, l := range ch.Layers {
		p.addCopy(l)
	}
}

// addCopy adds a blob of the source that a target in another repository
// needs, unless it is non-distributable.
func (p *planned) addCopy(b plan.Descriptor) {
	if !distributable(b.MediaType) {
		if !slices.Contains(p.foreign, b.Digest) {
			p.foreign = append(p.foreign, b.Digest)
		}
		return
	}
	p.copies = append(p.copies, blobCopy{d: b.Digest, size: b.Size})
}

// distributable reports whether a blob of mediaType may be pushed to
// another repository. Non-distributable (foreign) layers, such as those of
// Windows base images, are fetched from their urls and not held by
// registries; go-containerregistry knows all but the zstd variant of OCI's.
func distributable(mediaType string) bool {
	return types.MediaType(mediaType).IsDistributable() &&
		!strings.HasPrefix(mediaType, "application/vnd.oci.image.layer.nondistributable.")
}

func fetchConfig(ctx context.Context, c *registry.Client, repo string, pm *plan.Manifest) ([]byte, error) {
	if pm.Config.Size > registry.MaxConfigSize {
		return nil, fmt.Errorf("reading config %s: %w", pm.Config.Digest, &registry.TooLargeError{What: "config", Limit: registry.MaxConfigSize})
	}
	b, err := c.GetBlob(ctx, repo, pm.Config.Digest, registry.MaxConfigSize, "config")
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return b, nil
}

// readIndex reads an index's children concurrently and plans the index.
func readIndex(ctx context.Context, c *registry.Client, ref name.Reference, m *registry.Manifest, cfg *Config, copyAll bool, log Logger) (*planned, error) {
	repo := ref.Context().RepositoryStr()
	idx, err := plan.ParseIndex(m.MediaType, m.Digest, m.Bytes)
	if err != nil {
		return nil, err
	}
	children := make([]*plan.Child, len(idx.Entries))
	others := make([]*registry.Manifest, len(idx.Entries))
	errs := make([]error, len(idx.Entries))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, e := range idx.Entries {
		if e.Attestation() && !copyAll {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			children[i], others[i], errs[i] = readChild(ctx, c, repo, e)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	var detected []platform.Platform
	if cfg.Auto {
		need, err := needDetection(idx, children, cfg)
		if err != nil {
			return nil, err
		}
		if detected, err = detectChildren(ctx, c, repo, idx, children, need, log); err != nil {
			return nil, err
		}
	}
	if cfg.Mode == Check {
		return checkIndex(ref, idx, children, cfg.Platform, detected)
	}
	ic, err := plan.SetIndex(idx, children, cfg.Platform, cfg.Overwrite, detected)
	if err != nil {
		return nil, err
	}
	p := &planned{
		prev: ic.PreviousDigest, digest: ic.Digest, changed: ic.Changed,
		top:    manifestPush{digest: ic.Digest, mediaType: ic.MediaType, bytes: ic.Bytes},
		before: ic.Before, after: ic.After, stale: ic.Stale,
	}
	for i, ch := range ic.Children {
		switch {
		case ch != nil:
			p.addChild(ch, copyAll)
			if ch.Changed || copyAll {
				p.children = append(p.children, manifestPush{digest: ch.Digest, mediaType: ch.MediaType, bytes: ch.Manifest})
			}
		case others[i] != nil && copyAll:
			o := others[i]
			blobs, err := plan.Blobs(o.Bytes)
			if err != nil {
				return nil, fmt.Errorf("child %s: %w", o.Digest, err)
			}
			for _, b := range blobs {
				p.addCopy(b)
			}
			p.children = append(p.children, manifestPush{digest: o.Digest, mediaType: o.MediaType, bytes: o.Bytes})
		}
	}
	return p, nil
}

// readChild reads one index entry: an image child with its config, or
// another manifest kept as it is.
func readChild(ctx context.Context, c *registry.Client, repo string, e plan.Entry) (*plan.Child, *registry.Manifest, error) {
	m, err := c.GetManifest(ctx, repo, e.Digest.String())
	if err != nil {
		return nil, nil, fmt.Errorf("reading child %s: %w", e.Digest, err)
	}
	if m.MediaType != e.MediaType && e.MediaType != "" {
		return nil, nil, fmt.Errorf("reading child %s: index says %q, registry serves %q", e.Digest, e.MediaType, m.MediaType)
	}
	if e.Attestation() {
		return nil, m, nil
	}
	pm, err := plan.ParseManifest(m.MediaType, m.Bytes)
	var ue *plan.UnsupportedError
	switch {
	case errors.As(err, &ue) && (ue.MediaType == plan.DockerSchema1 || ue.MediaType == plan.DockerSchema1JW):
		return nil, nil, fmt.Errorf("child %s: %w", e.Digest, err)
	case errors.As(err, &ue):
		return nil, m, nil // not an image: kept as it is
	case err != nil:
		return nil, nil, fmt.Errorf("child %s: %w", e.Digest, err)
	}
	cfgBytes, err := fetchConfig(ctx, c, repo, pm)
	if err != nil {
		return nil, nil, fmt.Errorf("child %s: %w", e.Digest, err)
	}
	return &plan.Child{Image: plan.Image{MediaType: m.MediaType, Manifest: m.Bytes, Digest: m.Digest, Config: cfgBytes}, Manifest: pm}, nil, nil
}

// needDetection marks the image children whose binaries must be read: in
// check mode all of them; in set mode those with no platform anywhere, and,
// with overwrite, those whose entry and config disagree or declare a field
// that is not a valid name.
func needDetection(idx *plan.Index, children []*plan.Child, cfg *Config) ([]bool, error) {
	need := make([]bool, len(children))
	for i, c := range children {
		if c == nil {
			continue
		}
		if cfg.Mode == Check {
			need[i] = true
			continue
		}
		have, err := patch.ReadPlatform(c.Image.Config, nil)
		if err != nil {
			return nil, fmt.Errorf("reading platform of child %s: %w", idx.Entries[i].Digest, err)
		}
		e := idx.Entries[i].Platform
		need[i] = !have.Complete() && !e.Complete() ||
			cfg.Overwrite && have.Complete() && e.Complete() && !platform.Same(have, e) ||
			cfg.Overwrite && (!have.Valid() || !e.Valid())
	}
	return need, nil
}
