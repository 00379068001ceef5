package e2e

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// serveOn serves h at addr (host:port, port 0 for any) until t ends and
// returns the address it listens on.
func serveOn(t *testing.T, addr string, h http.Handler) (string, error) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), nil
}

// TestLoopbackPlainHTTP: every loopback name the README promises is reached
// over plain HTTP without insecure: 127.0.0.0/8 beyond 127.0.0.1, localhost
// in any letter case, with or without a port.
func TestLoopbackPlainHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// listen is where the registry is served; host is how the
		// reference names it (with the port when portInRef).
		listen, host string
		portInRef    bool
	}{
		{name: "127.0.0.2 with a port", listen: "127.0.0.2:0", host: "127.0.0.2", portInRef: true},
		{name: "LOCALHOST with a port", listen: "127.0.0.1:0", host: "LOCALHOST", portInRef: true},
		{name: "127.0.0.1 with a port", listen: "127.0.0.1:0", host: "127.0.0.1", portInRef: true},
		// Port 80 needs root; the scheme decision for it is also covered
		// by registry's unit tests.
		{name: "localhost without a port", listen: "127.0.0.1:80", host: "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := packImage(t, 1)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			target, err := url.Parse("http://" + reg.proxy.host)
			if err != nil {
				t.Fatal(err)
			}
			addr, err := serveOn(t, tc.listen, newReverseProxy(target))
			if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EADDRINUSE) {
				t.Skipf("cannot serve on %s here (%v); registry's unit tests cover the scheme decision", tc.listen, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			host := tc.host
			if tc.portInRef {
				_, port, _ := net.SplitHostPort(addr)
				host += ":" + port
			}
			ref := host + "/app:1.0"
			res := runCLI(t, "--platform", "linux/amd64", ref)
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)
			if !strings.Contains(res.Stdout, old) {
				t.Errorf("stdout lacks the summary line from %s:\n%s", old, res.Stdout)
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), nil)
		})
	}
}

// TestPlainHTTPRefusedForLoopbackLookalike: go-containerregistry speaks
// plain HTTP to *.localhost names, which are not loopback by the tool's
// rule: without insecure no plain HTTP request is made there. Every
// request goes to a proxy that forwards nothing.
func TestPlainHTTPRefusedForLoopbackLookalike(t *testing.T) {
	t.Parallel()
	const target = "registry.localhost:5000"
	trap := newEgressTrap(t)
	env := trap.env(t)
	res := execBinary(t, []string{"--platform", "linux/amd64", target + "/x:y"}, env, nil)
	t.Logf("cli run: %s", res)
	expectExit(t, res, 1)
	for _, r := range trap.requests() {
		if r.Method != http.MethodConnect {
			t.Errorf("plain HTTP request to %s without --insecure: %+v", r.Host, r)
		}
	}
	if !strings.Contains(res.Stderr, "insecure") || !strings.Contains(res.Stderr, target) {
		t.Errorf("stderr does not say that %s needs insecure for plain HTTP:\n%s", target, res.Stderr)
	}
}

// TestPlainHTTPNeedsInsecure: go-containerregistry alone speaks plain HTTP
// to RFC 1918 addresses; the binary must not without --insecure, and so
// never sends credentials in the clear there. Every request goes to a
// local proxy that forwards nothing (HTTP_PROXY and HTTPS_PROXY): no
// traffic leaves the machine. Each run under 20 s.
func TestPlainHTTPNeedsInsecure(t *testing.T) {
	t.Parallel()
	const (
		user   = "ci-bot"
		target = "10.255.255.1:5000"
	)
	for _, tc := range []struct {
		name     string
		insecure bool
	}{{"without --insecure", false}, {"with --insecure", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			trap := newEgressTrap(t)
			// Go sends every request for this host to the proxy
			// (only loopback names bypass it); make sure before
			// running anything.
			pc := httpproxy.Config{HTTPProxy: trap.url, HTTPSProxy: trap.url}
			for _, scheme := range []string{"http", "https"} {
				u := &url.URL{Scheme: scheme, Host: target, Path: "/v2/"}
				p, err := pc.ProxyFunc()(u)
				if err != nil || p == nil || p.String() != trap.url {
					t.Fatalf("proxy for %s = %v, %v; want %s: refusing to run", u, p, err, trap.url)
				}
			}
			pw := randomSecret(t)
			env := trap.env(t)
			args := []string{"--platform", "linux/amd64", "--username", user, "--password-stdin"}
			if tc.insecure {
				args = append(args, "--insecure")
			}
			args = append(args, target+"/x:y")

			start := time.Now()
			res := execBinary(t, args, env, strings.NewReader(pw+"\n"))
			took := time.Since(start)
			t.Logf("cli run %q: %s", args, res)
			seen := trap.requests()
			t.Logf("requests at the proxy: %+v", seen)
			expectExit(t, res, 1)
			if took > 20*time.Second {
				t.Errorf("run took %v, want under 20 s", took)
			}
			var plain []trapRequest
			for _, r := range seen {
				if r.Host != target {
					t.Errorf("request for %q at the proxy, want only %s", r.Host, target)
				}
				if r.Method != http.MethodConnect {
					plain = append(plain, r)
				}
			}
			if showsSecret(res.Stdout+res.Stderr, pw) != "" {
				t.Errorf("the output shows the password")
			}
			if !tc.insecure {
				if len(plain) != 0 {
					t.Errorf("plain HTTP requests to %s without --insecure = %+v, want none", target, plain)
				}
				if !strings.Contains(res.Stderr, "insecure") || !strings.Contains(res.Stderr, target) {
					t.Errorf("stderr does not say that %s needs insecure for plain HTTP:\n%s", target, res.Stderr)
				}
				return
			}
			// The control: with --insecure the binary does speak plain
			// HTTP there, which the check above would have seen.
			if len(plain) == 0 {
				t.Errorf("no plain HTTP request to %s with --insecure: the proxy saw %+v", target, seen)
			}
		})
	}
}
