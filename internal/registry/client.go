package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/safetext"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// Size limits for what is read into memory (package store's).
const (
	MaxManifestSize = store.MaxManifestSize
	MaxConfigSize   = store.MaxConfigSize
)

// The repository is a store.Repository that copies blobs in itself
// (mounting them from its registry's other repositories) and lists
// referrers.
var (
	_ store.Repository      = (*Repository)(nil)
	_ store.BlobCopier      = (*Repository)(nil)
	_ store.ReferrersLister = (*Repository)(nil)
	_ store.Throttler       = (*Client)(nil)
)

// ManifestTypes are the media types asked for when reading a manifest: the
// image and index types of OCI and Docker, and Docker schema 1 so that it can
// be recognized and refused rather than converted by the registry.
var ManifestTypes = []types.MediaType{
	types.OCIManifestSchema1,
	types.OCIImageIndex,
	types.DockerManifestSchema2,
	types.DockerManifestList,
	types.DockerManifestSchema1Signed,
	types.DockerManifestSchema1,
}

func joinTypes() string {
	s := make([]string, len(ManifestTypes))
	for i, t := range ManifestTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Options configure how clients reach a registry.
type Options struct {
	// Keychain resolves credentials for the registry.
	Keychain authn.Keychain
	// Insecure allows plain HTTP and unverified TLS.
	Insecure bool
	// Transport is the base transport; nil means a clone of the default.
	Transport http.RoundTripper
	// UserAgent is sent with every request.
	UserAgent string
	// Logf, when set, is told of each retry.
	Logf func(format string, args ...any)
	// StallTimeout, when positive, replaces both DefaultHeaderTimeout and
	// DefaultStallTimeout: a request is given up (then retried) when its
	// answer or a body makes no progress for this long.
	StallTimeout time.Duration
	// Budget is how long the registry may go with no request succeeding
	// before the rest of the run's requests to it fail at once; zero
	// means DefaultBudget.
	Budget time.Duration
	// MaxRequests bounds the requests in flight to the registry; zero
	// means limits.DefaultRequests. A 429 lowers the bound for a while.
	MaxRequests int
	// Sleep waits between retries; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// SeenToken, when set, is told of every bearer token a request
	// carries, so that the caller can scrub it from what it prints.
	SeenToken func(token string)
}

// Client talks to one registry with one authenticated transport.
type Client struct {
	reg    name.Registry
	client *http.Client
	limit  *Limiter
	// monolithic is whether the registry took a monolithic upload:
	// monolithicUnknown until the first upload.
	monolithic atomic.Int32
	// noReferrersAPI is set once the registry answered as one without the
	// referrers API (404, 405, 501): the distribution spec forbids a 404
	// from a registry that has it, so later look-ups skip the request.
	noReferrersAPI atomic.Bool
	// referrersAPI is set once the registry served a referrers list;
	// until it or noReferrersAPI is known, probeReferrers lets one
	// look-up at a time ask, so that look-ups started together for an
	// index's children ask a registry without the API once.
	referrersAPI   atomic.Bool
	probeReferrers sync.Mutex
}

// The states of Client.monolithic.
const (
	monolithicUnknown int32 = iota
	monolithicYes
	monolithicNo
)

// Scope is a repository and whether it is written to.
type Scope struct {
	Repository string
	Push       bool
}

// Open pings reg, authenticates for the given repositories, and returns a
// client for the whole run: one token exchange per registry.
func Open(ctx context.Context, reg name.Registry, scopes []Scope, opts Options) (*Client, error) {
	reg = withLoopbackScheme(reg)
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	auth, err := kc.Resolve(reg)
	if err != nil {
		return nil, fmt.Errorf("resolving credentials for %q: %w", reg.Name(), err)
	}
	var ss []string
	for _, s := range scopes {
		action := transport.PullScope
		if s.Push {
			action = transport.PushScope
		}
		ss = append(ss, reg.Repo(s.Repository).Scope(action))
	}
	realms, limit := baseTransport(reg.RegistryStr(), opts)
	var base http.RoundTripper = realms
	if opts.SeenToken != nil {
		base = &tokenTap{next: base, seen: opts.SeenToken}
	}
	if opts.UserAgent != "" {
		base = transport.NewUserAgent(base, opts.UserAgent)
	}
	t, err := transport.NewWithContext(ctx, reg, auth, base, ss)
	var ph *PlainHTTPError
	var se *StallError
	switch {
	case err != nil && realms.refusedRealm() != "":
		return nil, fmt.Errorf("authenticating to %q: %w", reg.Name(), &RealmError{Registry: reg.RegistryStr(), Realm: realms.refusedRealm()})
	case errors.As(err, &se):
		// A stall is the part a person can act on, whichever scheme of
		// the ping it happened to.
		return nil, fmt.Errorf("authenticating to %q: %w", reg.Name(), se)
	case pingAttempts(err) != nil:
		return nil, fmt.Errorf("authenticating to %q: %w", reg.Name(), pingAttempts(err))
	case errors.As(err, &ph):
		return nil, fmt.Errorf("authenticating to %q: %w", reg.Name(), ph)
	case err != nil:
		return nil, fmt.Errorf("authenticating to %q: %w", reg.Name(), fromTransport(scrubError(err)))
	}
	return &Client{reg: reg, client: &http.Client{Transport: t}, limit: limit}, nil
}

// AttemptsError is a ping that tried https and plain HTTP, both failing:
// it says what happened at each.
type AttemptsError struct{ HTTPS, HTTP error }

func (e *AttemptsError) Error() string {
	return fmt.Sprintf("tried https and http: over https: %v; over http: %v", e.HTTPS, e.HTTP)
}

func (e *AttemptsError) Unwrap() []error { return []error{e.HTTPS, e.HTTP} }

// pingAttempts splits the error of go-containerregistry's ping that tried
// https and http at once (a slice of errors of an unexported type, https
// first) into an *AttemptsError; nil for any other error.
func pingAttempts(err error) *AttemptsError {
	v := reflect.ValueOf(err)
	if err == nil || v.Kind() != reflect.Slice || v.Len() != 2 {
		return nil
	}
	var errs [2]error
	for i := range errs {
		e, ok := v.Index(i).Interface().(error)
		if !ok || e == nil {
			return nil
		}
		errs[i] = fromTransport(scrubError(e))
	}
	return &AttemptsError{HTTPS: errs[0], HTTP: errs[1]}
}

// Throttled returns how many 429 Too Many Requests answers the registry
// gave so far; each lowered the requests in flight to it.
func (c *Client) Throttled() int { return c.limit.Throttled() }

// Registry returns the registry the client talks to.
func (c *Client) Registry() name.Registry { return c.reg }

// Repository is a client bound to one repository of the registry, as
// oras-go's Repository: it reads and writes manifests and blobs there and
// copies blobs into it, mounting or streaming as it can.
type Repository struct {
	c    *Client
	name string
}

// Repo returns the client of repository name (the path without the
// registry) of c's registry.
func (c *Client) Repo(name string) *Repository { return &Repository{c: c, name: name} }

// Name returns the repository's path without the registry.
func (r *Repository) Name() string { return r.name }

func (r *Repository) url(kind, ref string) string {
	// The scheme is settled by the transport after its ping (https unless
	// the registry only spoke http and policy allowed it).
	return fmt.Sprintf("https://%s/v2/%s/%s/%s", r.c.reg.RegistryStr(), r.name, kind, ref)
}

// Manifest is a manifest or index as the registry holds it.
type Manifest = store.Manifest

// GetManifest reads the manifest at ref (a tag or a digest) of repo. A body
// cut short or stalled is read again from the start.
func (r *Repository) GetManifest(ctx context.Context, ref string) (*Manifest, error) {
	return retryRead(func() (*Manifest, error) { return r.getManifest(ctx, ref) })
}

// retryRead repeats a whole read whose body failed midway: the transport
// retries requests, but not bodies it has already handed over.
func retryRead[T any](f func() (T, error)) (T, error) {
	var v T
	var err error
	for range 3 {
		v, err = f()
		var be *bodyError
		if !errors.As(err, &be) {
			return v, err
		}
	}
	return v, err
}

// bodyError is a failure while reading an answer's body.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

func (r *Repository) getManifest(ctx context.Context, ref string) (*Manifest, error) {
	resp, err := r.do(ctx, http.MethodGet, r.url("manifests", ref), nil, "Accept", joinTypes())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp)
	}
	body, err := readLimited(resp.Body, MaxManifestSize, "manifest")
	if err != nil {
		return nil, err
	}
	d := oci.Digest(body)
	if want, err := v1.NewHash(ref); err == nil && want != d {
		return nil, fmt.Errorf("manifest %s of %q has digest %s: %w", ref, r.name, d, ErrDigestMismatch)
	}
	if h := resp.Header.Get("Docker-Content-Digest"); strings.HasPrefix(h, "sha256:") && h != d.String() {
		return nil, fmt.Errorf("manifest %s of %q: registry says %s, content is %s: %w", ref, r.name, h, d, ErrDigestMismatch)
	}
	mt := mediaType(resp.Header.Get("Content-Type"), body)
	if mt == "" {
		return nil, fmt.Errorf("reading manifest %s of %q: no media type in header or body", ref, r.name)
	}
	return &Manifest{MediaType: mt, Bytes: body, Digest: d}, nil
}

