package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// TestOpenSaysWhatHappenedAtEachAddress: a loopback registry is pinged
// over https and http; when both fail, the error says what each did.
func TestOpenSaysWhatHappenedAtEachAddress(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	reg, err := name.NewRegistry(addr)
	if err != nil {
		t.Fatal(err)
	}
	noSleep := func(context.Context, time.Duration) error { return nil }
	_, err = Open(context.Background(), reg, []Scope{{Repository: "o/r"}}, Options{Keychain: authn.NewMultiKeychain(), Sleep: noSleep})
	var ae *AttemptsError
	if !errors.As(err, &ae) {
		t.Fatalf("Open(nothing listening) = %v, want an *AttemptsError", err)
	}
	for _, want := range []string{"over https: ", "https://" + addr + "/v2/", "over http: ", "http://" + addr + "/v2/", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open(nothing listening) = %q, want it to hold %q", err, want)
		}
	}
	t.Logf("message: %v", err)
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("Open(nothing listening) = %v, want the dial error reachable with errors.As", err)
	}
}

// TestRetryLogfFromContext: a request's retries are told to the logf of
// its context, not to the client's.
func TestRetryLogfFromContext(t *testing.T) {
	t.Parallel()
	srv, _ := flaky(t, status(http.StatusServiceUnavailable, ""))
	var mu sync.Mutex
	var client, image []string
	rt := &retryTransport{next: http.DefaultTransport, sleep: (&sleeps{}).sleep, now: time.Now,
		logf: func(f string, a ...any) { mu.Lock(); client = append(client, fmt.Sprintf(f, a...)); mu.Unlock() }}
	ctx := WithLogf(context.Background(), func(f string, a ...any) { mu.Lock(); image = append(image, "img: "+fmt.Sprintf(f, a...)); mu.Unlock() })
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v2/o/r/manifests/t", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip() = %v", err)
	}
	resp.Body.Close()
	if len(client) != 0 || len(image) != 1 || !strings.HasPrefix(image[0], "img: retrying GET /v2/o/r/manifests/t") {
		t.Errorf("RoundTrip() logged %q to the client and %q to the request's context, want one retry line in the context's", client, image)
	}
}
