package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/referrers"
)

// ReferrersPage reads one page of the OCI referrers API's list for d in
// repo: the first when page is "", else a next URL an earlier call
// returned. next is the page after it, from the Link header (rel="next"),
// resolved against this request; "" on the last page. A next page on
// another host is refused: it would carry this registry's credentials
// elsewhere. A registry's refusal is an *Error.
func (c *Client) ReferrersPage(ctx context.Context, repo string, d v1.Hash, page string) (body []byte, next string, err error) {
	u := c.url(repo, "referrers", d.String())
	if page != "" {
		u = page
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", scrubError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", responseError(resp)
	}
	body, err = readLimited(resp.Body, MaxManifestSize, "referrers list")
	if err != nil {
		return nil, "", err
	}
	next, err = nextLink(req.URL, resp.Header.Values("Link"))
	if err != nil {
		return nil, "", fmt.Errorf("reading referrers of %s in %q: %w", d, repo, err)
	}
	return body, next, nil
}

// linkNext matches one link-value of a Link header whose rel is next,
// quoted or not (RFC 8288).
var linkNext = regexp.MustCompile(`<([^>]*)>[^,]*;\s*rel="?next"?`)

// nextLink returns the rel="next" target of Link header values, resolved
// against base and kept on base's host and scheme.
func nextLink(base *url.URL, values []string) (string, error) {
	for _, v := range values {
		m := linkNext.FindStringSubmatch(v)
		if m == nil {
			continue
		}
		u, err := base.Parse(strings.TrimSpace(m[1]))
		if err != nil {
			return "", fmt.Errorf("parsing Link %q: %w", oneLine(m[1], 256), err)
		}
		if u.Host != base.Host {
			return "", fmt.Errorf("refusing a next page on host %q, not %q", oneLine(u.Host, 256), base.Host)
		}
		// The transport settles the scheme for this registry's host.
		u.Scheme = base.Scheme
		return u.String(), nil
	}
	return "", nil
}

// ReferrerSource returns repo of c as referrers.Find reads it.
func (c *Client) ReferrerSource(repo string) referrers.Target { return referrerSource{c, repo} }

type referrerSource struct {
	c    *Client
	repo string
}

func (s referrerSource) GetManifest(ctx context.Context, ref string) (string, []byte, v1.Hash, error) {
	m, err := s.c.GetManifest(ctx, s.repo, ref)
	if err != nil {
		return "", nil, v1.Hash{}, err
	}
	return m.MediaType, m.Bytes, m.Digest, nil
}

func (s referrerSource) PutManifest(ctx context.Context, ref string, body []byte, mediaType string) error {
	return s.c.PutManifest(ctx, s.repo, ref, body, mediaType)
}

// ReferrersPage answers referrers.ErrNoAPI when the first page is refused
// as a registry without the API refuses it: the distribution spec forbids
// a 404 from one that has it; some answer 400, 405 or 501 to an unknown
// route.
func (s referrerSource) ReferrersPage(ctx context.Context, d v1.Hash, page string) ([]byte, string, error) {
	body, next, err := s.c.ReferrersPage(ctx, s.repo, d, page)
	var e *Error
	if page == "" && errors.As(err, &e) {
		switch e.StatusCode {
		case http.StatusNotFound, http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			return nil, "", fmt.Errorf("%w: %w", referrers.ErrNoAPI, err)
		}
	}
	return body, next, err
}
