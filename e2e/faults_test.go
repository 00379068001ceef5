package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stallEnv makes the binary give up a request without progress after one
// second, so that stall tests take seconds rather than a minute.
const stallEnv = "SET_IMAGE_PLATFORM_STALL_TIMEOUT=1s"

// chaosFront is a server in front of a test registry's recording proxy. It
// passes every request on, unless its rule takes the request over to
// misbehave in ways a faultFunc cannot: reset the connection, cut a body
// short, stall, redirect, or serve other bytes. It records every request it
// sees, taken over or not, when it arrives.
type chaosFront struct {
	host string // 127.0.0.1:port

	mu   sync.Mutex
	rule chaosRule
	seen []frontRequest
}

// chaosRule returns what to do with r instead of passing it on, or nil to
// pass it on.
type chaosRule func(r *http.Request) chaosAct

// chaosAct answers a request taken over.
type chaosAct func(w http.ResponseWriter, r *http.Request)

// frontRequest is one request as a chaosFront saw it.
type frontRequest struct {
	Method, Path string
	Auth         bool // it carried an Authorization header
	TakenOver    bool
}

func (r frontRequest) String() string {
	s := fmt.Sprintf("%-6s %s", r.Method, r.Path)
	if r.Auth {
		s += " (with Authorization)"
	}
	if r.TakenOver {
		s += " (taken over)"
	}
	return s
}

// newChaosFront starts a chaosFront before reg's proxy; it stops with t.
// Upload locations the registry hands out lead back through the front.
func newChaosFront(t *testing.T, reg *testRegistry, rule chaosRule) *chaosFront {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: reg.proxy.host}
	f := &chaosFront{rule: rule}
	rp := newReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		act := f.rule(r)
		f.seen = append(f.seen, frontRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization") != "", TakenOver: act != nil})
		f.mu.Unlock()
		if act != nil {
			act(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	// Close, not CloseClientConnections: stalled handlers end with their
	// request's context when the binary hangs up.
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

// ref is a reference through the front.
func (f *chaosFront) ref(s string) string { return f.host + "/" + s }

func (f *chaosFront) requests() []frontRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]frontRequest(nil), f.seen...)
}

// count returns how many requests with method and path the front saw.
func (f *chaosFront) count(method, path string) int {
	n := 0
	for _, r := range f.requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// writes returns the requests that may change registry state, taken over
// or not.
func (f *chaosFront) writes() []frontRequest {
	var w []frontRequest
	for _, r := range f.requests() {
		if isWriteMethod(r.Method) {
			w = append(w, r)
		}
	}
	return w
}

func (f *chaosFront) log(t *testing.T, title string) {
	t.Helper()
	var b strings.Builder
	for i, r := range f.requests() {
		fmt.Fprintf(&b, "  %2d. %s\n", i+1, r)
	}
	t.Logf("%s:\n%s", title, b.String())
}

// firstN takes over, with act, the first n requests that match; later ones
// pass. fired counts the requests taken over.
func firstN(n int, match func(*http.Request) bool, act chaosAct) (rule chaosRule, fired func() int) {
	var count atomic.Int64
	return func(r *http.Request) chaosAct {
			if match(r) && count.Add(1) <= int64(n) {
				return act
			}
			return nil
		}, func() int {
			return int(min(count.Load(), int64(n)))
		}
}

// always is firstN without end.
func always(match func(*http.Request) bool, act chaosAct) (chaosRule, func() int) {
	return firstN(math.MaxInt32, match, act)
}

// takeOver is always without the count.
func takeOver(match func(*http.Request) bool, act chaosAct) chaosRule {
	r, _ := always(match, act)
	return r
}

func requestIs(method, path string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == method && r.URL.Path == path }
}

func manifestPath(repo, ref string) string { return "/v2/" + repo + "/manifests/" + ref }
func blobPath(repo, digest string) string  { return "/v2/" + repo + "/blobs/" + digest }

// resetConnection closes the connection with a TCP reset, answering nothing.
func resetConnection(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// cutShort announces body in full (Content-Length) but sends only its first
// half, then closes the connection.
func cutShort(body []byte, contentType string) chaosAct {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nDocker-Content-Digest: %s\r\n\r\n", contentType, len(body), sha256Digest(body))
		buf.Write(body[:len(body)/2])
		buf.Flush()
	}
}

