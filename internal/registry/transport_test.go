package registry

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// recorder answers no request; it notes which URLs reached the network.
type recorder struct {
	mu   sync.Mutex
	urls []string
	auth []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.urls = append(r.urls, req.URL.String())
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	return nil, errors.New("no network in this test")
}

func TestPlainHTTPPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host      string
		insecure  bool
		wantPlain bool // whether an http:// request may reach the network
	}{
		{"10.1.2.3:5000", false, false},
		{"192.168.1.10:5000", false, false},
		{"172.16.0.5", false, false},
		{"registry.example.com", false, false},
		{"localhost:5000", false, true},
		{"127.0.0.1:5000", false, true},
		{"[::1]:5000", false, true},
		// go-containerregistry alone falls back to plain HTTP for none
		// of these loopback names; the tool's own rule decides.
		{"127.0.0.2:5000", false, true},
		{"127.0.0.1", false, true},
		{"LOCALHOST:5000", false, true},
		{"localhost", false, true},
		{"LocalHost", false, true},
		// go-containerregistry alone speaks plain HTTP to *.localhost,
		// which the tool's rule does not count as loopback.
		{"registry.localhost:5000", false, false},
		{"10.1.2.3:5000", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			var opts []name.Option
			if tt.insecure {
				opts = append(opts, name.Insecure)
			}
			reg, err := name.NewRegistry(tt.host, opts...)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			kc := fixedKeychain{&authn.Basic{Username: "u", Password: "secret"}}
			_, err = Open(context.Background(), reg, []Scope{{Repository: "o/r", Push: true}}, Options{Keychain: kc, Insecure: tt.insecure, Transport: rec})
			if err == nil {
				t.Fatalf("Open(%q) = nil error, want the ping to fail (no network)", tt.host)
			}
			plain := false
			for _, u := range rec.urls {
				if len(u) >= 7 && u[:7] == "http://" {
					plain = true
				}
			}
			if plain != tt.wantPlain {
				t.Errorf("Open(%q, insecure=%t) sent plain HTTP = %t (requests %q), want %t", tt.host, tt.insecure, plain, rec.urls, tt.wantPlain)
			}
			for i, a := range rec.auth {
				if a != "" {
					t.Errorf("Open(%q) sent Authorization %q with %s before any challenge", tt.host, a, rec.urls[i])
				}
			}
		})
	}
}

type fixedKeychain struct{ a authn.Authenticator }

func (k fixedKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.a, nil }

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true, "[::1]": true,
		"10.0.0.1": false, "192.168.0.1": false, "example.com": false, "localhost.example.com": false, "0.0.0.0": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %t, want %t", host, got, want)
		}
	}
}
