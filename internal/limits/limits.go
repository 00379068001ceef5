package limits

import "sync"

// How much a run does at once. Each bound holds something different, and
// only Requests holds a registry's load: every request of every goroutine
// the other bounds let run waits for one of its slots, so those bounds
// only keep goroutines, and the memory they hold, few.
//
//   - Images (the concurrency input: DefaultImages, 1 to MaxImages): the
//     images, or tags sharing a digest, worked at once, each through every
//     stage.
//   - Requests: the requests in flight to one registry, RequestsPerImage
//     for each image worked at once, as an image has a read or two in
//     flight at a time; DefaultRequests for a client opened without a
//     bound. A 429 lowers it for a while (registry.Limiter). The manifest
//     reads that group tags by digest, one request each, run as many at
//     once as it lets through.
//   - PerStage: the goroutines of one stage of one image: children read,
//     blobs uploaded, child manifests pushed, tags sharing the digest
//     pointed at the result, changed digests looked up for referrers.
//   - ManifestReads: the referrer manifests read at once for one subject
//     (for each of the lookups PerStage lets run).
const (
	DefaultImages    = 4
	MaxImages        = 256
	RequestsPerImage = 2
	DefaultRequests  = 8
	PerStage         = 8
	ManifestReads    = 4
)

// Requests is the bound on requests in flight to one registry when images
// are worked at once.
func Requests(images int) int { return RequestsPerImage * images }

// All calls f(i) for each i from 0 to n-1, at most limit at once (no
// bound when limit < 1), and returns when every call has returned. Every
// call runs, whatever the others meet: f keeps its result and error at i,
// so that one failure never hides another, and an error says every item
// that failed.
func All(n, limit int, f func(i int)) {
	var sem chan struct{}
	if limit > 0 {
		sem = make(chan struct{}, limit)
	}
	var wg sync.WaitGroup
	for i := range n {
		if sem != nil {
			// Like errgroup's SetLimit: a call starts when a slot frees,
			// so that n goroutines never wait at once.
			sem <- struct{}{}
		}
		wg.Go(func() {
			if sem != nil {
				defer func() { <-sem }()
			}
			f(i)
		})
	}
	wg.Wait()
}
