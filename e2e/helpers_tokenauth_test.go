package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/auth/token"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/google/go-containerregistry/pkg/authn"

	_ "github.com/distribution/distribution/v3/registry/auth/token"
)

// tokenAuthority is a token server of the Docker registry token spec for a
// CNCF Distribution registry configured with `auth: token`: Distribution
// itself checks every token (signature against the authority's
// certificate, issuer, audience, expiry, granted actions), as a registry
// with docker_auth or GitLab's token service does. The authority signs
// EdDSA JWTs with a key generated for the test and grants, per
// repository, what grant allows of the actions asked for: a token server
// that grants fewer scopes than asked answers 200 all the same, as GHCR
// and docker_auth do for an account that may pull but not push.
type tokenAuthority struct {
	username, password string
	// grant returns the actions granted on repo out of asked.
	grant func(repo string, asked []string) []string
	// separate serves the realm from a server of its own (another port
	// of 127.0.0.1) rather than from the registry's host.
	separate bool

	key   ed25519.PrivateKey
	realm string

	mu     sync.Mutex
	issued int
	// asked counts the requests the realm was sent.
	asked int
}

const (
	tokenIssuer   = "e2e-token-authority"
	tokenAudience = "e2e-registry"
)

// grantAll grants every action asked for.
func grantAll(_ string, asked []string) []string { return asked }

// grantPull grants pull alone, whatever was asked for.
func grantPull(_ string, asked []string) []string {
	for _, a := range asked {
		if a == "pull" {
			return []string{"pull"}
		}
	}
	return nil
}

// newTokenAuthority returns an authority for one user; pass it as
// registryOptions.token.
func newTokenAuthority(tb testing.TB, username, password string, grant func(string, []string) []string) *tokenAuthority {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return &tokenAuthority{username: username, password: password, grant: grant, key: key}
}

// front starts the token-auth instance of the registry on cfg's storage,
// with its proxy, and returns the registry whose fixtures go to the open
// instance at host.
func (a *tokenAuthority) front(tb testing.TB, cfg *configuration.Configuration, host string) *testRegistry {
	tb.Helper()
	// The app needs the realm, which names the proxy, which needs the
	// app's address: the server waits for the app until it is made.
	var app http.Handler
	ready := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		app.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	proxy := newRecordingProxy(tb, srv.URL)
	a.realm = "http://" + proxy.host + "/token"
	if a.separate {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			status, h, body, _ := a.serveToken(r)
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		tb.Cleanup(ts.Close)
		a.realm = ts.URL + "/token"
	} else {
		proxy.inject(a.and(nil))
	}
	c := *cfg
	c.Auth = configuration.Auth{"token": configuration.Parameters{
		"realm":          a.realm,
		"service":        tokenAudience,
		"issuer":         tokenIssuer,
		"rootcertbundle": a.certificate(tb),
	}}
	app = handlers.NewApp(context.Background(), &c)
	close(ready)
	return &testRegistry{host: host, proxy: proxy, auth: authn.Anonymous}
}

// and returns the proxy's fault function that answers the realm's
// requests (when the realm is on the registry's host) and passes the
// others to f.
func (a *tokenAuthority) and(f faultFunc) faultFunc {
	return func(r *http.Request) (int, http.Header, string, bool) {
		if !a.separate && r.URL.Path == "/token" {
			return a.serveToken(r)
		}
		return faultOf(f, r)
	}
}

