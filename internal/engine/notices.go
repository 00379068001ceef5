package engine

import (
	"context"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// declinedMounts counts the blobs a registry declined to mount across
// repositories and that were copied instead: the README promises no layer
// moves within a registry, so a copy is said.
type declinedMounts struct {
	mu    sync.Mutex
	n     int
	bytes int64
}

// watchMounts returns ctx whose blob copies are counted in the returned
// declinedMounts.
func watchMounts(ctx context.Context) (context.Context, *declinedMounts) {
	d := &declinedMounts{}
	return withDeclinedMounts(ctx, func(desc v1.Descriptor) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.n++
		d.bytes += desc.Size
	}), d
}

// notice says, once for the image, what was copied because the registry
// declined to mount it.
func (d *declinedMounts) notice(log Logger, from, to store.RepoRef) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		return
	}
	log.Notice(fmt.Sprintf("%s declined to mount %s from %s (it answered the mount with an upload): copied %s instead", to.Name(), count(d.n, "blob"), from.Name(), humanBytes(d.bytes)))
}

// noticeUntagged says that a digest pushed with no tag may not last: a
// source named by digest, with no tag to write, leaves the new manifest
// untagged, and registry garbage collection and retention rules delete
// untagged manifests.
func noticeUntagged(log Logger, words Words, j Job, digest string) {
	if !j.Target.IsDigest() {
		return
	}
	how := "set the `tag` input"
	if words.Input != nil {
		how = "pass " + words.Input("tag")
	}
	log.Notice(fmt.Sprintf("%s@%s is pushed by digest with no tag, as the source was named by digest: registry garbage collection and retention (lifecycle) rules may delete an untagged manifest; to keep it, %s (a bare tag such as 1.0-fixed tags it in the same repository)", j.Target.Repo.Name(), digest, how))
}