// HeadManifest returns the digest the registry holds at ref, for the read-back
// after a push: from the Docker-Content-Digest header of a HEAD, or, when a
// registry leaves that header out (the distribution spec says SHOULD), by
// hashing the body of a GET.
func (r *Repository) HeadManifest(ctx context.Context, ref string, mediaType types.MediaType) (v1.Hash, error) {
	return r.head(ctx, ref, string(mediaType))
}

// head is HeadManifest with the Accept header given.
func (r *Repository) head(ctx context.Context, ref, accept string) (v1.Hash, error) {
	resp, err := r.do(ctx, http.MethodHead, r.url("manifests", ref), nil, "Accept", accept)
	if err != nil {
		return v1.Hash{}, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v1.Hash{}, responseError(resp)
	}
	if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
		return h, nil
	}
	m, err := r.GetManifest(ctx, ref)
	if err != nil {
		return v1.Hash{}, err
	}
	return m.Digest, nil
}

// PutManifest pushes body with its media type to ref (a tag or a digest).
func (r *Repository) PutManifest(ctx context.Context, ref string, body []byte, mediaType types.MediaType) error {
	resp, err := r.do(ctx, http.MethodPut, r.url("manifests", ref), bytes.NewReader(body), "Content-Type", string(mediaType))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return responseError(resp)
	}
	if h, sent := resp.Header.Get("Docker-Content-Digest"), oci.Digest(body); h != "" && h != sent.String() {
		return fmt.Errorf("pushing manifest to %s of %q: registry stored %s, sent %s: %w", ref, r.name, h, sent, ErrDigestMismatch)
	}
	return nil
}

