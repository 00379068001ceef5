package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Limits of a tag listing.
const (
	// TagsPageSize is the n asked for per page. Registries may answer with
	// fewer (GHCR and Docker Hub cap pages) and say so with a Link.
	TagsPageSize = 1000
	// MaxTagsPages bounds the pages followed, so that a registry whose
	// Link never ends cannot keep a run going: 1,000 pages of 1,000 tags
	// is more than any repository a run can work.
	MaxTagsPages = 1000
	// maxTagsPageSize bounds one page's body: 1,000 tags of at most 128
	// bytes, quoted, with room to spare.
	maxTagsPageSize int64 = 4 << 20
	// MaxTags and MaxTagsBytes bound a whole listing, so that a hostile
	// or broken registry cannot fill the run's memory: far more than any
	// sweep a run can finish.
	MaxTags            = 100_000
	MaxTagsBytes int64 = 64 << 20
)

// ErrTagsTooMany is wrapped by the error of a listing past MaxTags or
// MaxTagsBytes.
var ErrTagsTooMany = errors.New("tag list too large")

// doer sends one request. An *http.Client with the registry's
// authenticating transport is one; so is a per-repository client.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// TagsRefusedError is a registry's refusal of GET /v2/<name>/tags/list,
// so that a caller can say a tag pattern cannot be expanded there, with
// the status. It wraps the *Error of the answer.
type TagsRefusedError struct {
	Repository string
	Err        *Error
}

func (e *TagsRefusedError) Error() string {
	return fmt.Sprintf("listing the tags of %q: the registry refused with %d %s: %v", e.Repository, e.Err.StatusCode, http.StatusText(e.Err.StatusCode), e.Err)
}

func (e *TagsRefusedError) Unwrap() error { return e.Err }

// StatusCode is the status the registry answered.
func (e *TagsRefusedError) StatusCode() int { return e.Err.StatusCode }

// ErrTagsPagination is wrapped by errors of a Link header that cannot be
// followed: to another host, unparseable, or past MaxTagsPages.
var ErrTagsPagination = errors.New("bad tag list pagination")

// listTags lists every tag of repo (a repository path such as "org/app")
// at base (the registry's scheme and host, "https://ghcr.io"), asking for
// TagsPageSize tags a page (or, when the registry refuses that n with 400,
// its own page size) and following the Link rel="next" header, as the
// distribution spec has it. A Link may be relative or absolute; one
// to another host is refused, since the credentials of the run must not
// follow it. The scheme stays base's: the transport decides it.
func listTags(ctx context.Context, d doer, base *url.URL, repo string) ([]string, error) {
	next := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: "/v2/" + repo + "/tags/list"}
	next.RawQuery = url.Values{"n": {strconv.Itoa(TagsPageSize)}}.Encode()
	var tags []string
	seen := map[string]bool{}
	// visited are the pages asked for: a Link back to any of them is a
	// loop (A → B → A), which would never end.
	visited := map[string]bool{}
	var listed, size int64
	for page := 0; next != nil; page++ {
		if page == MaxTagsPages {
			return nil, fmt.Errorf("listing the tags of %q: more than %d pages: %w", repo, MaxTagsPages, ErrTagsPagination)
		}
		if visited[next.String()] {
			return nil, fmt.Errorf("listing the tags of %q: the next page %q was listed already, so the pages loop: %w", repo, next.String(), ErrTagsPagination)
		}
		visited[next.String()] = true
		got, link, n, err := tagsPage(ctx, d, next, repo)
		var te *TagsRefusedError
		if page == 0 && errors.As(err, &te) && te.StatusCode() == http.StatusBadRequest {
			// Registries older than the spec's pagination refuse an n
			// above their maximum (PAGINATION_NUMBER_INVALID); without
			// n they answer with all tags or their own pages.
			next.RawQuery = ""
			visited[next.String()] = true
			got, link, n, err = tagsPage(ctx, d, next, repo)
		}
		if err != nil {
			return nil, err
		}
		listed, size = listed+int64(len(got)), size+n
		switch {
		case listed > MaxTags:
			return nil, fmt.Errorf("listing the tags of %q: the registry listed more than %d tags, more than a run can work: %w", repo, MaxTags, ErrTagsTooMany)
		case size > MaxTagsBytes:
			return nil, fmt.Errorf("listing the tags of %q: the registry's tag list passed %d MiB, more than a run reads: %w", repo, MaxTagsBytes>>20, ErrTagsTooMany)
		}
		for _, t := range got {
			// A registry paging by offset while tags are pushed can
			// repeat one; a tag is worked once.
			if !seen[t] {
				seen[t] = true
				tags = append(tags, t)
			}
		}
		if next, err = nextPage(next, link); err != nil {
			return nil, fmt.Errorf("listing the tags of %q: %w", repo, err)
		}
	}
	return tags, nil
}

// Tags lists every tag of the repository with listTags, over the client's
// authenticated transport.
func (r *Repository) Tags(ctx context.Context) ([]string, error) {
	return listTags(ctx, r.c.client, &url.URL{Scheme: "https", Host: r.c.reg.RegistryStr()}, r.name)
}

// tagsPage reads one page at u: its tags, its Link header values and the
// size of its body.
func tagsPage(ctx context.Context, d doer, u *url.URL, repo string) ([]string, []string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.Do(req)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("listing the tags of %q: %w", repo, scrubError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var re *Error
		errors.As(responseError(resp), &re)
		return nil, nil, 0, &TagsRefusedError{Repository: repo, Err: re}
	}
	body, err := readLimited(resp.Body, maxTagsPageSize, "tag list")
	if err != nil {
		return nil, nil, 0, fmt.Errorf("listing the tags of %q: %w", repo, err)
	}
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, nil, 0, fmt.Errorf("listing the tags of %q: parsing the answer: %w", repo, err)
	}
	return list.Tags, resp.Header.Values("Link"), int64(len(body)), nil
}

// nextPage resolves the rel="next" target of the Link header values
// against cur; nil when there is none.
func nextPage(cur *url.URL, links []string) (*url.URL, error) {
	target, err := nextLink(cur, links)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTagsPagination, err)
	}
	if target == "" {
		return nil, nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parsing the next page %q: %w", target, ErrTagsPagination)
	}
	u.User, u.Fragment = nil, ""
	if *u == *cur {
		return nil, fmt.Errorf("the next page %q is the page itself: %w", target, ErrTagsPagination)
	}
	return u, nil
}
