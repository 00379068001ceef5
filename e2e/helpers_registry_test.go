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
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
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
	// onDisk keeps the registry's storage in a temporary directory
	// instead of memory: the in-memory driver grows its write buffer by
	// each 32 KiB write, so uploading 100 MB through it takes minutes,
	// and disk keeps large fixtures out of memory.
	onDisk bool
	// allowURLs are patterns of the layer urls a manifest may carry (for
	// non-distributable layers); Distribution accepts none by default.
	allowURLs []string
	// token, when set, puts the registry behind the proxy under
	// Distribution's own token auth (`auth: token`), trusting tokens the
	// authority signs; the fixtures use a second, open instance on the
	// same storage (on disk) at host.
	token *tokenAuthority
}

// newRegistry starts a fresh registry and its proxy; both stop with tb.
func newRegistry(tb testing.TB, opts registryOptions) *testRegistry {
	tb.Helper()
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"delete": configuration.Parameters{"enabled": true},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{
				"enabled": false,
			}},
		},
		Catalog: configuration.Catalog{MaxEntries: 100},
	}
	if opts.onDisk || opts.token != nil {
		cfg.Storage["filesystem"] = configuration.Parameters{"rootdirectory": tb.TempDir()}
	} else {
		cfg.Storage["inmemory"] = configuration.Parameters{}
	}
	cfg.Validation.Manifests.URLs.Allow = opts.allowURLs
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "e2e-http-secret"
	auth := authn.Anonymous
	if opts.username != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(opts.password), bcrypt.MinCost)
		if err != nil {
			tb.Fatalf("hashing password: %v", err)
		}
		path := filepath.Join(tb.TempDir(), "htpasswd")
		if err := os.WriteFile(path, []byte(fmt.Sprintf("%s:%s\n", opts.username, hash)), 0o600); err != nil {
			tb.Fatalf("writing htpasswd: %v", err)
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{
			"realm": "e2e",
			"path":  path,
		}}
		auth = &authn.Basic{Username: opts.username, Password: opts.password}
	}
	app := handlers.NewApp(context.Background(), cfg)
	srv := httptest.NewServer(app)
	tb.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	if opts.token != nil {
		return opts.token.front(tb, cfg, host)
	}
	return &testRegistry{host: host, proxy: newRecordingProxy(tb, srv.URL), auth: auth}
}

// ref is a reference as the binary must write it: through the proxy.
func (r *testRegistry) ref(s string) string { return r.proxy.host + "/" + s }

// direct is the same reference straight at the registry.
func (r *testRegistry) direct(s string) string { return r.host + "/" + s }

// newAppRegistry starts a registry with opts and pushes im to it as
// app:1.0; it returns the registry and im's manifest digest.
func newAppRegistry(tb testing.TB, opts registryOptions, im image) (*testRegistry, string) {
	tb.Helper()
	reg := newRegistry(tb, opts)
	return reg, reg.push(tb, "app:1.0", im)
}

// newIndexRegistry starts a registry and pushes fx to it as app:1.0; it
// returns the registry and the index digest.
func newIndexRegistry(tb testing.TB, fx indexFixture) (*testRegistry, string) {
	tb.Helper()
	reg := newRegistry(tb, registryOptions{})
	return reg, reg.pushIndex(tb, "app", "1.0", fx)
}
