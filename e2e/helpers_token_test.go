package e2e

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// tokenService is a bearer-token gate in front of a registry, as GHCR has
// one: a request without a valid token is answered 401 with
//
//	WWW-Authenticate: Bearer realm="http://<proxy>/token",service="bench",scope="repository:<repo>:<actions>"
//
// and GET /token with the right Basic credentials returns
// {"token": "..."} granting the scopes asked for. A token names its scopes
// and is signed with a key of the run; a request for a repository the
// token does not cover is challenged again with that repository's scope, so
// a client that asks for too little pays for another exchange, as on GHCR.
//
// It runs inside the recording proxy (as its fault function), so the
// exchanges are counted and delayed like every other request, and the
// registry behind it runs without auth.
type tokenService struct {
	realm              string
	username, password string
	key                []byte
}

// tokenServiceName is the service the challenges name.
const tokenServiceName = "bench"

// newTokenService puts a token gate in front of reg (which must have no
// auth of its own) for one user.
func newTokenService(t testing.TB, reg *testRegistry, username, password string) *tokenService {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s := &tokenService{
		realm:    "http://" + reg.proxy.host + "/token",
		username: username, password: password, key: key,
	}
	reg.proxy.inject(s.serve)
	return s
}

// serve is the proxy's fault function: it answers /token and challenges,
// and passes requests with a sufficient token on to the registry.
func (s *tokenService) serve(r *http.Request) (int, http.Header, string, bool) {
	if r.URL.Path == "/token" {
		return s.issue(r)
	}
	need := requiredScopes(r)
	granted, ok := s.verify(r.Header.Get("Authorization"))
	if ok {
		missing := false
		for _, n := range need {
			if !granted[n] {
				missing = true
			}
		}
		if !missing {
			return 0, nil, "", false
		}
	}
	challenge := fmt.Sprintf(`Bearer realm=%q,service=%q`, s.realm, tokenServiceName)
	if len(need) > 0 {
		challenge += fmt.Sprintf(`,scope=%q`, scopeString(need))
	}
	h := http.Header{}
	h.Set("WWW-Authenticate", challenge)
	h.Set("Content-Type", "application/json")
	h.Set("Docker-Distribution-API-Version", "registry/2.0")
	return http.StatusUnauthorized, h, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}` + "\n", true
}

// issue answers a token request: GET with Basic credentials and scope
// parameters, or the OAuth2 POST form with grant_type=password.
func (s *tokenService) issue(r *http.Request) (int, http.Header, string, bool) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	var user, pass string
	var scopes []string
	switch r.Method {
	case http.MethodGet:
		var ok bool
		user, pass, ok = r.BasicAuth()
		if !ok {
			user, pass = "", ""
		}
		scopes = r.URL.Query()["scope"]
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			return http.StatusBadRequest, h, `{"errors":[{"code":"BAD_REQUEST"}]}`, true
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("grant_type") != "password" {
			return http.StatusBadRequest, h, `{"errors":[{"code":"UNSUPPORTED"}]}`, true
		}
		user, pass, scopes = form.Get("username"), form.Get("password"), form["scope"]
	default:
		return http.StatusMethodNotAllowed, h, "", true
	}
	if subtle.ConstantTimeCompare([]byte(user), []byte(s.username)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.password)) != 1 {
		return http.StatusUnauthorized, h, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}` + "\n", true
	}
	var granted []string
	for _, sc := range scopes {
		granted = append(granted, expandScope(sc)...)
	}
	tok := s.sign(granted)
	body, err := json.Marshal(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
	if err != nil {
		return http.StatusInternalServerError, h, "", true
	}
	return http.StatusOK, h, string(body) + "\n", true
}

// expandScope splits "repository:a/b:pull,push repository:c:pull" into
// "repository:a/b:pull", "repository:a/b:push", "repository:c:pull".
func expandScope(s string) []string {
	var out []string
	for _, one := range strings.Fields(s) {
		i := strings.LastIndex(one, ":")
		if i < 0 {
			continue
		}
		for _, action := range strings.Split(one[i+1:], ",") {
			if action == "*" {
				out = append(out, one[:i]+":pull", one[:i]+":push")
				continue
			}
			out = append(out, one[:i]+":"+action)
		}
	}
	return out
}

