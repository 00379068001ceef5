package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/set-image-platform/set-image-platform/internal/store"
)

// TestStallTransportSection uploads a blob held as a store.Section, which
// net/http sends with sendfile, the process reading none of it: the
// watchdog follows the file's offset, so an upload that moves for longer
// than the progress timeout goes through, and one the registry stops
// reading is cancelled as stalled. The registry gets exactly the
// section's bytes, not the file's around it.
func TestStallTransportSection(t *testing.T) {
	t.Parallel()
	const size = 32 << 20
	file := make([]byte, 4096+size+4096)
	rand.Read(file)
	p := filepath.Join(t.TempDir(), "archive")
	if err := os.WriteFile(p, file, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(file[4096 : 4096+size])
	want := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name string
		// handler answers, and returns the digest of the body it read.
		handler func(w http.ResponseWriter, r *http.Request) string
		wantErr string // a substring of the error, empty for success
	}{{
		name: "read slowly for longer than the progress timeout",
		handler: func(w http.ResponseWriter, r *http.Request) string {
			h := sha256.New()
			for {
				n, err := io.CopyN(h, r.Body, 1<<20)
				if n == 0 || err != nil {
					break
				}
				time.Sleep(testProgress / 12)
			}
			w.WriteHeader(http.StatusCreated)
			return hex.EncodeToString(h.Sum(nil))
		},
	}, {
		name: "not read",
		handler: func(w http.ResponseWriter, r *http.Request) string {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * testProgress):
			}
			return ""
		},
		wantErr: "timed out: no progress for 600ms",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan string, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- tc.handler(w, r) }))
			t.Cleanup(srv.Close)
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			sec, err := store.NewSection(f, 4096, size)
			if err != nil {
				t.Fatal(err)
			}
			defer sec.Close()
			c := &http.Client{Transport: &stallTransport{header: testHeader, progress: testProgress, next: http.DefaultTransport}}
			req, err := http.NewRequestWithContext(asStream(context.Background()), http.MethodPut, srv.URL+"/v2/r/blobs/uploads/x", sectionBody{sec})
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = size
			start := time.Now()
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			took := time.Since(start)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("PUT of a %d MiB section = %v after %v, want success", size>>20, err, took)
			case tc.wantErr != "" && (!errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("PUT of a %d MiB section = %v, want ErrStalled with %q", size>>20, err, tc.wantErr)
			case tc.wantErr != "":
				return
			}
			if took < testProgress {
				t.Errorf("PUT took %v, want longer than the progress timeout %v for the test to mean anything", took, testProgress)
			}
			if d := <-got; d != want {
				t.Errorf("registry got bytes of digest %s, want the section's %s", d, want)
			}
		})
	}
}