// stall answers nothing (or, with prefix, the headers for body and prefix
// bytes of it) until the client hangs up or limit passes.
func stall(limit time.Duration, body []byte, prefix int) chaosAct {
	return func(w http.ResponseWriter, r *http.Request) {
		if body != nil {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.Header().Set("Docker-Content-Digest", sha256Digest(body))
			w.WriteHeader(http.StatusOK)
			w.Write(body[:prefix])
			http.NewResponseController(w).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(limit):
		}
	}
}

// serve answers with status, header and body.
func serve(status int, header http.Header, body []byte) chaosAct {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write(body)
	}
}

// serveEndless answers 200 with prefix and then filler bytes without end
// (no Content-Length), up to 256 MiB; sent counts what got through.
func serveEndless(contentType, prefix string, sent *atomic.Int64) chaosAct {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		n, err := io.WriteString(w, prefix)
		sent.Add(int64(n))
		chunk := bytes.Repeat([]byte("a"), 32<<10)
		for err == nil && sent.Load() < 256<<20 {
			n, err = w.Write(chunk)
			sent.Add(int64(n))
		}
	}
}

// packExact is the config a pack image gets for linux/amd64: its empty
// architecture filled in place.
func packExact(im image) []byte {
	return bytes.Replace(im.config.data, []byte(`"architecture":""`), []byte(`"architecture":"amd64"`), 1)
}

