package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func hashOf(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// newTestRegistry serves go-containerregistry's registry, with fault in
// front of it when fault answers true.
func newTestRegistry(t *testing.T, fault func(w http.ResponseWriter, r *http.Request) bool) *Client {
	t.Helper()
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fault != nil && fault(w, r) {
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	r, err := name.NewRegistry(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(context.Background(), r, []Scope{{Repository: "o/r", Push: true}}, Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPushBlobRestartsALostUpload(t *testing.T) {
	t.Parallel()
	var puts, posts atomic.Int32
	c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodPost:
			posts.Add(1)
			ignoreMonolithic(r)
		case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && puts.Add(1) == 1:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry"}]}`)
			return true
		}
		return false
	})
	blob := []byte(`{"architecture":"amd64"}`)
	d := hashOf(blob)
	if err := c.Repo("o/r").PushBlob(context.Background(), d, int64(len(blob)), bytes.NewReader(blob)); err != nil {
		t.Fatalf("PushBlob() = %v, want the upload started again", err)
	}
	if posts.Load() != 2 || puts.Load() != 2 {
		t.Errorf("PushBlob() made %d POSTs and %d PUTs, want 2 and 2", posts.Load(), puts.Load())
	}
	got, err := c.Repo("o/r").GetBlob(context.Background(), d, 1<<20, "blob")
	if err != nil || !bytes.Equal(got, blob) {
		t.Errorf("GetBlob() = %q, %v; want %q", got, err, blob)
	}
}

// ignoreMonolithic makes r the plain POST that a registry without
// monolithic uploads (CNCF Distribution) reads a POST with a digest as.
func ignoreMonolithic(r *http.Request) {
	r.URL.RawQuery = ""
}

func TestPushBlobMonolithic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		fault               func(w http.ResponseWriter, r *http.Request) bool
		wantPosts, wantPuts int32
	}{
		{"taken in one POST", nil, 1, 0},
		{"ignored: the PUT finishes the session", func(w http.ResponseWriter, r *http.Request) bool {
			ignoreMonolithic(r)
			return false
		}, 1, 1},
		{"refused: a plain POST and a PUT", func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Query().Has("digest") {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return true
			}
			return false
		}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var posts, puts atomic.Int32
			c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/blobs/uploads/") {
					return false
				}
				switch r.Method {
				case http.MethodPost:
					posts.Add(1)
				case http.MethodPut:
					puts.Add(1)
				}
				return tt.fault != nil && r.Method == http.MethodPost && tt.fault(w, r)
			})
			blob := []byte(`{"architecture":"arm64"}`)
			d := hashOf(blob)
			if err := c.Repo("o/r").PushBlob(context.Background(), d, int64(len(blob)), bytes.NewReader(blob)); err != nil {
				t.Fatalf("PushBlob() = %v", err)
			}
			if posts.Load() != tt.wantPosts || puts.Load() != tt.wantPuts {
				t.Errorf("PushBlob() made %d POSTs and %d PUTs, want %d and %d", posts.Load(), puts.Load(), tt.wantPosts, tt.wantPuts)
			}
			if got, err := c.Repo("o/r").GetBlob(context.Background(), d, 1<<20, "blob"); err != nil || !bytes.Equal(got, blob) {
				t.Errorf("GetBlob() = %q, %v; want %q", got, err, blob)
			}
		})
	}
}

func TestGetManifestRefusesWrongDigest(t *testing.T) {
	t.Parallel()
	other := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`)
	c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Write(other)
			return true
		}
		return false
	})
	want := hashOf([]byte("something else"))
	if _, err := c.Repo("o/r").GetManifest(context.Background(), want.String()); err == nil || !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("GetManifest(%s) = %v, want a digest mismatch", want, err)
	}
}

func TestGetManifestLimit(t *testing.T) {
	t.Parallel()
	c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Write(bytes.Repeat([]byte(" "), int(MaxManifestSize)+10))
			return true
		}
		return false
	})
	_, err := c.Repo("o/r").GetManifest(context.Background(), "latest")
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Errorf("GetManifest(huge) = %v, want a *TooLargeError", err)
	}
}

func TestOpenRefusedTokenIsAnError(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/token":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"DENIED","message":"bad credentials"}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	reg, err := name.NewRegistry(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	kc := fixedKeychain{&authn.Basic{Username: "u", Password: "wrong"}}
	_, err = Open(context.Background(), reg, []Scope{{Repository: "o/r", Push: true}}, Options{Keychain: kc})
	var re *Error
	if !errors.As(err, &re) || !re.Unauthorized() || re.Code != "DENIED" {
		t.Errorf("Open(refused token) = %v, want an unauthorized *Error with code DENIED", err)
	}
}

// TestPushBlobMonolithicOnce sends a body in a POST once a client: a
// registry that answered the first with a session gets plain POSTs after.
func TestPushBlobMonolithicOnce(t *testing.T) {
	t.Parallel()
	var withDigest atomic.Int32
	c := newTestRegistry(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("digest") {
			withDigest.Add(1)
			ignoreMonolithic(r)
		}
		return false
	})
	for _, blob := range [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`), []byte(`{"c":3}`)} {
		if err := c.Repo("o/r").PushBlob(context.Background(), hashOf(blob), int64(len(blob)), bytes.NewReader(blob)); err != nil {
			t.Fatalf("PushBlob(%s) = %v", blob, err)
		}
	}
	if got := withDigest.Load(); got != 1 {
		t.Errorf("PushBlob() x3 sent %d monolithic POSTs, want 1", got)
	}
}
