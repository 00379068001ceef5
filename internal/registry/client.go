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
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/safetext"
)

// Size limits for what is read into memory.
const (
	MaxManifestSize int64 = 4 << 20
	MaxConfigSize   int64 = 8 << 20
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

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
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
	// Sleep waits between retries; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to one registry with one authenticated transport.
type Client struct {
	reg    name.Registry
	client *http.Client
}

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
	base := baseTransport(opts)
	if opts.UserAgent != "" {
		base = transport.NewUserAgent(base, opts.UserAgent)
	}
	t, err := transport.NewWithContext(ctx, reg, auth, base, ss)
	var ph *PlainHTTPError
	var se *StallError
	switch {
	case errors.As(err, &se):
		// A stall is the part a person can act on, whichever scheme of
		// the ping it happened to.
		return nil, fmt.Errorf("authenticating to %q: %w", reg.Name(), se)
	case errors.As(err, &ph):
		// The ping tried https and http at once; the refusal of http is
		// the part a person can act on.
		return nil, fmt.Errorf("authenticating to %q: %w (over https: %v)", reg.Name(), ph, scrubError(err))
	case err != nil:
		return nil, fmt.Errorf("authenticating to %q: %w", reg.Name(), fromTransport(scrubError(err)))
	}
	return &Client{reg: reg, client: &http.Client{Transport: t}}, nil
}

// Registry returns the registry the client talks to.
func (c *Client) Registry() name.Registry { return c.reg }

func (c *Client) url(repo, kind, ref string) string {
	// The scheme is settled by the transport after its ping (https unless
	// the registry only spoke http and policy allowed it).
	return fmt.Sprintf("https://%s/v2/%s/%s/%s", c.reg.RegistryStr(), repo, kind, ref)
}

// Manifest is a manifest or index as the registry holds it.
type Manifest struct {
	MediaType types.MediaType
	Bytes     []byte
	Digest    v1.Hash
}

// GetManifest reads the manifest at ref (a tag or a digest) of repo. A body
// cut short or stalled is read again from the start.
func (c *Client) GetManifest(ctx context.Context, repo, ref string) (*Manifest, error) {
	return retryRead(func() (*Manifest, error) { return c.getManifest(ctx, repo, ref) })
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

func (c *Client) getManifest(ctx context.Context, repo, ref string) (*Manifest, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(repo, "manifests", ref), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", joinTypes())
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, scrubError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp)
	}
	body, err := readLimited(resp.Body, MaxManifestSize, "manifest")
	if err != nil {
		return nil, err
	}
	d := digest(body)
	if want, err := v1.NewHash(ref); err == nil && want != d {
		return nil, fmt.Errorf("manifest %s of %q has digest %s: %w", ref, repo, d, ErrDigestMismatch)
	}
	if h := resp.Header.Get("Docker-Content-Digest"); strings.HasPrefix(h, "sha256:") && h != d.String() {
		return nil, fmt.Errorf("manifest %s of %q: registry says %s, content is %s: %w", ref, repo, h, d, ErrDigestMismatch)
	}
	mt := mediaType(resp.Header.Get("Content-Type"), body)
	if mt == "" {
		return nil, fmt.Errorf("reading manifest %s of %q: no media type in header or body", ref, repo)
	}
	return &Manifest{MediaType: mt, Bytes: body, Digest: d}, nil
}

// HeadManifest returns the digest the registry holds at ref, for the read-back
// after a push: from the Docker-Content-Digest header of a HEAD, or, when a
// registry leaves that header out (the distribution spec says SHOULD), by
// hashing the body of a GET.
func (c *Client) HeadManifest(ctx context.Context, repo, ref string, mediaType types.MediaType) (v1.Hash, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.url(repo, "manifests", ref), nil)
	if err != nil {
		return v1.Hash{}, err
	}
	req.Header.Set("Accept", string(mediaType))
	resp, err := c.client.Do(req)
	if err != nil {
		return v1.Hash{}, scrubError(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v1.Hash{}, responseError(resp)
	}
	if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
		return h, nil
	}
	m, err := c.GetManifest(ctx, repo, ref)
	if err != nil {
		return v1.Hash{}, err
	}
	return m.Digest, nil
}

// PutManifest pushes body with its media type to ref (a tag or a digest).
func (c *Client) PutManifest(ctx context.Context, repo, ref string, body []byte, mediaType types.MediaType) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.url(repo, "manifests", ref), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", string(mediaType))
	resp, err := c.client.Do(req)
	if err != nil {
		return scrubError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return responseError(resp)
	}
	if h, sent := resp.Header.Get("Docker-Content-Digest"), digest(body); h != "" && h != sent.String() {
		return fmt.Errorf("pushing manifest to %s of %q: registry stored %s, sent %s: %w", ref, repo, h, sent, ErrDigestMismatch)
	}
	return nil
}