// countLines returns how many log lines contain s.
func countLines(res Result, s string) int {
	n := 0
	for _, l := range res.logLines() {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// expectIntact fails t unless repo:tag still resolves to digest and is a
// complete image, and every tag of repo is a complete image: a failed run
// leaves no manifest pointing at a missing blob.
func expectIntact(t *testing.T, reg *testRegistry, repo, tag, digest string) {
	t.Helper()
	expectAt(t, reg, repo+":"+tag, digest)
	for tg := range reg.tags(t, repo) {
		reg.validateImage(t, repo+":"+tg)
	}
}

// timed runs the action and returns its result and how long it took.
func timed(t *testing.T, inputs map[string]string, env ...string) (Result, time.Duration) {
	t.Helper()
	start := time.Now()
	res := runAction(t, inputs, env...)
	return res, time.Since(start)
}

// TestFaultsRecovered: registry hiccups that pass are retried and the run
// succeeds with the same result as without them. Bounds: every case under
// 10 s (the longest waits are a 1 s Retry-After and a 1 s stall timeout,
// plus backoffs of at most 250 ms and 500 ms).
func TestFaultsRecovered(t *testing.T) {
	t.Parallel()
	const maxTook = 10 * time.Second
	for _, tc := range []struct {
		name string
		// arm installs the fault and returns the host the binary must
		// talk to and how often the fault fired.
		arm       func(t *testing.T, reg *testRegistry, im image) (host string, fired func() int)
		wantFired int
		// wantRetryLog is the start of the retry log line expected
		// wantRetries times; empty: not checked, because Go's transport
		// may itself redo a GET on a reused connection that broke.
		wantRetryLog string
		wantRetries  int
		wantInRetry  string
		minTook      time.Duration
	}{{
		name: "503 on the first two manifest PUTs",
		arm: func(t *testing.T, reg *testRegistry, _ image) (string, func() int) {
			var n atomic.Int64
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				if r.Method == http.MethodPut && r.URL.Path == manifestPath("app", "1.0") && n.Add(1) <= 2 {
					return http.StatusServiceUnavailable, http.Header{"Content-Type": {"application/json"}}, `{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}`, true
				}
				return 0, nil, "", false
			})
			return reg.proxy.host, func() int { return int(min(n.Load(), 2)) }
		},
		wantFired:    2,
		wantRetryLog: "retrying PUT " + manifestPath("app", "1.0"),
		wantRetries:  2,
		wantInRetry:  "503",
	}, {
		name: "429 with Retry-After 1 on the first blob upload",
		arm: func(t *testing.T, reg *testRegistry, _ image) (string, func() int) {
			var n atomic.Int64
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				if (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasPrefix(r.URL.Path, "/v2/app/blobs/uploads/") && n.Add(1) == 1 {
					return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}, "Content-Type": {"application/json"}}, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, true
				}
				return 0, nil, "", false
			})
			return reg.proxy.host, func() int { return int(min(n.Load(), 1)) }
		},
		wantFired:    1,
		wantRetryLog: "retrying POST /v2/app/blobs/uploads/",
		wantRetries:  1,
		wantInRetry:  "429",
		minTook:      time.Second, // Retry-After honoured
	}, {
		name: "connection reset on the first manifest GET",
		arm: func(t *testing.T, reg *testRegistry, _ image) (string, func() int) {
			rule, fired := firstN(1, requestIs(http.MethodGet, manifestPath("app", "1.0")), resetConnection)
			return newChaosFront(t, reg, rule).host, fired
		},
		wantFired: 1,
	}, {
		name: "config body cut short on the first GET",
		arm: func(t *testing.T, reg *testRegistry, im image) (string, func() int) {
			rule, fired := firstN(1, requestIs(http.MethodGet, blobPath("app", im.config.digest)), cutShort(im.config.data, "application/octet-stream"))
			return newChaosFront(t, reg, rule).host, fired
		},
		wantFired: 1,
	}, {
		name: "first manifest GET stalls before answering",
		arm: func(t *testing.T, reg *testRegistry, _ image) (string, func() int) {
			rule, fired := firstN(1, requestIs(http.MethodGet, manifestPath("app", "1.0")), stall(30*time.Second, nil, 0))
			return newChaosFront(t, reg, rule).host, fired
		},
		wantFired:    1,
		wantRetryLog: "retrying GET " + manifestPath("app", "1.0"),
		wantRetries:  1,
		minTook:      time.Second, // the stall timeout
	}, {
		name: "first config GET stalls halfway through the body",
		arm: func(t *testing.T, reg *testRegistry, im image) (string, func() int) {
			rule, fired := firstN(1, requestIs(http.MethodGet, blobPath("app", im.config.digest)), stall(30*time.Second, im.config.data, len(im.config.data)/2))
			return newChaosFront(t, reg, rule).host, fired
		},
		wantFired: 1,
		minTook:   time.Second,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := packImage(t, 2)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			host, fired := tc.arm(t, reg, im)
			ref := host + "/app:1.0"

			res, took := timed(t, map[string]string{"image": ref, "platform": "linux/amd64"}, stallEnv)
			reg.proxy.log(t, "requests that reached the registry")
			expectExit(t, res, 0)
			if got := fired(); got != tc.wantFired {
				t.Errorf("fault fired %d times, want %d", got, tc.wantFired)
			}
			if took < tc.minTook || took > maxTook {
				t.Errorf("run took %v, want between %v and %v", took, tc.minTook, maxTook)
			}
			if tc.wantRetryLog != "" {
				if got := countLines(res, tc.wantRetryLog); got != tc.wantRetries {
					t.Errorf("log lines with %q = %d, want %d (one per retry)", tc.wantRetryLog, got, tc.wantRetries)
				}
				if countLines(res, tc.wantRetryLog) > 0 && countLines(res, tc.wantInRetry) == 0 {
					t.Errorf("no retry line says why (%q)", tc.wantInRetry)
				}
			}
			expectNoErrors(t, res)
			newDigest := reg.digestOf(t, "app:1.0")
			if newDigest == old || res.Outputs["digest"] != newDigest || res.Outputs["changed"] != "true" {
				t.Errorf("app:1.0 = %s (was %s), outputs digest=%q changed=%q", newDigest, old, res.Outputs["digest"], res.Outputs["changed"])
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
			reg.validateImage(t, "app:1.0")
		})
	}
}

// configWith is a valid config for im's layers, with an empty
// architecture and member added.
func configWith(im image, member string) []byte {
	return []byte(`{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":[` + diffIDsJSON(im.layers) + `]},` + member + `}`)
}