// scopeString joins single scopes of one repository back into
// "repository:a/b:pull,push" (the challenge asks for one repository).
func scopeString(need []string) string {
	byRepo := map[string][]string{}
	var repos []string
	for _, n := range need {
		i := strings.LastIndex(n, ":")
		if _, ok := byRepo[n[:i]]; !ok {
			repos = append(repos, n[:i])
		}
		byRepo[n[:i]] = append(byRepo[n[:i]], n[i+1:])
	}
	var parts []string
	for _, r := range repos {
		parts = append(parts, r+":"+strings.Join(byRepo[r], ","))
	}
	return strings.Join(parts, " ")
}

// requiredScopes returns the scopes a registry request needs: none for
// the /v2/ ping, pull on the repository for reads, pull and push for
// writes.
func requiredScopes(r *http.Request) []string {
	repo := repository(r.URL.Path)
	if repo == "" {
		return nil
	}
	s := "repository:" + repo
	if !isWrite(r) {
		return []string{s + ":pull"}
	}
	return []string{s + ":pull", s + ":push"}
}

// repository returns the repository a /v2/ path names, or "".
func repository(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	best := -1
	for _, kind := range []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"} {
		if i := strings.LastIndex(rest, kind); i > best {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return rest[:best]
}

type tokenClaims struct {
	Scopes []string `json:"scopes"`
}

func (s *tokenService) sign(scopes []string) string {
	sort.Strings(scopes)
	payload, _ := json.Marshal(tokenClaims{Scopes: scopes})
	p := base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(p))
	return "bench." + p + "." + hex.EncodeToString(mac.Sum(nil))
}

// verify checks an Authorization header and returns the scopes its token
// grants.
func (s *tokenService) verify(authorization string) (map[string]bool, bool) {
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return nil, false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != "bench" {
		return nil, false
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(parts[1]))
	sum, err := hex.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sum, mac.Sum(nil)) {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, false
	}
	granted := map[string]bool{}
	for _, sc := range c.Scopes {
		granted[sc] = true
	}
	return granted, true
}

// TestTokenService checks the gate the benchmark relies on: challenges
// name the realm and scope, tokens come only for the right credentials,
// and a token covers only the scopes it was issued for.
func TestTokenService(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	reg.push(t, "app:1.0", packImage(t, 1))
	secret := randomSecret(t)
	newTokenService(t, reg, "bench", secret)
	base := "http://" + reg.proxy.host

	token := func(t *testing.T, user, pass string, scopes ...string) (int, string) {
		t.Helper()
		q := url.Values{"service": {tokenServiceName}, "scope": scopes}
		req, err := http.NewRequest(http.MethodGet, base+"/token?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Token string `json:"token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Token
	}
	get := func(t *testing.T, method, path, tok string) *http.Response {
		t.Helper()
		auth := ""
		if tok != "" {
			auth = "Bearer " + tok
		}
		return requestAs(t, method, base+path, auth)
	}

	wantChallenge := fmt.Sprintf(`Bearer realm="%s/token",service="bench",scope="repository:app:pull"`, base)
	if resp := get(t, http.MethodGet, "/v2/app/manifests/1.0", ""); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != wantChallenge {
		t.Errorf("GET manifest without token = %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), wantChallenge)
	}
	if code, tok := token(t, "bench", secret+"x", "repository:app:pull"); code != http.StatusUnauthorized || tok != "" {
		t.Errorf("token for a wrong password = %d %q, want 401 and no token", code, tok)
	}
	code, tok := token(t, "bench", secret, "repository:app:pull", "repository:other:pull,push")
	if code != http.StatusOK || tok == "" {
		t.Fatalf("token for the right password = %d %q, want 200 and a token", code, tok)
	}
	for _, tc := range []struct {
		method, path string
		tok          string
		want         int
	}{
		{http.MethodGet, "/v2/", tok, http.StatusOK},
		{http.MethodGet, "/v2/app/manifests/1.0", tok, http.StatusOK},
		{http.MethodHead, "/v2/app/manifests/1.0", tok + "0", http.StatusUnauthorized},
		// pull only: a write to app needs another token.
		{http.MethodPost, "/v2/app/blobs/uploads/", tok, http.StatusUnauthorized},
		{http.MethodGet, "/v2/third/manifests/1.0", tok, http.StatusUnauthorized},
		{http.MethodPost, "/v2/other/blobs/uploads/", tok, http.StatusAccepted},
	} {
		if resp := get(t, tc.method, tc.path, tc.tok); resp.StatusCode != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}
