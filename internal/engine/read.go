package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/set-image-platform/set-image-platform/internal/limits"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// read reads the tree id names in repo (its manifest is m when not nil),
// detects where the planner says, and plans it; what names the image in
// messages. With copyAll (the target is another repository) it also reads
// what a copy needs.
func read(ctx context.Context, repo store.Repository, id, what string, m *store.Manifest, cfg *Config, copyAll bool, log Logger) (*plan.Plan, error) {
	return readUnder(ctx, repo, id, what, m, nil, cfg, copyAll, log)
}

// readUnder is read of an image listed in an index of its place under
// entry (a layout's index.json entry with a platform), which is checked
// against its config as an index's entry is; entry nil is read.
func readUnder(ctx context.Context, repo store.Repository, id, what string, m *store.Manifest, entry *plan.Entry, cfg *Config, copyAll bool, log Logger) (*plan.Plan, error) {
	root, err := readTree(ctx, repo, id, m, copyAll)
	if err != nil {
		return nil, err
	}
	if root.Index == nil {
		root.Entry = entry
	}
	if cfg.Auto {
		if err := detectTree(ctx, repo, root, cfg, log, what); err != nil {
			return nil, err
		}
	}
	if cfg.Mode == Check {
		return plan.Check(root, what, cfg.Platform)
	}
	p, err := plan.Set(root, cfg.Platform, cfg.Overwrite)
	if errors.Is(err, plan.ErrNoPlatform) {
		return nil, &InputError{Input: "platform", Err: errPlatformRequired}
	}
	return p, err
}

// errPlatformRequired is a single image set with no platform: the front
// door words what to give (HintPlatform).
var errPlatformRequired = errors.New("required for a single image")

// readTree reads the manifest at ref, unless m is it already, and, for an
// index, its children concurrently; for images, their configs.
func readTree(ctx context.Context, repo store.Repository, ref string, m *store.Manifest, copyAll bool) (*plan.Node, error) {
	if m == nil {
		var err error
		if m, err = repo.GetManifest(ctx, ref); err != nil {
			return nil, fmt.Errorf("reading manifest: %w", err)
		}
	}
	img := plan.Image{MediaType: m.MediaType, Manifest: m.Bytes, Digest: m.Digest}
	if !m.MediaType.IsIndex() {
		pm, err := plan.ParseManifest(m.MediaType, m.Bytes)
		if err != nil {
			return nil, err
		}
		if img.Config, err = fetchConfig(ctx, repo, pm); err != nil {
			return nil, err
		}
		return plan.NewImage(img, pm, nil), nil
	}
	idx, err := plan.ParseIndex(m.MediaType, m.Digest, m.Bytes)
	if err != nil {
		return nil, err
	}
	children := make([]*plan.Node, len(idx.Entries))
	// Every child is read, so that the error names each one that failed.
	errs := make([]error, len(idx.Entries))
	limits.All(len(idx.Entries), limits.PerStage, func(i int) {
		if e := &idx.Entries[i]; plan.NeedsRead(*e, copyAll) {
			children[i], errs[i] = readChild(ctx, repo, e)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return plan.NewIndex(idx, children), nil
}

// readChild reads one index entry: an image child with its config, or
// another manifest kept as it is.
func readChild(ctx context.Context, repo store.Repository, e *plan.Entry) (*plan.Node, error) {
	m, err := repo.GetManifest(ctx, e.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("reading child %s: %w", e.Digest, err)
	}
	img := plan.Image{MediaType: m.MediaType, Manifest: m.Bytes, Digest: m.Digest}
	pm, err := plan.ReadChild(*e, img)
	if err != nil {
		return nil, err
	}
	if pm == nil {
		return plan.NewOther(img, e), nil
	}
	if img.Config, err = fetchConfig(ctx, repo, pm); err != nil {
		return nil, fmt.Errorf("child %s: %w", e.Digest, err)
	}
	return plan.NewImage(img, pm, e), nil
}

func fetchConfig(ctx context.Context, repo store.Repository, pm *plan.Manifest) ([]byte, error) {
	if pm.Config.Size > store.MaxConfigSize {
		return nil, fmt.Errorf("reading config %s: %w", pm.Config.Digest, &store.TooLargeError{What: "config", Limit: store.MaxConfigSize})
	}
	b, err := repo.GetBlob(ctx, pm.Config.Digest, store.MaxConfigSize, "config")
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return b, nil
}
