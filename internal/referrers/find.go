package referrers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/limits"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// How a referrer was found: the values of Referrer.FoundBy.
const (
	ByReferrersAPI = "referrers-api"
	ByFallbackTag  = "fallback-tag"
	ByCosignTag    = "cosign-tag"
	// ByLayout is a manifest of an OCI layout (its index.json, or an
	// index it lists) whose subject is the digest.
	ByLayout = "layout"
)

// CosignSuffixes are the suffixes of cosign's tags, sha256-<hex>.<suffix>.
var CosignSuffixes = []string{"sig", "att", "sbom"}

// Referrer is a manifest that refers to Subject. The JSON form is the one
// of a result's "referrers" list.
type Referrer struct {
	Subject      v1.Hash `json:"subject"`
	Digest       v1.Hash `json:"digest"`
	MediaType    string  `json:"mediaType"`
	ArtifactType string  `json:"artifactType"`
	FoundBy      string  `json:"found-by"`
	// Size is the size of the referrer's manifest.
	Size int64 `json:"-"`
	// Tag is the cosign tag it was found at, for ByCosignTag.
	Tag string `json:"-"`
	// Manifest is the referrer's manifest as read; nil when reading it
	// failed (the failure is in Find's error).
	Manifest []byte `json:"-"`
}

// ErrNoAPI is wrapped by Source.ReferrersPage when the registry does not
// serve the referrers API (store.ErrNoReferrersAPI, which a
// store.ReferrersLister wraps).
var ErrNoAPI = store.ErrNoReferrersAPI

// Source is one repository as discovery reads it. An error for something
// that does not exist has a method NotFound() bool that reports true (as
// the registry package's *Error has).
type Source interface {
	// GetManifest reads the manifest at ref, a tag or a digest.
	GetManifest(ctx context.Context, ref string) (mediaType string, body []byte, digest v1.Hash, err error)
	// ReferrersPage reads one page of the referrers API's list for
	// subject: the first when page is "", else the page a previous call
	// returned as next. next is "" on the last page. An error wraps
	// ErrNoAPI when the registry has no referrers API.
	ReferrersPage(ctx context.Context, subject v1.Hash, page string) (body []byte, next string, err error)
}

// MaxPages bounds how many pages of the referrers API are read for one
// subject, against a registry whose Link never ends.
const MaxPages = 1000

// LookupError is one lookup that could not be made: What names it
// ("referrers API", "fallback tag sha256-…", "cosign tag sha256-….sig",
// "manifest sha256:… listed by the fallback tag").
type LookupError struct {
	What string
	Err  error
}

func (e *LookupError) Error() string { return fmt.Sprintf("could not check %s: %v", e.What, e.Err) }
func (e *LookupError) Unwrap() error { return e.Err }

// IncompleteError is Find's error when some lookups failed; the referrers
// Find returns with it are what the other lookups found.
type IncompleteError struct {
	Subject v1.Hash
	Lookups []*LookupError
}

func (e *IncompleteError) Error() string {
	parts := make([]string, len(e.Lookups))
	for i, l := range e.Lookups {
		parts[i] = fmt.Sprintf("%s (%v)", l.What, l.Err)
	}
	return fmt.Sprintf("could not check referrers of %s: %s", e.Subject, strings.Join(parts, "; "))
}

// Unwrap returns the failed lookups.
func (e *IncompleteError) Unwrap() []error {
	errs := make([]error, len(e.Lookups))
	for i, l := range e.Lookups {
		errs[i] = l
	}
	return errs
}

// Found is what Find found for one subject.
type Found struct {
	Referrers []Referrer
	// API reports whether the registry serves the referrers API: a carried
	// artifact is listed by it, else by the fallback tag.
	API bool
	// Foreign are manifests a list named whose subject is another digest:
	// not referrers of this one, whatever the registry listed.
	Foreign []Foreign
}

// Foreign is a manifest listed as a referrer of a digest whose own
// subject names another.
type Foreign struct {
	Digest v1.Hash
	// Subject is the digest its subject names, as written.
	Subject string
	// ListedBy is the list that named it: "the referrers API" or "the
	// fallback tag".
	ListedBy string
}