// GetBlob reads a whole blob of at most limit bytes and checks its digest.
func (c *Client) GetBlob(ctx context.Context, repo string, d v1.Hash, limit int64, what string) ([]byte, error) {
	return retryRead(func() ([]byte, error) { return c.getBlob(ctx, repo, d, limit, what) })
}

func (c *Client) getBlob(ctx context.Context, repo string, d v1.Hash, limit int64, what string) ([]byte, error) {
	rc, err := c.openBlob(ctx, repo, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body, err := readLimited(rc, limit, what)
	if err != nil {
		return nil, err
	}
	if got := digest(body); got != d {
		return nil, fmt.Errorf("reading %s %s of %q: content has digest %s: %w", what, d, repo, got, ErrDigestMismatch)
	}
	return body, nil
}

// OpenBlob streams a blob. The caller closes it and checks the digest if it
// needs to (an upload does, on the registry's side). Once the answer has
// begun, only a body without progress is given up.
func (c *Client) OpenBlob(ctx context.Context, repo string, d v1.Hash) (io.ReadCloser, error) {
	return c.openBlob(asStream(ctx), repo, d)
}

func (c *Client) openBlob(ctx context.Context, repo string, d v1.Hash) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(repo, "blobs", d.String()), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, scrubError(err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp.Body, nil
}

// PushBlob uploads a blob in one monolithic PUT after opening the upload.
// When body can seek, an upload that fails after the transport's own retries
// (a session the registry lost, say) is started again from a clean POST.
func (c *Client) PushBlob(ctx context.Context, repo string, d v1.Hash, size int64, body io.Reader) error {
	seeker, canRestart := body.(io.Seeker)
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			if !canRestart || ctx.Err() != nil {
				break
			}
			if _, serr := seeker.Seek(0, io.SeekStart); serr != nil {
				break
			}
		}
		var loc string
		if loc, err = c.startUpload(ctx, repo, nil); err != nil {
			return err
		}
		if err = c.finishUpload(ctx, loc, d, size, body); err == nil {
			return nil
		}
	}
	return err
}

// Mount asks the registry to mount blob d of repository from into repo. When
// the registry declines (202), the returned upload location lets the caller
// upload the blob instead; mounted is then false.
func (c *Client) Mount(ctx context.Context, repo, from string, d v1.Hash) (mounted bool, location string, err error) {
	q := url.Values{"mount": {d.String()}, "from": {from}}
	loc, err := c.startUpload(ctx, repo, q)
	if errors.Is(err, errMounted) {
		return true, "", nil
	}
	return false, loc, err
}

// FinishUpload completes an upload opened by Mount.
func (c *Client) FinishUpload(ctx context.Context, location string, d v1.Hash, size int64, body io.Reader) error {
	return c.finishUpload(ctx, location, d, size, body)
}

var errMounted = errors.New("mounted")

func (c *Client) startUpload(ctx context.Context, repo string, q url.Values) (string, error) {
	u := c.url(repo, "blobs", "uploads/")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return "", scrubError(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusCreated:
		if q.Has("mount") {
			return "", errMounted
		}
		return "", fmt.Errorf("opening upload to %q: registry answered 201 without a mount", repo)
	case http.StatusAccepted:
	default:
		return "", responseError(resp)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("opening upload to %q: no upload location: %w", repo, err)
	}
	return loc.String(), nil
}

func (c *Client) finishUpload(ctx context.Context, location string, d v1.Hash, size int64, body io.Reader) error {
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
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.client.Do(req)
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
var ErrDigestMismatch = errors.New("digest mismatch")

// TooLargeError is returned when a manifest or config is larger than the
// limit this tool reads into memory.
type TooLargeError struct {
	What  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %d MiB", e.What, e.Limit>>20)
}

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

// digest is the sha256 digest of b, which reading from memory cannot fail.
func digest(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// mediaType takes the Content-Type without parameters, or the body's
// mediaType field when the header is missing or generic.
func mediaType(header string, body []byte) types.MediaType {
	mt, _, _ := mime.ParseMediaType(header)
	if slices.Contains(ManifestTypes, types.MediaType(mt)) {
		return types.MediaType(mt)
	}
	// A missing or generic (or wrong) Content-Type: the body says what it is.
	var probe struct {
		MediaType     types.MediaType `json:"mediaType"`
		SchemaVersion int             `json:"schemaVersion"`
		Manifests     json.RawMessage
		Config        json.RawMessage
	}
	if json.Unmarshal(body, &probe) != nil {
		return ""
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.SchemaVersion == 1:
		return types.DockerManifestSchema1
	case probe.Manifests != nil:
		return types.OCIImageIndex
	case probe.Config != nil:
		return types.OCIManifestSchema1
	}
	return ""
}

// Error is a registry's refusal of a request.
type Error struct {
	Method     string
	Path       string
	StatusCode int
	Code       string
	Message    string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
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
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &re) == nil && len(re.Errors) > 0 {
		e.Code, e.Message = re.Errors[0].Code, re.Errors[0].Message
	}
	e.Code, e.Message = oneLine(e.Code, 256), oneLine(e.Message, 4096)
	return e
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