// GetBlob reads a whole blob of at most limit bytes and checks its digest.
func (r *Repository) GetBlob(ctx context.Context, d v1.Hash, limit int64, what string) ([]byte, error) {
	return retryRead(func() ([]byte, error) { return r.getBlob(ctx, d, limit, what) })
}

func (r *Repository) getBlob(ctx context.Context, d v1.Hash, limit int64, what string) ([]byte, error) {
	rc, err := r.openBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body, err := readLimited(rc, limit, what)
	if err != nil {
		return nil, err
	}
	if got := oci.Digest(body); got != d {
		return nil, fmt.Errorf("reading %s %s of %q: content has digest %s: %w", what, d, r.name, got, ErrDigestMismatch)
	}
	return body, nil
}

// OpenBlob streams a blob. The caller closes it and checks the digest if it
// needs to (an upload does, on the registry's side). Once the answer has
// begun, only a body without progress is given up.
func (r *Repository) OpenBlob(ctx context.Context, d v1.Hash) (io.ReadCloser, error) {
	return r.openBlob(asStream(ctx), d)
}

func (r *Repository) openBlob(ctx context.Context, d v1.Hash) (io.ReadCloser, error) {
	resp, err := r.do(ctx, http.MethodGet, r.url("blobs", d.String()), nil, "", "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp.Body, nil
}

// PushBlob uploads a blob: in one monolithic POST with its digest where
// the registry takes it (201), else in the PUT that finishes the upload
// the POST opened. When body can seek, an upload that fails after the
// transport's own retries (a session the registry lost, say) is started
// again from a clean POST.
func (r *Repository) PushBlob(ctx context.Context, d v1.Hash, size int64, body io.ReadSeeker) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 && ctx.Err() != nil {
			break
		}
		if _, serr := body.Seek(0, io.SeekStart); serr != nil {
			return fmt.Errorf("uploading blob %s: %w", d, serr)
		}
		var loc string
		if loc, err = r.postBlob(ctx, d, size, body); err != nil || loc == "" {
			return err
		}
		if _, serr := body.Seek(0, io.SeekStart); serr != nil {
			return fmt.Errorf("uploading blob %s: %w", d, serr)
		}
		if err = r.finishUpload(ctx, loc, d, size, body); err == nil {
			return nil
		}
	}
	return err
}

