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
