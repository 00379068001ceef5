package engine

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/detect"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// detectPlatform reads the platform of an image from its binaries,
// streaming its layers, and logs the evidence.
func detectPlatform(ctx context.Context, repo store.Repository, layers []plan.Descriptor, log Logger, what string) (platform.Platform, error) {
	ls := make([]detect.Layer, len(layers))
	for i, l := range layers {
		ls[i] = detect.Layer{
			Digest:    l.Digest.String(),
			MediaType: string(l.MediaType),
			Open:      func() (io.ReadCloser, error) { return repo.OpenBlob(ctx, l.Digest) },
		}
	}
	return detectLayers(ctx, ls, log, what)
}

// detectLayers reads the platform of the binaries of layers (top one
// first) and logs the evidence: what names the image.
func detectLayers(ctx context.Context, ls []detect.Layer, log Logger, what string) (platform.Platform, error) {
	ev, err := detect.Detect(ctx, ls, detect.Options{})
	if err != nil {
		return platform.Platform{}, err
	}
	msg := fmt.Sprintf("%s: %s (read %s of %d layers)", what, ev, humanBytes(ev.BytesRead), ev.LayersRead)
	if len(ev.Ignored) > 0 {
		msg += "; ignored " + strings.Join(ev.Ignored, "; ")
	}
	if len(ev.Notes) > 0 {
		msg += "; " + strings.Join(ev.Notes, "; ")
	}
	log.Info(msg)
	return ev.Platform, nil
}

// detectTree reads, concurrently, the binaries of the images of the tree
// the planner names, and records what they show on each.
func detectTree(ctx context.Context, repo store.Repository, root *plan.Node, cfg *Config, log Logger, ref string) error {
	nodes, err := plan.ToDetect(root, cfg.Mode == Check, cfg.Overwrite)
	if err != nil {
		return err
	}
	return each(ctx, len(nodes), func(ctx context.Context, i int) error {
		n, what := nodes[i], ref
		if n.Entry != nil {
			what = "child " + n.Entry.Digest.String()
		}
		p, err := detectPlatform(ctx, repo, n.Manifest.Layers, log, what)
		if err != nil {
			if n.Entry != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			return err
		}
		n.Detected = plan.Refine(p, n.Declared)
		return nil
	})
}
