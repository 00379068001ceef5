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
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// referrersPage reads one page of the OCI referrers API's list for d: the
// first when page is "", else a next URL an earlier call
// returned. next is the page after it, from the Link header (rel="next"),
// resolved against this request; "" on the last page. A next page on
// another host is refused: it would carry this registry's credentials
// elsewhere. A registry's refusal is an *Error.
func (r *Repository) referrersPage(ctx context.Context, d v1.Hash, page string) (body []byte, next string, err error) {
	u := r.url("referrers", d.String())
	if page != "" {
		u = page
	}
	resp, err := r.do(ctx, http.MethodGet, u, nil, "Accept", string(types.OCIImageIndex))
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", responseError(resp)
	}
	body, err = readLimited(resp.Body, MaxManifestSize, "referrers list")
	if err != nil {
		return nil, "", err
	}
	base, err := url.Parse(u)
	if err == nil {
		next, err = nextLink(base, resp.Header.Values("Link"))
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading referrers of %s in %q: %w", d, r.name, err)
	}
	return body, next, nil
}

// linkNext matches one link-value of a Link header whose rel is next,
// quoted or not, alone or among other relation types (RFC 8288).
var linkNext = regexp.MustCompile(`<([^>]*)>[^,]*;\s*rel=(?:"(?:[^"]*\s)?next(?:\s[^"]*)?"|next(?:[;,\s]|$))`)

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

// ReferrersPage is referrersPage answering store.ErrNoReferrersAPI when
// the first page is refused as a registry without the API refuses it: the
// distribution spec forbids a 404 from one that has it; some answer 400,
// 405 or 501 to an unknown route. Once a registry has answered as one
// without the API (a 400 aside, which may be about the request), later
// first pages cost no request.
func (r *Repository) ReferrersPage(ctx context.Context, d v1.Hash, page string) ([]byte, string, error) {
	c := r.c
	if page == "" && !c.referrersAPI.Load() {
		c.probeReferrers.Lock()
		defer c.probeReferrers.Unlock()
		if c.noReferrersAPI.Load() {
			return nil, "", fmt.Errorf("%w: %s answered so earlier in this run", store.ErrNoReferrersAPI, c.reg.RegistryStr())
		}
	}
	body, next, err := r.referrersPage(ctx, d, page)
	if err == nil {
		c.referrersAPI.Store(true)
	}
	var e *Error
	if page == "" && errors.As(err, &e) {
		switch e.StatusCode {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			c.noReferrersAPI.Store(true)
			fallthrough
		case http.StatusBadRequest:
			return nil, "", fmt.Errorf("%w: %w", store.ErrNoReferrersAPI, err)
		}
	}
	return body, next, err
}
