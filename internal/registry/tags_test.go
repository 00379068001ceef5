package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tagServer serves GET /v2/o/r/tags/list as Distribution does: tags in
// order after last, at most min(n, pageCap) of them, and a Link to the
// next page made by link.
type tagServer struct {
	tags    []string
	pageCap int
	// link makes the Link header for the page ending at last.
	link func(base *url.URL, last string, n int) string
	base *url.URL // the server's own URL, set once it runs

	mu      sync.Mutex
	queries []url.Values
}

func (s *tagServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.Query())
	s.mu.Unlock()
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("n"))
	if n <= 0 || n > s.pageCap {
		n = s.pageCap
	}
	i := 0
	if last := q.Get("last"); last != "" {
		i, _ = slices.BinarySearch(s.tags, last)
		if i < len(s.tags) && s.tags[i] == last {
			i++
		}
	}
	page := s.tags[i:min(i+n, len(s.tags))]
	if i+n < len(s.tags) {
		w.Header().Set("Link", s.link(s.base, page[len(page)-1], n))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"name": "o/r", "tags": page})
}

func relativeLink(_ *url.URL, last string, n int) string {
	return fmt.Sprintf(`</v2/o/r/tags/list?last=%s&n=%d>; rel="next"`, url.QueryEscape(last), n)
}

// serveTags starts h and returns its base URL.
func serveTags(t *testing.T, h http.Handler) *url.URL {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func manyTags(n int) []string {
	var tags []string
	for i := range n {
		tags = append(tags, fmt.Sprintf("v%04d", i))
	}
	return tags
}

func TestListTagsFollowsPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		link func(base *url.URL, last string, n int) string
	}{
		{"relative link", relativeLink},
		{"absolute link", func(base *url.URL, last string, n int) string {
			return fmt.Sprintf(`<%s/v2/o/r/tags/list?n=%d&last=%s>; rel="next"`, base, n, last)
		}},
		{"several links, next last", func(base *url.URL, last string, n int) string {
			return `</v2/o/r/tags/list?n=1>; rel="first", ` + relativeLink(base, last, n)
		}},
		{"rel with several values", func(_ *url.URL, last string, n int) string {
			return fmt.Sprintf(`</v2/o/r/tags/list?last=%s&n=%d>; type="x"; rel="last next"`, last, n)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := &tagServer{tags: manyTags(7), pageCap: 3, link: tt.link}
			u := serveTags(t, ts)
			ts.base = u
			got, err := listTags(context.Background(), http.DefaultClient, u, "o/r")
			if err != nil {
				t.Fatalf("listTags() error = %v", err)
			}
			if diff := cmp.Diff(ts.tags, got); diff != "" {
				t.Errorf("listTags() tags (-want +got):\n%s", diff)
			}
			// The first page asks for TagsPageSize; the rest as linked.
			wantLast := []string{"", "v0002", "v0005"}
			if len(ts.queries) != len(wantLast) {
				t.Fatalf("listTags() made %d requests, want %d: %v", len(ts.queries), len(wantLast), ts.queries)
			}
			if n := ts.queries[0].Get("n"); n != strconv.Itoa(TagsPageSize) {
				t.Errorf("first page n = %q, want %d", n, TagsPageSize)
			}
			for i, q := range ts.queries {
				if q.Get("last") != wantLast[i] {
					t.Errorf("page %d last = %q, want %q", i, q.Get("last"), wantLast[i])
				}
			}
		})
	}
}

func TestListTagsDropsRepeatedTags(t *testing.T) {
	t.Parallel()
	pages := map[string]string{
		"":  `{"tags":["a","b"]}`,
		"b": `{"tags":["b","c"]}`,
	}
	u := serveTags(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last := r.URL.Query().Get("last")
		if last == "" {
			w.Header().Set("Link", `</v2/o/r/tags/list?last=b>; rel="next"`)
		}
		fmt.Fprint(w, pages[last])
	}))
	got, err := listTags(context.Background(), http.DefaultClient, u, "o/r")
	if err != nil {
		t.Fatalf("listTags() error = %v", err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("listTags() (-want +got):\n%s", diff)
	}
}