// FallbackTag is the OCI fallback tag of d: sha256-<hex>.
func FallbackTag(d v1.Hash) string { return d.Algorithm + "-" + d.Hex }

// Find finds every referrer of subject in src: through the referrers API,
// the fallback tag and cosign's tags, all at once. Each referrer is named
// once: one the API lists is not named again for the fallback tag, nor one
// either lists for a cosign tag. Referrers are sorted by how they were found,
// then by digest. When lookups fail, Find returns what the others found and
// an *IncompleteError naming the failed ones.
func Find(ctx context.Context, src Source, subject v1.Hash) (Found, error) {
	f := finder{ctx: ctx, src: src, subject: subject, sem: make(chan struct{}, limits.ManifestReads)}
	var wg sync.WaitGroup
	wg.Go(f.viaAPI)
	wg.Go(f.viaFallbackTag)
	for _, s := range CosignSuffixes {
		wg.Go(func() { f.viaCosignTag(FallbackTag(subject) + "." + s) })
	}
	wg.Wait()
	slices.SortFunc(f.foreign, func(a, b Foreign) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	out := Found{Referrers: dedupe(f.found), API: f.api, Foreign: slices.CompactFunc(f.foreign, func(a, b Foreign) bool { return a.Digest == b.Digest })}
	if len(f.failed) == 0 {
		return out, nil
	}
	slices.SortFunc(f.failed, func(a, b *LookupError) int { return strings.Compare(a.What, b.What) })
	return out, &IncompleteError{Subject: subject, Lookups: f.failed}
}

type finder struct {
	src     Source
	subject v1.Hash
	ctx     context.Context
	sem     chan struct{} // bounds manifest reads

	mu      sync.Mutex
	found   []Referrer
	failed  []*LookupError
	foreign []Foreign
	api     bool
}

func (f *finder) add(rs []Referrer, what string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.found = append(f.found, rs...)
	if err != nil {
		f.failed = append(f.failed, &LookupError{What: what, Err: err})
	}
}

// descriptor is an entry of a referrers list.
type descriptor struct {
	MediaType    string `json:"mediaType"`
	Digest       string `json:"digest"`
	Size         int64  `json:"size"`
	ArtifactType string `json:"artifactType"`
}

type indexDoc struct {
	Manifests []descriptor `json:"manifests"`
}

func (f *finder) viaAPI() {
	entries, api, err := listAPI(f.ctx, f.src, f.subject)
	if !api && err == nil {
		return
	}
	f.mu.Lock()
	f.api = f.api || api
	f.mu.Unlock()
	if err != nil {
		f.add(nil, "referrers API", err)
	}
	f.readListed(entries, ByReferrersAPI, "the referrers API")
}

// listAPI reads every page of the referrers API's list for subject; api
// is false (and err nil) when the registry has no referrers API. On an
// error, the entries of the pages read before it.
func listAPI(ctx context.Context, src Source, subject v1.Hash) (entries []descriptor, api bool, err error) {
	page, seen := "", map[string]bool{}
	for n := 0; ; n++ {
		if n == MaxPages {
			return entries, api, fmt.Errorf("more than %d pages", MaxPages)
		}
		body, next, err := src.ReferrersPage(ctx, subject, page)
		if errors.Is(err, ErrNoAPI) {
			return nil, false, nil
		}
		if err != nil {
			return entries, api, err
		}
		api = true
		var idx indexDoc
		if err := json.Unmarshal(body, &idx); err != nil {
			return entries, api, fmt.Errorf("reading the list: %w", err)
		}
		entries = append(entries, idx.Manifests...)
		if next == "" || seen[next] {
			return entries, api, nil
		}
		seen[next], page = true, next
	}
}

func (f *finder) viaFallbackTag() {
	entries, err := listFallback(f.ctx, f.src, f.subject)
	if err != nil {
		f.add(nil, "fallback tag "+FallbackTag(f.subject), err)
		return
	}
	f.readListed(entries, ByFallbackTag, "the fallback tag")
}

// listFallback reads the entries of subject's fallback tag; none when
// there is no such tag.
func listFallback(ctx context.Context, src Source, subject v1.Hash) ([]descriptor, error) {
	_, body, _, err := src.GetManifest(ctx, FallbackTag(subject))
	if store.NotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var idx indexDoc
	if err := json.Unmarshal(body, &idx); err != nil {
		return nil, fmt.Errorf("reading the index: %w", err)
	}
	return idx.Manifests, nil
}

// readListed reads the manifests a list names, a few at once.
func (f *finder) readListed(entries []descriptor, by, list string) {
	var wg sync.WaitGroup
	for _, e := range entries {
		d, err := v1.NewHash(e.Digest)
		if err != nil {
			f.add(nil, list, fmt.Errorf("listing digest %q: %w", e.Digest, err))
			continue
		}
		wg.Go(func() {
			f.sem <- struct{}{}
			defer func() { <-f.sem }()
			r := Referrer{Subject: f.subject, Digest: d, MediaType: e.MediaType, ArtifactType: e.ArtifactType, FoundBy: by, Size: e.Size}
			mt, body, _, err := f.src.GetManifest(f.ctx, d.String())
			switch {
			case store.NotFound(err):
				return // listed but gone: nothing to orphan
			case err != nil:
				// Named from the list alone; what it declares is unknown.
				f.add([]Referrer{r}, fmt.Sprintf("manifest %s listed by %s", d, list), err)
				return
			}
			if other, ok := foreignSubject(body, f.subject); ok {
				// A registry's list is not trusted: only the manifest's
				// own subject makes it a referrer of this digest.
				f.mu.Lock()
				f.foreign = append(f.foreign, Foreign{Digest: d, Subject: other, ListedBy: list})
				f.mu.Unlock()
				return
			}
			f.add([]Referrer{withManifest(r, mt, body)}, "", nil)
		})
	}
	wg.Wait()
}

// foreignSubject returns the subject a manifest names when that is not
// subject. A manifest without a subject says nothing against the list.
func foreignSubject(body []byte, subject v1.Hash) (string, bool) {
	m := parseManifest(body)
	if m.Subject == nil || m.Subject.Digest == subject.String() {
		return "", false
	}
	return m.Subject.Digest, true
}

func (f *finder) viaCosignTag(tag string) {
	mt, body, d, err := f.src.GetManifest(f.ctx, tag)
	if store.NotFound(err) {
		return
	}
	if err != nil {
		f.add(nil, "cosign tag "+tag, err)
		return
	}
	r := Referrer{Subject: f.subject, Digest: d, FoundBy: ByCosignTag, Tag: tag}
	f.add([]Referrer{withManifest(r, mt, body)}, "", nil)
}

// withManifest fills r from its manifest: media type, size, and the
// artifactType it declares or, per the OCI image spec, its config's media
// type when it declares none.
func withManifest(r Referrer, mediaType string, body []byte) Referrer {
	r.Manifest, r.Size, r.MediaType = body, int64(len(body)), mediaType
	m := parseManifest(body)
	r.ArtifactType = cmp.Or(m.ArtifactType, m.Config.MediaType)
	return r
}

// rank orders the ways of finding: the first is kept when one referrer is
// found twice.
func rank(by string) int {
	switch by {
	case ByReferrersAPI:
		return 0
	case ByFallbackTag:
		return 1
	}
	return 2
}

func dedupe(rs []Referrer) []Referrer {
	slices.SortStableFunc(rs, func(a, b Referrer) int {
		return cmp.Or(cmp.Compare(rank(a.FoundBy), rank(b.FoundBy)), strings.Compare(a.Digest.String(), b.Digest.String()))
	})
	seen := map[v1.Hash]bool{}
	out := rs[:0]
	for _, r := range rs {
		if !seen[r.Digest] {
			seen[r.Digest] = true
			out = append(out, r)
		}
	}
	return slices.Clip(out)
}
