package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/set-image-platform/set-image-platform/internal/detect"
	"github.com/set-image-platform/set-image-platform/internal/patch"
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

// refine keeps what binaries cannot show: when the declared platform names
// the same platform as the detected one, it stands as declared (an arm64
// "v8" variant stays); else an OS version declared for the detected OS is
// kept. Fields that are not valid names are never kept.
func refine(detected, declared platform.Platform) platform.Platform {
	if declared.Complete() && declared.Valid() && platform.Same(declared, detected) {
		return declared
	}
	if declared.OS == detected.OS && detected.OSVersion == "" && platform.ValidField(declared.OSVersion) {
		detected.OSVersion = declared.OSVersion
	}
	if declared.OS == detected.OS && declared.Architecture == detected.Architecture && detected.Variant == "" && platform.ValidField(declared.Variant) {
		detected.Variant = declared.Variant
	}
	return detected
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
		what := "child " + idx.Entries[i].Digest.String()
		p, err := detectPlatform(ctx, c, repo, children[i].Manifest.Layers, log, what)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		have, err := patch.ReadPlatform(children[i].Image.Config, nil)
		if err != nil {
			return fmt.Errorf("reading platform of %s: %w", what, err)
		}
		mu.Lock()
		out[i] = refine(p, have)
		mu.Unlock()
		return nil
	})
	return out, err
}
