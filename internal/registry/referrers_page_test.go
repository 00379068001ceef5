package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

func TestReferrersPage(t *testing.T) {
	t.Parallel()
	subject := hashOf([]byte("subject"))
	for _, tc := range []struct {
		name  string
		links []string // Link of page i, %s the server's host
		want  []string // the bodies read, in order
		err   string   // what the error says, "" for none
	}{
		{name: "one page", links: []string{""}, want: []string{"page0"}},
		{name: "relative next, unquoted rel", links: []string{`</v2/o/r/referrers/%[2]s?page=1>; rel=next`, ""}, want: []string{"page0", "page1"}},
		{name: "absolute next on the same host", links: []string{`<http://%[1]s/v2/o/r/referrers/%[2]s?page=1>; rel="next"`, `</v2/o/r/referrers/%[2]s?page=2>; rel="next"`, ""}, want: []string{"page0", "page1", "page2"}},
		{name: "next among other links", links: []string{`<http://%[1]s/a>; rel="prev", </v2/o/r/referrers/%[2]s?page=1>; rel="next"`, ""}, want: []string{"page0", "page1"}},
		{name: "next on another host", links: []string{`<https://elsewhere.example/v2/o/r/referrers/%[2]s?page=1>; rel="next"`}, err: `refusing a next page on host "elsewhere.example"`},
		{name: "no API", links: nil, err: store.ErrNoReferrersAPI.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/referrers/") {
					return false
				}
				if tc.links == nil {
					w.WriteHeader(http.StatusNotFound)
					return true
				}
				page := 0
				fmt.Sscan(r.URL.Query().Get("page"), &page)
				if l := tc.links[page]; l != "" {
					w.Header().Set("Link", fmt.Sprintf(l, r.Host, subject))
				}
				fmt.Fprintf(w, "page%d", page)
				return true
			})
			src := c.Repo("o/r")
			var got []string
			var err error
			for page, n := "", 0; n < 10; n++ {
				var body []byte
				body, page, err = src.ReferrersPage(context.Background(), subject, page)
				if err != nil {
					break
				}
				got = append(got, string(body))
				if page == "" {
					break
				}
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ReferrersPage() = %v, want an error saying %q", err, tc.err)
				}
				if tc.links == nil && !errors.Is(err, store.ErrNoReferrersAPI) {
					t.Errorf("ReferrersPage() = %v, want it to wrap ErrNoAPI", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReferrersPage() = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("pages read (-want +got):\n%s", diff)
			}
		})
	}
}

// referrersAnswering is a registry whose referrers API answers status,
// and the count of requests it got.
func referrersAnswering(t *testing.T, status int) (*Client, *atomic.Int32) {
	t.Helper()
	var asked atomic.Int32
	c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/referrers/") {
			return false
		}
		asked.Add(1)
		w.WriteHeader(status)
		return true
	})
	return c, &asked
}

func TestReferrersNoAPIAskedOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		want   int32 // requests for three subjects, across two repositories
	}{
		{http.StatusNotFound, 1},
		{http.StatusMethodNotAllowed, 1},
		{http.StatusNotImplemented, 1},
		// A 400 may be about the request rather than the route.
		{http.StatusBadRequest, 3},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			c, asked := referrersAnswering(t, tc.status)
			for i, repo := range []string{"o/r", "o/r", "o/other"} {
				_, _, err := c.Repo(repo).ReferrersPage(context.Background(), hashOf([]byte{byte(i)}), "")
				if !errors.Is(err, store.ErrNoReferrersAPI) {
					t.Errorf("ReferrersPage(%s, subject %d) = %v, want ErrNoAPI", repo, i, err)
				}
			}
			if got := asked.Load(); got != tc.want {
				t.Errorf("referrers API requests = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestReferrersNoAPIAskedOnceAtOnce(t *testing.T) {
	t.Parallel()
	c, asked := referrersAnswering(t, http.StatusNotFound)
	var wg sync.WaitGroup
	for i := range 9 {
		wg.Go(func() {
			_, _, err := c.Repo("o/r").ReferrersPage(context.Background(), hashOf([]byte{byte(i)}), "")
			if !errors.Is(err, store.ErrNoReferrersAPI) {
				t.Errorf("ReferrersPage(subject %d) = %v, want ErrNoAPI", i, err)
			}
		})
	}
	wg.Wait()
	if got := asked.Load(); got != 1 {
		t.Errorf("referrers API requests for 9 subjects at once = %d, want 1", got)
	}
}
