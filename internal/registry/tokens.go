package registry

import (
	"net/http"
	"strings"
)

// tokenTap tells seen of each bearer token a request carries: the token
// exchange's tokens are secrets the runner does not know to mask.
type tokenTap struct {
	next http.RoundTripper
	seen func(token string)
}

func (t *tokenTap) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && tok != "" {
		t.seen(tok)
	}
	return t.next.RoundTrip(r)
}
