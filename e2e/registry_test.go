package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/google/go-containerregistry/pkg/authn"
	"golang.org/x/crypto/bcrypt"

	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

// testRegistry is one in-memory CNCF Distribution registry with a recording
// proxy in front of it. The binary under test talks to proxy.host; fixtures
// are pushed and read back straight at host, so they are not recorded.
type testRegistry struct {
	host  string // the registry itself, 127.0.0.1:port
	proxy *recordingProxy
	auth  authn.Authenticator // what the fixtures use; anonymous without auth
}

type registryOptions struct {
	username, password string // htpasswd auth when set
}

// newRegistry starts a fresh registry and its proxy; both stop with t.
func newRegistry(t *testing.T, opts registryOptions) *testRegistry {
	t.Helper()
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory": configuration.Parameters{},
			"delete":   configuration.Parameters{"enabled": true},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{
				"enabled": false,
			}},
		},
		Catalog: configuration.Catalog{MaxEntries: 100},
	}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "e2e-http-secret"
	auth := authn.Anonymous
	if opts.username != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(opts.password), bcrypt.MinCost)
		if err != nil {
			t.Fatalf("hashing password: %v", err)
		}
		path := filepath.Join(t.TempDir(), "htpasswd")
		if err := os.WriteFile(path, []byte(fmt.Sprintf("%s:%s\n", opts.username, hash)), 0o600); err != nil {
			t.Fatalf("writing htpasswd: %v", err)
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{
			"realm": "e2e",
			"path":  path,
		}}
		auth = &authn.Basic{Username: opts.username, Password: opts.password}
	}
	app := handlers.NewApp(context.Background(), cfg)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	return &testRegistry{host: host, proxy: newRecordingProxy(t, srv.URL), auth: auth}
}

// ref is a reference as the binary must write it: through the proxy.
func (r *testRegistry) ref(s string) string { return r.proxy.host + "/" + s }

// direct is the same reference straight at the registry.
func (r *testRegistry) direct(s string) string { return r.host + "/" + s }
