package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/set-image-platform/set-image-platform/internal/detect"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// detectPlatform reads the platform of an image from its binaries,
// streaming its layers, and logs the evidence.
func detectPlatform(ctx context.Context, c *registry.Client, repo string, layers []plan.Descriptor, log Logger, what string) (platform.Platform, error) {
	ls := make([]detect.Layer, len(layers))
	for i, l := range layers {
		ls[i] = detect.Layer{
			Digest:    l.Digest.String(),
			MediaType: l.MediaType,
			Open:      func() (io.ReadCloser, error) { return c.OpenBlob(ctx, repo, l.Digest) },
		}
	}
	ev, err := detect.Detect(ctx, ls, detect.Options{})
	if err != nil {
		return platform.Platform{}, fmt.Errorf("detecting the platform of %s from its binaries: %w", what, err)
	}
	msg := fmt.Sprintf("%s: %s (read %s of %d layers)", what, ev, humanBytes(ev.BytesRead), ev.LayersRead)
	if len(ev.Ignored) > 0 {
		msg += "; ignored " + strings.Join(ev.Ignored, ", ")
	}
	if len(ev.Notes) > 0 {
		msg += "; " + strings.Join(ev.Notes, "; ")
	}
	log.Info(msg)
	return ev.Platform, nil
}

// detectChildren detects, concurrently, the platform of the index children
// need[i] marks.
func detectChildren(ctx context.Context, c *registry.Client, repo string, idx *plan.Index, children []*plan.Child, need []bool, log Logger) ([]platform.Platform, error) {
	out := make([]platform.Platform, len(children))
	var mu sync.Mutex
	err := each(ctx, len(children), func(ctx context.Context, i int) error {
		if !need[i] {
			return nil
		}
		p, err := detectPlatform(ctx, c, repo, children[i].Manifest.Layers, log, "child "+idx.Entries[i].Digest.String())
		mu.Lock()
		out[i] = p
		mu.Unlock()
		return err
	})
	return out, err
}
