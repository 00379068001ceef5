package e2e

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPushWithPullOnlyToken: the token server grants pull although push
// was asked for (an account that may read but not write). The upload is
// refused twice, once with a fresh token; the run says the credentials can
// read but not write the repository, and the tag is left alone.
func TestPushWithPullOnlyToken(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	reg := newRegistry(t, registryOptions{token: newTokenAuthority(t, "reader", secret, grantPull)})
	im := packImage(t, 1)
	old := reg.push(t, "app:1.0", im)

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "username": "reader", "password": secret})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 1)
	msg := expectErrorMentions(t, res, "401", "can read", "not write", reg.ref("app"))
	if strings.Contains(msg, "ContentLength") || strings.Contains(msg, "Body length") {
		t.Errorf("error %q is the transport's, not the registry's refusal", msg)
	}
	for _, w := range reg.proxy.writes() {
		if w.Status < 400 {
			t.Errorf("write %s succeeded with a pull-only token", w)
		}
	}
	expectAt(t, reg, "app:1.0", old)
}

// TestTokenExpiresDuringPush: the token expires before the first upload
// (Distribution answers 401 invalid_token); the client fetches a fresh
// token and sends the upload again from the bytes in memory, the config
// whole both times, and the run succeeds.
func TestTokenExpiresDuringPush(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	authority := newTokenAuthority(t, "writer", secret, grantAll)
	reg := newRegistry(t, registryOptions{token: authority})
	im := packImage(t, 1)
	reg.push(t, "app:1.0", im)
	var expired atomic.Int64
	reg.proxy.inject(authority.and(func(r *http.Request) (int, http.Header, string, bool) {
		if isWrite(r) && tokenNumber(r) == 1 {
			expired.Add(1)
			return authority.expired(r)
		}
		return 0, nil, "", false
	}))

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "username": "writer", "password": secret})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	if expired.Load() == 0 {
		t.Fatalf("no write carried the first token; the expiry was not exercised")
	}
	cfg := expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
	var uploads []request
	for _, r := range reg.proxy.requests() {
		if r.Method == http.MethodPost && strings.Contains(r.Query, "digest="+sha256Digest(cfg)) {
			uploads = append(uploads, r)
		}
	}
	// Distribution takes no monolithic upload: the second POST opens a
	// session (202) that a PUT finishes.
	if len(uploads) != 2 || uploads[0].Status != http.StatusUnauthorized || uploads[1].Status != http.StatusAccepted {
		t.Fatalf("monolithic uploads of the config = %s, want one 401 then one 202", formatRequests(uploads))
	}
	for _, u := range uploads {
		if u.ReqBytes != int64(len(cfg)) {
			t.Errorf("upload %s sent %d bytes, want the config's %d", u, u.ReqBytes, len(cfg))
		}
	}
}

// TestPrivateTokenService: a registry on a loopback address whose token
// service is on another loopback port (docker_auth beside a registry, a
// registry reached by IP) is used; the same token service for a registry
// reached by a public host name is refused before any credential goes
// there, saying why and what to do.
func TestPrivateTokenService(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	im := packImage(t, 1)

	// start is a registry whose token service has an address of its
	// own, another port of 127.0.0.1, with im as app:1.0.
	start := func(t *testing.T) (*testRegistry, *tokenAuthority) {
		authority := newTokenAuthority(t, "writer", secret, grantAll)
		authority.separate = true
		reg := newRegistry(t, registryOptions{token: authority})
		reg.push(t, "app:1.0", im)
		return reg, authority
	}

	t.Run("loopback registry", func(t *testing.T) {
		t.Parallel()
		reg, authority := start(t)
		res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "username": "writer", "password": secret})
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		if authority.requests() == 0 {
			t.Errorf("token service requests = 0, want the token to come from %s", authority.realm)
		}
		expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
	})
	t.Run("registry by a public name", func(t *testing.T) {
		t.Parallel()
		reg, authority := start(t)
		// registry.test resolves nowhere: the proxy, as HTTP_PROXY,
		// takes its requests to the registry.
		proxy := "http://" + reg.proxy.host
		res := runAction(t, map[string]string{"image": "registry.test/app:1.0", "platform": "linux/amd64", "username": "writer", "password": secret, "insecure": "true"},
			"HTTP_PROXY="+proxy, "http_proxy="+proxy, "HTTPS_PROXY=", "https_proxy=", "NO_PROXY=", "no_proxy=")
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 1)
		expectErrorMentions(t, res, "registry.test", authority.realm, "private or loopback address", "host name")
		if n := authority.requests(); n != 0 {
			t.Errorf("token service requests = %d, want 0", n)
		}
		expectNoWrites(t, reg.proxy)
	})
}

// TestTokenExpiresDuringStream: a layer streamed to another registry
// whose token expires at the upload's PUT. A stream cannot be sent again
// as it is: the copy starts over from a new read and a new upload, with
// the fresh token, and the run succeeds.
func TestTokenExpiresDuringStream(t *testing.T) {
	t.Parallel()
	secret := randomSecret(t)
	authority := newTokenAuthority(t, "writer", secret, grantAll)
	src, dst := newRegistry(t, registryOptions{}), newRegistry(t, registryOptions{token: authority})
	im := packImage(t, 1)
	old := src.push(t, "app:1.0", im)
	layer := im.layers[0].digest
	var expired atomic.Int64
	dst.proxy.inject(authority.and(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method == http.MethodPut && r.URL.Query().Get("digest") == layer && tokenNumber(r) == 1 {
			expired.Add(1)
			return authority.expired(r)
		}
		return 0, nil, "", false
	}))

	res := runAction(t, map[string]string{"image": src.ref("app:1.0"), "platform": "linux/amd64", "tag": dst.ref("app:1.0"), "username": "writer", "password": secret})
	dst.proxy.log(t, "requests to the target registry")
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	if expired.Load() == 0 {
		t.Fatalf("no layer upload carried the first token; the expiry was not exercised")
	}
	newDigest := dst.digestOf(t, "app:1.0")
	expectOutputs(t, res, imageOutputs(dst.ref("app"), old, newDigest, true, "linux/amd64"))
	expectPatched(t, dst, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
}