// deepJSON is a JSON array nested depth levels deep.
func deepJSON(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// TestFaultsRefused: what a registry serves that cannot be trusted or is
// too large is refused before anything is written, with one error, fast.
// Bounds: every case under 10 s; a body without end is not read past a
// few MiB.
func TestFaultsRefused(t *testing.T) {
	t.Parallel()
	const maxTook = 10 * time.Second
	for _, tc := range []struct {
		name string
		// image is the fixture pushed as app:1.0; nil: a pack image.
		image func(t *testing.T) image
		// rule returns the front's rule; sent counts the bytes an
		// endless body got out, if the case serves one.
		rule func(im image, sent *atomic.Int64) chaosRule
		// wantInError are substrings of the single ::error::, besides
		// the image reference; each entry's alternatives are split by |.
		wantInError func(im image) []string
		// noConfigRead: the refusal comes before the config is read.
		noConfigRead bool
	}{{
		name: "config GET serves another blob's bytes",
		rule: func(im image, _ *atomic.Int64) chaosRule {
			return takeOver(requestIs(http.MethodGet, blobPath("app", im.config.digest)),
				serve(http.StatusOK, http.Header{"Docker-Content-Digest": {im.config.digest}}, im.layers[0].data))
		},
		wantInError: func(im image) []string { return []string{"digest mismatch", im.config.digest} },
	}, {
		name: "manifest without end",
		rule: func(im image, sent *atomic.Int64) chaosRule {
			return takeOver(requestIs(http.MethodGet, manifestPath("app", "1.0")),
				serveEndless(dockerManifest, `{"schemaVersion":2,"mediaType":"`+dockerManifest+`","x":"`, sent))
		},
		wantInError:  func(image) []string { return []string{"manifest", "4 MiB"} },
		noConfigRead: true,
	}, {
		name: "config without end",
		rule: func(im image, sent *atomic.Int64) chaosRule {
			return takeOver(requestIs(http.MethodGet, blobPath("app", im.config.digest)),
				serveEndless("application/octet-stream", `{"architecture":"","os":"linux","x":"`, sent))
		},
		wantInError: func(image) []string { return []string{"config", "8 MiB"} },
	}, {
		name: "config of 9 MiB declared",
		image: func(t *testing.T) image {
			im := packImage(t, 1)
			return im.withConfig(configWith(im, `"x":"`+strings.Repeat("a", 9<<20)+`"`))
		},
		wantInError:  func(image) []string { return []string{"config", "8 MiB"} },
		noConfigRead: true,
	}, {
		name: "config nested 100 levels deep",
		image: func(t *testing.T) image {
			im := packImage(t, 1)
			return im.withConfig(configWith(im, `"x":`+deepJSON(99)))
		},
		wantInError: func(image) []string { return []string{"config", "nest|deep"} },
	}, {
		name: "manifest nested 100 levels deep",
		rule: func(im image, _ *atomic.Int64) chaosRule {
			body := bytes.Replace(im.manifest(), []byte(`{"schemaVersion":2,`), []byte(`{"schemaVersion":2,"x":`+deepJSON(99)+`,`), 1)
			return takeOver(requestIs(http.MethodGet, manifestPath("app", "1.0")),
				serve(http.StatusOK, http.Header{"Content-Type": {dockerManifest}}, body))
		},
		wantInError:  func(image) []string { return []string{"manifest", "nest|deep"} },
		noConfigRead: true,
	}, {
		name: "manifest that is not JSON",
		rule: func(im image, _ *atomic.Int64) chaosRule {
			body := im.manifest()
			return takeOver(requestIs(http.MethodGet, manifestPath("app", "1.0")),
				serve(http.StatusOK, http.Header{"Content-Type": {dockerManifest}}, body[:len(body)-3]))
		},
		wantInError:  func(image) []string { return []string{"manifest", "JSON|json"} },
		noConfigRead: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			im := packImage(t, 1)
			if tc.image != nil {
				im = tc.image(t)
			}
			old := reg.push(t, "app:1.0", im)
			var sent atomic.Int64
			rule := func(*http.Request) chaosAct { return nil }
			if tc.rule != nil {
				rule = tc.rule(im, &sent)
			}
			front := newChaosFront(t, reg, rule)
			ref := front.ref("app:1.0")

			res, took := timed(t, map[string]string{"image": ref, "platform": "linux/amd64"}, stallEnv)
			front.log(t, "requests of the run")
			expectExit(t, res, 1)
			msg := expectOneError(t, res)
			for _, want := range append([]string{ref}, tc.wantInError(im)...) {
				if !containsAny(msg, strings.Split(want, "|")) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if took > maxTook {
				t.Errorf("run took %v, want under %v", took, maxTook)
			}
			// An endless body is read no further than the limit, plus
			// what the connection buffers held.
			if got := sent.Load(); got > 64<<20 {
				t.Errorf("server got %d MiB of an endless body out, want the reader to stop near the limit", got>>20)
			}
			if w := front.writes(); len(w) != 0 {
				t.Errorf("write requests = %d, want 0: %v", len(w), w)
			}
			if tc.noConfigRead {
				if n := front.count(http.MethodGet, blobPath("app", im.config.digest)); n != 0 {
					t.Errorf("config read %d times, want 0: the refusal comes first", n)
				}
			}
			expectIntact(t, reg, "app", "1.0", old)
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestFaultManifestPutAlwaysFails: a registry that answers 503 to every
// manifest PUT fails the run after the bounded retries (5 attempts, about
// 2-4 s of backoff), within 20 s. The tag stays where it was; the new
// config blob may be there, but no manifest points at a missing blob.
func TestFaultManifestPutAlwaysFails(t *testing.T) {
	t.Parallel()
	im := packImage(t, 2)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	var puts atomic.Int64
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			puts.Add(1)
			return http.StatusServiceUnavailable, http.Header{"Content-Type": {"application/json"}}, `{"errors":[{"code":"UNAVAILABLE","message":"registry is read-only for maintenance"}]}`, true
		}
		return 0, nil, "", false
	})
	ref := reg.ref("app:1.0")

	res, took := timed(t, map[string]string{"image": ref, "platform": "linux/amd64"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 1)
	if got := puts.Load(); got != 5 {
		t.Errorf("manifest PUTs = %d, want 5 (the bounded attempts)", got)
	}
	if got := countLines(res, "retrying PUT "+manifestPath("app", "1.0")); got != 4 {
		t.Errorf("retry log lines = %d, want 4", got)
	}
	expectErrorMentions(t, res, ref, "503")
	if took > 20*time.Second {
		t.Errorf("run took %v, want under 20 s", took)
	}
	expectIntact(t, reg, "app", "1.0", old)
	if res.Outputs["digest"] != "" {
		t.Errorf("digest output = %q after a failed push, want empty", res.Outputs["digest"])
	}
}

// TestFaultManifestContentType: a registry that labels the manifest
// text/html. With the right mediaType in the body the run works as usual
// (under 10 s); without one the run either works from the body's shape or
// fails with one error about the media type, writing nothing.
func TestFaultManifestContentType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		image func(t *testing.T) image
		// mustWork: the body's mediaType settles it.
		mustWork bool
	}{{
		name:     "docker v2 with mediaType in the body",
		image:    func(t *testing.T) image { return packImage(t, 1) },
		mustWork: true,
	}, {
		name:     "oci with mediaType in the body",
		image:    func(t *testing.T) image { return buildxImage(t, 1) },
		mustWork: true,
	}, {
		name: "oci without mediaType in the body",
		image: func(t *testing.T) image {
			im := buildxImage(t, 1)
			render := im.render
			im.render = func(d string, size int, ls []layer) []byte {
				return bytes.Replace(render(d, size, ls), []byte("\n  \"mediaType\": \""+ociManifest+"\","), nil, 1)
			}
			return im
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := tc.image(t)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			// Only the first GET: the read-back after the push goes
			// to the registry as it is.
			rule, fired := firstN(1, requestIs(http.MethodGet, manifestPath("app", "1.0")),
				serve(http.StatusOK, http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Docker-Content-Digest": {old}}, im.manifest()))
			front := newChaosFront(t, reg, rule)
			ref := front.ref("app:1.0")

			res, took := timed(t, map[string]string{"image": ref, "platform": "linux/amd64"})
			front.log(t, "requests of the run")
			if fired() != 1 {
				t.Fatalf("the text/html manifest was served %d times, want 1", fired())
			}
			if took > 10*time.Second {
				t.Errorf("run took %v, want under 10 s", took)
			}
			if tc.mustWork || res.ExitCode == 0 {
				expectExit(t, res, 0)
				m := reg.get(t, "app:1.0")
				if m.digest == old || m.mediaType != im.manifestType {
					t.Errorf("app:1.0 = %s %s, want a new %s manifest (was %s)", m.digest, m.mediaType, im.manifestType, old)
				}
				expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), nil)
				reg.validateImage(t, "app:1.0")
				return
			}
			expectExit(t, res, 1)
			msg := expectOneError(t, res)
			if !strings.Contains(msg, ref) || !containsAny(strings.ToLower(msg), []string{"media type", "mediatype", "text/html"}) {
				t.Errorf("error %q does not name %s and the media type", msg, ref)
			}
			if w := front.writes(); len(w) != 0 {
				t.Errorf("write requests = %d, want 0: %v", len(w), w)
			}
			expectIntact(t, reg, "app", "1.0", old)
		})
	}
}

// recordingHost is a second server, another host:port than the registry's,
// that serves one body and records the Authorization headers it got.
type recordingHost struct {
	url string

	mu    sync.Mutex
	auths []string // one entry per request; "" when none
}

func newRecordingHost(t *testing.T, ip string, body []byte) *recordingHost {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listening on %s: %v", ip, err)
	}
	h := &recordingHost{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.auths = append(h.auths, r.Header.Get("Authorization"))
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func (h *recordingHost) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.auths...)
}