// PushStream uploads blob d of size bytes from body, a stream read once
// (a layer as the Docker engine's save streams it): a POST opens the
// upload and the bytes go in the PUT that finishes it, so that a registry
// that takes no monolithic upload never makes them travel twice. Not
// retried: body cannot be read again. body is never closed, even when it
// has a Close method (the engine's save stream goes on after the layer).
func (r *Repository) PushStream(ctx context.Context, d v1.Hash, size int64, body io.Reader) error {
	loc, err := r.startUpload(ctx, nil)
	if err == nil {
		err = r.finishUpload(ctx, loc, d, size, io.NopCloser(body))
	}
	if err != nil {
		return fmt.Errorf("uploading blob %s: %w", d, err)
	}
	return nil
}

// postBlob sends body in the POST that opens an upload, with its digest:
// a registry that takes a monolithic upload answers 201 and the blob is
// there (location ""); one that does not opens a session (202) whose
// location the caller finishes. A registry that refuses the form with a
// client error is asked again with a plain POST.
func (r *Repository) postBlob(ctx context.Context, d v1.Hash, size int64, body io.ReadSeeker) (string, error) {
	if r.c.monolithic.Load() == monolithicNo {
		return r.startUpload(ctx, nil)
	}
	u := r.url("blobs", "uploads/") + "?" + url.Values{"digest": {d.String()}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, io.NopCloser(body))
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	req.GetBody = rewind(body, body)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := r.c.client.Do(req)
	if err != nil {
		return "", scrubError(err)
	}
	defer resp.Body.Close()
	discard(resp.Body)
	switch {
	case resp.StatusCode == http.StatusCreated:
		r.c.monolithic.Store(monolithicYes)
		return "", nil
	case resp.StatusCode == http.StatusAccepted:
		// The body went for nothing: the client's later uploads use
		// POST and PUT, so that it travels twice once a run at most.
		// (Expect: 100-continue would spare it, but stalls a second at
		// every proxy that does not pass the interim answer on.)
		r.c.monolithic.Store(monolithicNo)
		return uploadLocation(resp, r.name)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden:
		r.c.monolithic.Store(monolithicNo)
		return r.startUpload(ctx, nil)
	}
	return "", responseError(resp)
}

