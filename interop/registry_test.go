package interop

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"

	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// startRegistry starts a CNCF Distribution registry in-process on
// 127.0.0.1, storing on disk, and returns its host:port. Every client treats
// a loopback registry as plain HTTP (docker's engine as an insecure registry).
func startRegistry(t *testing.T) string {
	t.Helper()
	return serve(t, registryApp(t))
}

// startRecordingRegistry is startRegistry with every request it answers
// recorded.
func startRecordingRegistry(t *testing.T) (string, *recorder) {
	t.Helper()
	rec := &recorder{}
	return serve(t, rec.wrap(registryApp(t))), rec
}

// serve serves h on 127.0.0.1 until the test ends and returns its host:port.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// registryApp is the registry's handler, storing in a temporary directory.
func registryApp(t *testing.T) http.Handler {
	t.Helper()
	logrus.SetOutput(io.Discard)
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"filesystem": configuration.Parameters{"rootdirectory": t.TempDir()},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{
				"enabled": false,
			}},
		},
	}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "interop-http-secret"
	return handlers.NewApp(context.Background(), cfg)
}

// recorder keeps every request a registry answered: method, path and
// query, and the digest of a manifest's body, so that a test can say what
// went over the wire.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, uri string
	body        string // digest of the body of a manifest PUT
}

// String is the request for a log: without its query (upload state).
func (r recorded) String() string {
	uri, _, _ := strings.Cut(r.uri, "?")
	return strings.TrimSpace(r.method + " " + uri + " " + r.body)
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rr := recorded{method: req.Method, uri: req.URL.RequestURI()}
		if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/manifests/") {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			rr.body = sha(body)
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, rr)
		rec.mu.Unlock()
		h.ServeHTTP(w, req)
	})
}

// take returns the requests recorded since the last take, and forgets them.
func (rec *recorder) take() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	reqs := rec.reqs
	rec.reqs = nil
	return reqs
}

// naming lists the requests of reqs whose path, query or manifest body
// names one of digests (by its hex: a query escapes the colon).
func naming(reqs []recorded, digests ...string) []recorded {
	var out []recorded
	for _, r := range reqs {
		for _, d := range digests {
			if strings.Contains(r.uri, strings.TrimPrefix(d, "sha256:")) || r.body == d {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