// TestFaultRedirectKeepsCredentials: a blob GET redirected (307) to another
// host — as registries do to their storage — is followed, and the
// registry's Authorization header never reaches the other host. Under
// 10 s.
func TestFaultRedirectKeepsCredentials(t *testing.T) {
	t.Parallel()
	const user = "ci-bot"
	for _, tc := range []struct{ name, ip string }{
		{"same address, other port", "127.0.0.1"},
		{"other loopback address", "127.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secret := randomSecret(t)
			im := packImage(t, 1)
			reg, old := newAppRegistry(t, registryOptions{username: user, password: secret}, im)
			storage := newRecordingHost(t, tc.ip, im.config.data)
			rule, fired := always(requestIs(http.MethodGet, blobPath("app", im.config.digest)),
				func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, storage.url+"/storage/"+im.config.digest+"?sig=e2e", http.StatusTemporaryRedirect)
				})
			front := newChaosFront(t, reg, rule)
			ref := front.ref("app:1.0")

			res, took := timed(t, map[string]string{"image": ref, "platform": "linux/amd64", "username": user, "password": secret})
			front.log(t, "requests of the run")
			expectExit(t, res, 0)
			if fired() == 0 {
				t.Fatalf("the config GET was not redirected")
			}
			// The registry did get credentials: the test would see them
			// if they were passed on.
			authed := false
			for _, r := range front.requests() {
				if r.Path == blobPath("app", im.config.digest) && r.Auth {
					authed = true
				}
			}
			if !authed {
				t.Errorf("the config GET at the registry carried no Authorization; nothing to leak")
			}
			got := storage.requests()
			if len(got) == 0 {
				t.Errorf("the other host got no request")
			}
			for i, a := range got {
				if a != "" {
					t.Errorf("request %d at the other host carried Authorization %q", i+1, a)
				}
			}
			if took > 10*time.Second {
				t.Errorf("run took %v, want under 10 s", took)
			}
			if newDigest := reg.digestOf(t, "app:1.0"); newDigest == old {
				t.Errorf("app:1.0 still at %s", old)
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
		})
	}
}