// CopyBlob makes blob desc of repository from (of this registry, another
// registry, or any other place) present here: a cross-repository mount
// from a repository of the same registry, else (or when the registry
// declines the mount) the blob streamed from one to the other.
func (r *Repository) CopyBlob(ctx context.Context, from store.Repository, desc v1.Descriptor) error {
	var loc string
	if fr, ok := from.(*Repository); ok && fr.c.reg.RegistryStr() == r.c.reg.RegistryStr() {
		q := url.Values{"mount": {desc.Digest.String()}, "from": {fr.name}}
		l, err := r.startUpload(ctx, q)
		switch {
		case errors.Is(err, errMounted):
			return nil
		case err != nil:
			return fmt.Errorf("mounting %s from %s: %w", desc.Digest, fr.name, err)
		}
		// A 202: the registry declined the mount (zot, GHCR and
		// go-containerregistry's registry do) and opened an upload
		// instead; the blob is copied through it.
		loc = l
	}
	mountDeclined := loc != ""
	var err error
	// A stream cannot be sent again: when the upload fails after the
	// transport's own retries (a token that expired mid-stream, whose
	// fresh token the auth transport resends with a spent body; a
	// session the registry lost), it starts over once, from a new read
	// and a new upload.
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			if ctx.Err() != nil {
				break
			}
			loc = ""
		}
		if err = r.streamBlob(ctx, from, desc, loc); err == nil {
			break
		}
		var re *Error
		if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 && !re.Unauthorized() {
			break
		}
	}
	if err != nil {
		return err
	}
	if mountDeclined {
		declined(ctx, desc)
	}
	return nil
}

// streamBlob streams blob desc of from into the upload at loc, or a new
// one when loc is "".
func (r *Repository) streamBlob(ctx context.Context, from store.Repository, desc v1.Descriptor, loc string) error {
	rc, err := from.OpenBlob(ctx, desc.Digest)
	if err != nil {
		return fmt.Errorf("reading blob %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	var body io.Reader = rc
	if s, ok := rc.(store.Sectioned); ok && s.Section().Size() == desc.Size {
		// A blob in a local file goes from the page cache to the socket
		// (sendfile) unread: the registry checks it against the digest
		// the upload names, as it checks every upload. (One whose size
		// is not the descriptor's is read, and refused, as before: the
		// kernel would send the bytes after it.)
		body = sectionBody{s.Section()}
	}
	if loc == "" {
		loc, err = r.startUpload(ctx, nil)
	}
	if err == nil {
		err = r.finishUpload(ctx, loc, desc.Digest, desc.Size, body)
	}
	if err != nil {
		return fmt.Errorf("copying blob %s: %w", desc.Digest, err)
	}
	return nil
}

var errMounted = errors.New("mounted")

// declinedKey is the context key of WithDeclinedMounts.
type declinedKey struct{}

// WithDeclinedMounts returns ctx whose blob copies tell f of each blob
// the registry declined to mount and that was copied instead.
func WithDeclinedMounts(ctx context.Context, f func(v1.Descriptor)) context.Context {
	return context.WithValue(ctx, declinedKey{}, f)
}

func declined(ctx context.Context, desc v1.Descriptor) {
	if f, ok := ctx.Value(declinedKey{}).(func(v1.Descriptor)); ok {
		f(desc)
	}
}

// rewind is a request's GetBody for a body that seeks: the body again
// from its start, so that a request the auth transport or a retry sends
// again carries all of it.
func rewind(body io.Reader, s io.Seeker) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		_, err := s.Seek(0, io.SeekStart)
		if sb, ok := body.(sectionBody); ok {
			// Not wrapped: net/http sends it with sendfile only as it is.
			return sb, err
		}
		return io.NopCloser(body), err
	}
}

// sectionBody is a store.Section as a request body: net/http sends a body
// that is a syscall.Conn with sendfile (the watchdog follows its offset,
// progressBody). Closing it leaves the file open for the request sent
// again; streamBlob closes it.
type sectionBody struct{ *store.Section }

func (sectionBody) Close() error { return nil }

func (r *Repository) startUpload(ctx context.Context, q url.Values) (string, error) {
	u := r.url("blobs", "uploads/")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	resp, err := r.do(ctx, http.MethodPost, u, nil, "", "")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	discard(resp.Body)
	switch resp.StatusCode {
	case http.StatusCreated:
		if q.Has("mount") {
			return "", errMounted
		}
		return "", fmt.Errorf("opening upload to %q: registry answered 201 without a mount", r.name)
	case http.StatusAccepted:
	default:
		return "", responseError(resp)
	}
	return uploadLocation(resp, r.name)
}

// uploadLocation is where the upload an answer opened goes on.
func uploadLocation(resp *http.Response, repo string) (string, error) {
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("opening upload to %q: no upload location: %w", repo, err)
	}
	return loc.String(), nil
}

