package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RealmError is a token service on a private or loopback address for a
// registry that is on neither: the credentials are not sent there.
type RealmError struct {
	Registry string
	Realm    string
}

func (e *RealmError) Error() string {
	return fmt.Sprintf("the registry's token service %q is on a private or loopback address and the registry %q is not: credentials go to such a service only from a registry on a private or loopback address itself (a public registry could point them at internal services); reach the registry by its private address, or give the token service a host name", e.Realm, e.Registry)
}

// realmPath is where realmTransport gives a private token service an
// address on the registry's own host: go-containerregistry refuses a realm
// on a private or loopback address unless it is the registry's host and
// port, and offers no option to allow one.
const realmPath = "/.set-image-platform/realm/"

// realmTransport lets a registry on a private or loopback address use a
// token service on another private or loopback address (docker_auth on
// :5001 beside a registry on :5000, GitLab reached by IP): it rewrites
// such a realm in the registry's challenges to an address on the
// registry's host under realmPath, and sends requests to that address on
// to the realm itself. The scheme is kept, so go-containerregistry's rule
// against an http realm for an https registry, and policyTransport's
// against plain HTTP, still apply to the real one. A private realm of a
// registry that is not private is left as it is, for go-containerregistry
// to refuse, and noted for the error.
type realmTransport struct {
	// host is the registry's host[:port], as go-containerregistry
	// compares it with the realm's.
	host string
	next http.RoundTripper
	// private reports whether the registry is on a private or loopback
	// address; asked once, on the first private realm.
	private func() bool

	mu      sync.Mutex
	realms  []*url.URL
	refused string
}

func newRealmTransport(host string, next http.RoundTripper) *realmTransport {
	return &realmTransport{host: host, next: next, private: sync.OnceValue(func() bool { return privateHost(host) })}
}

// realmParam finds a challenge's realm parameter and its quoted value.
var realmParam = regexp.MustCompile(`(?i)(\brealm=)"([^"]*)"`)

func (t *realmTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == t.host && strings.HasPrefix(r.URL.Path, realmPath) {
		if real := t.lookup(strings.TrimPrefix(r.URL.Path, realmPath)); real != nil {
			req := r.Clone(r.Context())
			u := *real
			if r.URL.RawQuery != "" {
				u.RawQuery = strings.TrimPrefix(u.RawQuery+"&"+r.URL.RawQuery, "&")
			}
			req.URL, req.Host = &u, ""
			return t.next.RoundTrip(req)
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	var challenges []string
	changed := false
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		if m := realmParam.FindStringSubmatchIndex(h); m != nil {
			if alias := t.alias(h[m[4]:m[5]]); alias != "" {
				h, changed = h[:m[4]]+alias+h[m[5]:], true
			}
		}
		challenges = append(challenges, h)
	}
	if changed {
		resp.Header = resp.Header.Clone()
		resp.Header["Www-Authenticate"] = challenges
	}
	return resp, nil
}

// alias returns the address on the registry's host that stands for
// realm, or "" to leave realm as it is.
func (t *realmTransport) alias(realm string) string {
	u, err := url.Parse(realm)
	if err != nil || u.Host == t.host || !privateAddr(u.Hostname()) {
		return ""
	}
	if !t.private() {
		t.mu.Lock()
		t.refused = realm
		t.mu.Unlock()
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := -1
	for i, known := range t.realms {
		if known.String() == u.String() {
			n = i
		}
	}
	if n < 0 {
		n = len(t.realms)
		t.realms = append(t.realms, u)
	}
	return u.Scheme + "://" + t.host + realmPath + strconv.Itoa(n)
}

func (t *realmTransport) lookup(n string) *url.URL {
	i, err := strconv.Atoi(n)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil || i < 0 || i >= len(t.realms) {
		return nil
	}
	return t.realms[i]
}

// refusedRealm is the private realm last left to be refused, or "".
func (t *realmTransport) refusedRealm() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refused
}

// privateAddr reports whether host is an IP address that is private
// (RFC 1918, IPv6 ULA) or loopback, or localhost. Link-local addresses
// (the cloud metadata service among them) are not.
func privateAddr(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	a = a.Unmap()
	return a.IsPrivate() || a.IsLoopback()
}

// privateHost reports whether the registry host[:port] is on a private or
// loopback address: an address that is, or a name all of whose addresses
// are.
func privateHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if privateAddr(host) {
		return true
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !privateAddr(a.String()) {
			return false
		}
	}
	return true
}
