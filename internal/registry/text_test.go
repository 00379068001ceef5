package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/safetext"
)

// TestErrorBodyCleaned: a registry's error code and message reach the
// *Error on one line, with no control character.
func TestErrorBodyCleaned(t *testing.T) {
	t.Parallel()
	c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"errors":[{"code":"DENIED\u001b[2K","message":"no\r\n\u001b[1A\u001b[32mall images passed\u0008\u202e"}]}`)
		return true
	})
	_, err := c.Repo("o/r").GetManifest(context.Background(), "latest")
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("GetManifest(refused) = %v, want an *Error", err)
	}
	if want := `DENIED\x1b[2K`; re.Code != want {
		t.Errorf("GetManifest(refused) code = %q, want %q", re.Code, want)
	}
	if want := `no \x1b[1A\x1b[32mall images passed\b\u202e`; re.Message != want {
		t.Errorf("GetManifest(refused) message = %q, want %q", re.Message, want)
	}
	if got := safetext.Line(err.Error()); got != err.Error() {
		t.Errorf("GetManifest(refused) error = %q, holds control characters", err.Error())
	}
}