func (r *Repository) finishUpload(ctx context.Context, location string, d v1.Hash, size int64, body io.Reader) error {
	u, err := url.Parse(location)
	if err != nil {
		return fmt.Errorf("parsing upload location %q: %w", location, err)
	}
	q := u.Query()
	q.Set("digest", d.String())
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(asStream(ctx), http.MethodPut, u.String(), body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	if s, ok := body.(io.Seeker); ok {
		req.GetBody = rewind(body, s)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := r.c.client.Do(req)
	if err != nil {
		return scrubError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return responseError(resp)
	}
	return nil
}

// ErrDigestMismatch means content did not hash to the digest it was asked
// for or announced with.
var ErrDigestMismatch = store.ErrDigestMismatch

// TooLargeError is returned when a manifest or config is larger than the
// limit this tool reads into memory.
type TooLargeError = store.TooLargeError

func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &bodyError{fmt.Errorf("reading %s: %w", what, scrubError(err))}
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{What: what, Limit: limit}
	}
	return b, nil
}

// mediaType takes the Content-Type without parameters, or the body's
// mediaType field when the header is missing or generic.
func mediaType(header string, body []byte) types.MediaType {
	mt, _, _ := mime.ParseMediaType(header)
	if slices.Contains(ManifestTypes, types.MediaType(mt)) {
		return types.MediaType(mt)
	}
	// A missing or generic (or wrong) Content-Type: the body says what it is.
	return oci.Shape(body)
}

// Error is a registry's refusal of a request.
type Error struct {
	Method     string
	Path       string
	StatusCode int
	Code       string
	Message    string
	// Detail is the error's detail as the registry gave it (a string, or
	// JSON), often the part that says what was wrong: "unsupported
	// manifest media type …" behind "manifest invalid".
	Detail string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Detail != "" && e.Detail != e.Message {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unauthorized reports whether the registry refused the credentials (401) or
// their rights (403).
func (e *Error) Unauthorized() bool {
	return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
}

// NotFound reports whether the thing asked for does not exist.
func (e *Error) NotFound() bool { return e.StatusCode == http.StatusNotFound }

func responseError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Method: resp.Request.Method, Path: resp.Request.URL.Path, StatusCode: resp.StatusCode}
	var re struct {
		Errors []struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Detail  json.RawMessage `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &re) == nil && len(re.Errors) > 0 {
		e.Code, e.Message, e.Detail = re.Errors[0].Code, re.Errors[0].Message, detailText(re.Errors[0].Detail)
	}
	e.Code, e.Message, e.Detail = oneLine(e.Code, 256), oneLine(e.Message, 4096), oneLine(e.Detail, 1024)
	return e
}

// detailText is an error detail as text: a JSON string unquoted, other
// JSON compacted, nothing for null.
func detailText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil || b.String() == "null" {
		return ""
	}
	return b.String()
}

// oneLine makes registry text one line of at most max bytes, with no
// control character (the front doors escape it again when printing).
func oneLine(s string, max int) string {
	s = safetext.Line(strings.Join(strings.Fields(s), " "))
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}

// scrubError drops URL queries (upload locations can carry state tokens)
// from transport errors.
func scrubError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.User = "", nil
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// fromTransport turns go-containerregistry's error for a refused token
// exchange into an *Error, so that callers branch on one type.
func fromTransport(err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err
	}
	e := &Error{Method: http.MethodGet, Path: "(token)", StatusCode: te.StatusCode}
	if te.Request != nil {
		e.Method, e.Path = te.Request.Method, te.Request.URL.Path
	}
	if len(te.Errors) > 0 {
		e.Code, e.Message = oneLine(string(te.Errors[0].Code), 256), oneLine(te.Errors[0].Message, 4096)
	}
	return e
}

// do sends a request to url with body (may be nil) and, unless header is
// empty, that header set to value. Transport errors come back without
// URL queries.
func (r *Repository) do(ctx context.Context, method, url string, body io.Reader, header, value string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	resp, err := r.c.client.Do(req)
	if err != nil {
		return nil, scrubError(err)
	}
	return resp, nil
}