// TestRetries: a 503 on reading and a 429 with Retry-After on pushing are
// retried, and the run succeeds.
func TestRetries(t *testing.T) {
	t.Parallel()
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	var mu sync.Mutex
	failed := map[string]bool{}
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		isManifest := strings.Contains(r.URL.Path, "/manifests/")
		switch {
		case r.Method == http.MethodGet && isManifest && !failed["get"]:
			failed["get"] = true
			return http.StatusServiceUnavailable, nil, "try later", true
		case r.Method == http.MethodPut && isManifest && !failed["put"]:
			failed["put"] = true
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, true
		}
		return 0, nil, "", false
	})

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)
	if !failed["get"] || !failed["put"] {
		t.Errorf("faults injected = %v, want both a GET and a PUT of a manifest", failed)
	}
	newDigest := reg.digestOf(t, "app:1.0")
	if newDigest == old || res.Outputs["digest"] != newDigest {
		t.Errorf("app:1.0 = %s (was %s), digest output %q", newDigest, old, res.Outputs["digest"])
	}
	expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), nil)
}

// TestStalledManifestGet: a manifest GET that never answers is given up
// after the metadata timeout and retried; the run succeeds in under 30 s
// without any override of the timeouts.
func TestStalledManifestGet(t *testing.T) {
	t.Parallel()
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	rule, fired := firstN(1, requestIs(http.MethodGet, manifestPath("app", "1.0")), stall(3*time.Minute, nil, 0))
	front := newChaosFront(t, reg, rule)

	res, took := timed(t, map[string]string{"image": front.ref("app:1.0"), "platform": "linux/amd64"})
	front.log(t, "requests of the run")
	expectExit(t, res, 0)
	if fired() != 1 {
		t.Errorf("stalled %d GETs, want 1", fired())
	}
	if took > 30*time.Second {
		t.Errorf("run took %v, want under 30 s", took)
	}
	if got := countLines(res, "retrying GET "+manifestPath("app", "1.0")); got != 1 {
		t.Errorf("retry log lines = %d, want 1", got)
	}
	newDigest := reg.digestOf(t, "app:1.0")
	expectOutputs(t, res, imageOutputs(front.ref("app"), old, newDigest, true, "linux/amd64"))
}