// certificate writes the authority's self-signed certificate, the
// registry's rootcertbundle, and returns its path.
func (a *tokenAuthority) certificate(tb testing.TB) string {
	tb.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: tokenIssuer},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, a.key.Public(), a.key)
	if err != nil {
		tb.Fatalf("creating the token authority's certificate: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "token-authority.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// serveToken answers GET realm?service=…&scope=… with Basic credentials.
func (a *tokenAuthority) serveToken(r *http.Request) (int, http.Header, string, bool) {
	h := http.Header{"Content-Type": {"application/json"}}
	a.mu.Lock()
	a.asked++
	a.mu.Unlock()
	user, pass, _ := r.BasicAuth()
	if r.Method != http.MethodGet ||
		subtle.ConstantTimeCompare([]byte(user), []byte(a.username)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(a.password)) != 1 {
		return http.StatusUnauthorized, h, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}` + "\n", true
	}
	var access []map[string]any
	for _, sc := range expandScope(strings.Join(r.URL.Query()["scope"], " ")) {
		typ, rest, _ := strings.Cut(sc, ":")
		i := strings.LastIndex(rest, ":")
		if typ != "repository" || i < 0 {
			continue
		}
		if granted := a.grant(rest[:i], []string{rest[i+1:]}); len(granted) > 0 {
			access = append(access, map[string]any{"type": typ, "name": rest[:i], "actions": granted})
		}
	}
	a.mu.Lock()
	a.issued++
	n := a.issued
	a.mu.Unlock()
	now := time.Now()
	tok := a.sign(map[string]any{
		"iss": tokenIssuer, "sub": a.username, "aud": tokenAudience,
		"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": strconv.Itoa(n), "access": access,
	})
	body, _ := json.Marshal(map[string]any{"token": tok, "access_token": tok, "expires_in": 300, "issued_at": now.Format(time.RFC3339)})
	return http.StatusOK, h, string(body) + "\n", true
}

// sign makes a compact JWS of claims, signed with EdDSA and naming the
// key by the thumbprint Distribution computes from the certificate.
func (a *tokenAuthority) sign(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "EdDSA", "kid": token.GetJWKThumbprint(a.key.Public())})
	payload, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(a.key, []byte(signing)))
}

// requests returns how many requests the realm was sent.
func (a *tokenAuthority) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.asked
}

// tokenNumber is the sequence number (1 for the first token issued) of
// the bearer token r carries, 0 without one.
func tokenNumber(r *http.Request) int {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return 0
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return 0
	}
	n, _ := strconv.Atoi(c.JTI)
	return n
}

// expired answers r as Distribution answers a request whose token has
// expired: 401 with a challenge for the scope r needs and
// error="invalid_token".
func (a *tokenAuthority) expired(r *http.Request) (int, http.Header, string, bool) {
	h := http.Header{"Content-Type": {"application/json"}, "Docker-Distribution-Api-Version": {"registry/2.0"}}
	h.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service=%q,scope=%q,error="invalid_token"`, a.realm, tokenAudience, scopeString(requiredScopes(r))))
	return http.StatusUnauthorized, h, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}` + "\n", true
}

// requestAs sends method to url asking for a Docker manifest, with the
// Authorization header auth unless it is empty, and returns the answer,
// its body closed.
func requestAs(t *testing.T, method, url, auth string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", dockerManifest)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestTokenAuthority checks the registry the tests below rely on: without
// a token Distribution challenges with the authority's realm; a token for
// pull reads but does not write; a token for push writes.
func TestTokenAuthority(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	pullOnly := newTokenAuthority(t, "reader", secret, grantPull)
	reg := newRegistry(t, registryOptions{token: pullOnly})
	reg.push(t, "app:1.0", packImage(t, 1))
	base := "http://" + reg.proxy.host

	do := func(t *testing.T, method, path, auth string) *http.Response {
		return requestAs(t, method, base+path, auth)
	}
	resp := do(t, http.MethodGet, "/v2/app/manifests/1.0", "")
	if want := fmt.Sprintf(`Bearer realm=%q,service=%q,scope="repository:app:pull"`, pullOnly.realm, tokenAudience); resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), want) {
		t.Errorf("GET manifest without a token = %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	tokenFor := func(t *testing.T, a *tokenAuthority, scope string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, a.realm+"?service="+tokenAudience+"&scope="+scope, nil)
		req.SetBasicAuth(a.username, a.password)
		status, _, body, _ := a.serveToken(req)
		var tr struct{ Token string }
		if err := json.Unmarshal([]byte(body), &tr); status != http.StatusOK || err != nil {
			t.Fatalf("token for %s = %d %s", scope, status, body)
		}
		return "Bearer " + tr.Token
	}
	pull := tokenFor(t, pullOnly, "repository:app:pull,push")
	if got := do(t, http.MethodGet, "/v2/app/manifests/1.0", pull).StatusCode; got != http.StatusOK {
		t.Errorf("GET manifest with a pull token = %d, want 200", got)
	}
	if got := do(t, http.MethodPost, "/v2/app/blobs/uploads/", pull).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("POST upload with a pull token = %d, want 401", got)
	}
	full := newTokenAuthority(t, "writer", secret, grantAll)
	full.key = pullOnly.key // same signing key: the registry trusts it
	full.realm = pullOnly.realm
	if got := do(t, http.MethodPost, "/v2/app/blobs/uploads/", tokenFor(t, full, "repository:app:pull,push")).StatusCode; got != http.StatusAccepted {
		t.Errorf("POST upload with a push token = %d, want 202", got)
	}
}
