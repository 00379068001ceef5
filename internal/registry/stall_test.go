package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Timeouts of the stall tests: short, and far enough apart that a loaded
// machine does not blur them.
const (
	testHeader   = 100 * time.Millisecond
	testProgress = 600 * time.Millisecond
)

func TestStallTransport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		stream  bool
		upload  bool
		handler http.HandlerFunc
		// wantErr is a substring of the error, empty for success.
		wantErr string
	}{{
		name:    "metadata: no headers in time",
		handler: func(w http.ResponseWriter, r *http.Request) { time.Sleep(3 * testHeader) },
		wantErr: "timed out: no response headers for 100ms",
	}, {
		name:    "stream: no headers in time",
		stream:  true,
		handler: func(w http.ResponseWriter, r *http.Request) { time.Sleep(3 * testHeader) },
		wantErr: "timed out: no response headers for 100ms",
	}, {
		name:   "body moving longer than the header timeout",
		stream: true,
		handler: func(w http.ResponseWriter, r *http.Request) {
			for range 6 {
				w.Write([]byte("chunk"))
				http.NewResponseController(w).Flush()
				time.Sleep(testHeader)
			}
		},
	}, {
		name: "body pausing longer than the header timeout",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("first"))
			http.NewResponseController(w).Flush()
			time.Sleep(3 * testHeader)
			w.Write([]byte("second"))
		},
	}, {
		name: "body stalled",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("first"))
			http.NewResponseController(w).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(3 * testProgress):
			}
		},
		wantErr: "timed out: no progress for 600ms",
	}, {
		name:   "stream upload answered after the header timeout",
		stream: true,
		upload: true,
		handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			time.Sleep(3 * testHeader)
			w.WriteHeader(http.StatusCreated)
		},
	}, {
		name:   "metadata upload answered after the header timeout",
		upload: true,
		handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			time.Sleep(3 * testHeader)
			w.WriteHeader(http.StatusCreated)
		},
		wantErr: "timed out: no response headers for 100ms",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			c := &http.Client{Transport: &stallTransport{header: testHeader, progress: testProgress, next: http.DefaultTransport}}
			ctx := context.Background()
			if tc.stream {
				ctx = asStream(ctx)
			}
			method, body := http.MethodGet, io.Reader(nil)
			if tc.upload {
				method, body = http.MethodPut, bytes.NewReader([]byte("blob"))
			}
			req, err := http.NewRequestWithContext(ctx, method, srv.URL+"/v2/r/blobs/x", body)
			if err != nil {
				t.Fatal(err)
			}
			err = func() error {
				resp, err := c.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				_, err = io.ReadAll(resp.Body)
				return err
			}()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("%s %s = %v, want success", method, req.URL.Path, err)
			case tc.wantErr != "" && (!errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("%s %s = %v, want ErrStalled with %q", method, req.URL.Path, err, tc.wantErr)
			}
		})
	}
}

func TestNewStallTransport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		override                 time.Duration
		wantHeader, wantProgress time.Duration
	}{
		{0, DefaultHeaderTimeout, DefaultStallTimeout},
		{2 * time.Second, 2 * time.Second, 2 * time.Second},
		{90 * time.Second, 90 * time.Second, 90 * time.Second},
	} {
		got := newStallTransport(tc.override, http.DefaultTransport)
		if got.header != tc.wantHeader || got.progress != tc.wantProgress {
			t.Errorf("newStallTransport(%v) = header %v, progress %v; want %v, %v", tc.override, got.header, got.progress, tc.wantHeader, tc.wantProgress)
		}
	}
}

func TestHeadManifestWithoutDigestHeader(t *testing.T) {
	t.Parallel()
	body := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`)
	var heads, gets int
	c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		// A registry that never says the digest.
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		switch r.Method {
		case http.MethodHead:
			heads++
			w.WriteHeader(http.StatusOK)
		case http.MethodGet:
			gets++
			w.Write(body)
		}
		return true
	})
	got, err := c.Repo("o/r").HeadManifest(context.Background(), "1.0", "application/vnd.oci.image.manifest.v1+json")
	if want := hashOf(body); err != nil || got != want {
		t.Errorf("HeadManifest() = %v, %v; want %v from the body", got, err, want)
	}
	if heads != 1 || gets != 1 {
		t.Errorf("HeadManifest() made %d HEADs and %d GETs, want 1 and 1", heads, gets)
	}
}

func TestOpenStalledPing(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	reg, err := name.NewRegistry(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	noSleep := func(context.Context, time.Duration) error { return nil }
	_, err = Open(context.Background(), reg, []Scope{{Repository: "o/r"}}, Options{Keychain: authn.NewMultiKeychain(), StallTimeout: testHeader, Sleep: noSleep})
	if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "GET /v2/: timed out: no response headers for 100ms") {
		t.Errorf("Open(stalled registry) = %v, want the stall of GET /v2/", err)
	}
}
