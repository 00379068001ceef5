package registry

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/limits"
)

// PlainHTTPError is returned when a request would travel over plain HTTP to
// a host that is not loopback and insecure was not asked for.
type PlainHTTPError struct{ Host string }

func (e *PlainHTTPError) Error() string {
	return fmt.Sprintf("refusing plain HTTP to %q: only loopback registries are reached over plain HTTP unless it is allowed", e.Host)
}

// IsLoopback reports whether host (without port) names this machine:
// localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// withLoopbackScheme returns reg marked insecure when its host is loopback
// by IsLoopback, so that go-containerregistry tries plain HTTP there too: on
// its own it does so only for 127.0.0.1, lower-case "localhost:" and [::1],
// and fails on 127.0.0.2, LOCALHOST or localhost without a port with "server
// gave HTTP response to HTTPS client". Marking a registry insecure only
// widens the schemes tried; policyTransport still refuses plain HTTP to
// every host that is not loopback, token realms included.
func withLoopbackScheme(reg name.Registry) name.Registry {
	host := reg.RegistryStr()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !IsLoopback(host) {
		return reg
	}
	r, err := name.NewRegistry(reg.RegistryStr(), name.Insecure)
	if err != nil {
		return reg
	}
	return r
}

// policyTransport refuses plain HTTP except to loopback hosts, or to any host
// when insecure. go-containerregistry alone also speaks HTTP to RFC 1918
// addresses, which would send credentials in the clear on shared networks.
type policyTransport struct {
	insecure bool
	next     http.RoundTripper
}

func (t *policyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !t.insecure && !IsLoopback(r.URL.Hostname()) {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &PlainHTTPError{Host: r.URL.Host}
	}
	return t.next.RoundTrip(r)
}

// baseTransport returns the transport under auth for the registry at host:
// private token services on the registry's host, over retries over the
// HTTPS policy over base (or a clone of the default transport, with unverified TLS
// when insecure), and the limiter its retries share.
func baseTransport(host string, opts Options) (*realmTransport, *Limiter) {
	base := opts.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if opts.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with insecure
		}
		base = t
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	limit := opts.MaxRequests
	if limit == 0 {
		limit = limits.DefaultRequests
	}
	l := NewLimiter(limit)
	return newRealmTransport(host, &retryTransport{
		next:   newStallTransport(opts.StallTimeout, &policyTransport{insecure: opts.Insecure, next: base}),
		limit:  l,
		logf:   opts.Logf,
		sleep:  sleep,
		now:    time.Now,
		health: newHealth(host, opts.Budget),
	}), l
}