func TestListTagsEmptyRepository(t *testing.T) {
	t.Parallel()
	u := serveTags(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"name":"o/r","tags":null}`)
	}))
	got, err := listTags(context.Background(), http.DefaultClient, u, "o/r")
	if err != nil || len(got) != 0 {
		t.Errorf("listTags() = %q, %v, want no tags and no error", got, err)
	}
}

func TestListTagsRefusesBadPagination(t *testing.T) {
	t.Parallel()
	var otherHits sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Store(r.URL.String(), true)
		fmt.Fprint(w, `{"tags":["stolen"]}`)
	}))
	t.Cleanup(other.Close)
	tests := []struct {
		name, link string
		// endless links every page to a page after it.
		endless bool
	}{
		{name: "another host", link: other.URL + "/v2/o/r/tags/list?last=a"},
		{name: "another host, scheme-relative", link: "//" + strings.TrimPrefix(other.URL, "http://") + "/v2/o/r/tags/list?last=a"},
		{name: "the page itself", link: "/v2/o/r/tags/list?n=1000"},
		{name: "unparseable", link: "http://[::1"},
		{name: "endless", endless: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var pages int
			u := serveTags(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				pages++
				link := tt.link
				if tt.endless {
					link = fmt.Sprintf("/v2/o/r/tags/list?last=t%d", pages)
				}
				w.Header().Set("Link", "<"+link+`>; rel="next"`)
				fmt.Fprintf(w, `{"tags":["t%d"]}`, pages)
			}))
			got, err := listTags(context.Background(), http.DefaultClient, u, "o/r")
			if !errors.Is(err, ErrTagsPagination) {
				t.Errorf("listTags() = %d tags, %v, want an error wrapping ErrTagsPagination", len(got), err)
			}
			if tt.endless && pages != MaxTagsPages {
				t.Errorf("listTags() read %d pages, want %d", pages, MaxTagsPages)
			}
		})
	}
	// Parallel subtests run after this function returns; cleanups after them.
	t.Cleanup(func() {
		otherHits.Range(func(k, _ any) bool {
			t.Errorf("listTags() followed a link to another host: %s", k)
			return true
		})
	})
}

func TestListTagsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
		want   []string
	}{
		{http.StatusNotFound, `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`, []string{`"o/r"`, "404 Not Found", "NAME_UNKNOWN"}},
		{http.StatusMethodNotAllowed, ``, []string{"405 Method Not Allowed"}},
		{http.StatusBadRequest, `{"errors":[{"code":"UNSUPPORTED"}]}`, []string{"400 Bad Request", "UNSUPPORTED"}},
		{http.StatusUnauthorized, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, []string{"401 Unauthorized", "authentication required"}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			u := serveTags(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			_, err := listTags(context.Background(), http.DefaultClient, u, "o/r")
			var te *TagsRefusedError
			if !errors.As(err, &te) || te.StatusCode() != tt.status {
				t.Fatalf("listTags() error = %v, want a *TagsRefusedError with status %d", err, tt.status)
			}
			var re *Error
			if !errors.As(err, &re) || re.Unauthorized() != (tt.status == http.StatusUnauthorized) {
				t.Errorf("listTags() error = %v, want it to wrap the *Error of the answer", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("listTags() error = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// TestListTagsWithoutN asks again without n when a registry refuses it,
// as Distribution before v3 does for an n above its maximum.
func TestListTagsWithoutN(t *testing.T) {
	t.Parallel()
	var queries []string
	u := serveTags(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Has("n") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"invalid number of results requested"}]}`)
			return
		}
		fmt.Fprint(w, `{"tags":["a","b"]}`)
	}))
	got, err := listTags(context.Background(), http.DefaultClient, u, "o/r")
	if err != nil {
		t.Fatalf("listTags() error = %v", err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Errorf("listTags() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n=1000", ""}, queries); diff != "" {
		t.Errorf("listTags() queries (-want +got):\n%s", diff)
	}
}

func TestListTagsBadAnswer(t *testing.T) {
	t.Parallel()
	u := serveTags(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html>`)
	}))
	if _, err := listTags(context.Background(), http.DefaultClient, u, "o/r"); err == nil || !strings.Contains(err.Error(), "parsing the answer") {
		t.Errorf("listTags() error = %v, want one about parsing the answer", err)
	}
}

// TestListTagsThroughClient lists through the run's authenticating
// transport: the https base is settled by the transport as for every
// other request.
func TestListTagsThroughClient(t *testing.T) {
	t.Parallel()
	r := newTestRegistry(t, nil).Repo("o/r")
	body := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	if err := r.PushBlob(context.Background(), hashOf([]byte("{}")), 2, strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}
	want := []string{"1.0", "1.1", "latest"}
	for _, tag := range want {
		if err := r.PutManifest(context.Background(), tag, body, "application/vnd.oci.image.manifest.v1+json"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Tags(context.Background())
	if err != nil {
		t.Fatalf("Tags() error = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tags() (-want +got):\n%s", diff)
	}
}
