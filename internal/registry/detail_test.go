package registry

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestResponseErrorDetail: the registry's detail, often what says what
// was wrong, is kept as one line of text: a string as it is, other JSON
// compacted, null and a repeat of the message left out.
func TestResponseErrorDetail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"string", `{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"unsupported manifest media type"}]}`,
			"PUT /v2/o/r/manifests/t: 400 Bad Request: MANIFEST_INVALID: manifest invalid (unsupported manifest media type)"},
		{"object", `{"errors":[{"code":"TAG_INVALID","message":"manifest tag did not match URI","detail":{"Tag": "t"}}]}`,
			`PUT /v2/o/r/manifests/t: 400 Bad Request: TAG_INVALID: manifest tag did not match URI ({"Tag":"t"})`},
		{"null", `{"errors":[{"code":"DENIED","message":"denied","detail":null}]}`,
			"PUT /v2/o/r/manifests/t: 400 Bad Request: DENIED: denied"},
		{"same as the message", `{"errors":[{"code":"DENIED","message":"denied","detail":"denied"}]}`,
			"PUT /v2/o/r/manifests/t: 400 Bad Request: DENIED: denied"},
		{"line breaks", `{"errors":[{"code":"DENIED","message":"denied","detail":"a\nb\r\n::error::x"}]}`,
			"PUT /v2/o/r/manifests/t: 400 Bad Request: DENIED: denied (a b ::error::x)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{
				StatusCode: http.StatusBadRequest,
				Body:       io.NopCloser(strings.NewReader(tc.body)),
				Request:    &http.Request{Method: http.MethodPut, URL: &url.URL{Path: "/v2/o/r/manifests/t"}},
			}
			if got := responseError(resp).Error(); got != tc.want {
				t.Errorf("responseError(%s) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}