// TestEverythingStalls: a registry that accepts connections and never
// answers ends the run with a timeout error well inside 2 minutes (5
// attempts of 15 s and their backoff), writing nothing.
func TestEverythingStalls(t *testing.T) {
	t.Parallel()
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	front := newChaosFront(t, reg, takeOver(func(*http.Request) bool { return true }, stall(3*time.Minute, nil, 0)))
	ref := front.ref("app:1.0")

	res, took := timed(t, map[string]string{"image": ref, "platform": "linux/amd64"})
	front.log(t, "requests of the run")
	expectExit(t, res, 1)
	msg := expectErrorMentions(t, res, ref)
	if !containsAny(strings.ToLower(msg), []string{"timed out", "timeout"}) {
		t.Errorf("error %q does not say it timed out", msg)
	}
	if took > 100*time.Second {
		t.Errorf("run took %v, want under 100 s", took)
	}
	if w := front.writes(); len(w) != 0 {
		t.Errorf("write requests = %d, want 0: %v", len(w), w)
	}
	expectAt(t, reg, "app:1.0", old)
}

// TestIndexPutFailsAfterChildren: when the index PUT fails for good after
// its new child manifests were pushed by digest, the error names those
// children, each of which the registry holds, and the tag stays.
func TestIndexPutFailsAfterChildren(t *testing.T) {
	t.Parallel()
	reg, old := newIndexRegistry(t, buildxIndex(t))
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method == http.MethodPut && r.URL.Path == manifestPath("app", "1.0") {
			return http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}}, `{"errors":[{"code":"MANIFEST_INVALID","message":"index refused"}]}`, true
		}
		return 0, nil, "", false
	})
	ref := reg.ref("app:1.0")

	res := runAction(t, map[string]string{"image": ref})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 1)
	msg := expectErrorMentions(t, res, ref, "400", "child manifests pushed by digest")
	var pushed []string
	for _, r := range reg.proxy.requests() {
		if r.Method == http.MethodPut && strings.HasPrefix(r.Path, "/v2/app/manifests/sha256:") && r.Status == http.StatusCreated {
			pushed = append(pushed, strings.TrimPrefix(r.Path, "/v2/app/manifests/"))
		}
	}
	if len(pushed) == 0 {
		t.Fatalf("no child manifest was pushed: the case did not happen")
	}
	for _, d := range pushed {
		if !strings.Contains(msg, d) {
			t.Errorf("error %q does not name the child %s pushed by digest", msg, d)
		}
		if !reg.exists(t, "app@"+d) {
			t.Errorf("child %s named in the error is not in the registry", d)
		}
	}
	expectAt(t, reg, "app:1.0", old)
	if res.Outputs["digest"] != "" {
		t.Errorf("digest output = %q after a failed index push, want empty", res.Outputs["digest"])
	}
}
