package e2e

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// request is one HTTP exchange seen by a recordingProxy.
type request struct {
	Method    string
	Path      string
	Query     string // decoded
	Status    int
	ReqBytes  int64
	RespBytes int64
	// Start is when the request reached the proxy (before its latency),
	// End when the answer was written: the depth of a run is the longest
	// chain of requests each started after the one before it ended.
	Start, End time.Time
}

func (r request) String() string {
	q := ""
	if r.Query != "" {
		q = "?" + r.Query
	}
	return fmt.Sprintf("%-6s %s%s -> %d (sent %d B, received %d B)", r.Method, r.Path, q, r.Status, r.ReqBytes, r.RespBytes)
}

// isWrite reports whether r may change registry state.
func (r request) isWrite() bool { return isWriteMethod(r.Method) }

// isWriteMethod reports whether a request with method may change
// registry state.
func isWriteMethod(method string) bool { return method != http.MethodGet && method != http.MethodHead }

// names reports whether the path or query of r names any of digests.
func (r request) names(digests ...string) bool {
	for _, d := range digests {
		if strings.Contains(r.Path, d) || strings.Contains(r.Query, d) {
			return true
		}
	}
	return false
}

// recordingProxy forwards to one registry and records every request.
type recordingProxy struct {
	host string // 127.0.0.1:port

	mu      sync.Mutex
	reqs    []request
	fault   faultFunc
	latency time.Duration
}

// setLatency makes the proxy wait d before answering each request, as a
// registry across a network does.
func (p *recordingProxy) setLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// faultFunc decides whether the proxy answers r itself instead of the
// registry: it returns the status, headers and body to answer with, and
// false to pass r on.
type faultFunc func(r *http.Request) (status int, header http.Header, body string, inject bool)

// inject makes the proxy consult f for every following request.
func (p *recordingProxy) inject(f faultFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

func newRecordingProxy(tb testing.TB, target string) *recordingProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatalf("parsing %q: %v", target, err)
	}
	p := &recordingProxy{}
	rp := newReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body := &countingReader{r: r.Body}
		if r.Body != nil {
			r.Body = body
		}
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		p.mu.Lock()
		fault, latency := p.fault, p.latency
		p.mu.Unlock()
		if latency > 0 {
			time.Sleep(latency)
		}
		if status, header, respBody, ok := faultOf(fault, r); ok {
			_, _ = io.Copy(io.Discard, r.Body)
			for k, v := range header {
				cw.Header()[k] = v
			}
			cw.WriteHeader(status)
			_, _ = io.WriteString(cw, respBody)
		} else {
			rp.ServeHTTP(cw, r)
		}
		q, err := url.QueryUnescape(r.URL.RawQuery)
		if err != nil {
			q = r.URL.RawQuery
		}
		p.mu.Lock()
		p.reqs = append(p.reqs, request{
			Method: r.Method, Path: r.URL.Path, Query: q, Status: cw.status,
			ReqBytes: body.n, RespBytes: cw.n, Start: start, End: time.Now(),
		})
		p.mu.Unlock()
	}))
	tb.Cleanup(srv.Close)
	p.host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// newReverseProxy forwards every request to target.
func newReverseProxy(target *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// Keep the proxy's host so that the registry's upload
			// locations lead back through the proxy.
			pr.Out.Host = pr.In.Host
		},
		// A test that ends while the binary still talks is not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}

func faultOf(f faultFunc, r *http.Request) (int, http.Header, string, bool) {
	if f == nil {
		return 0, nil, "", false
	}
	return f(r)
}

// requests returns what was recorded so far.
func (p *recordingProxy) requests() []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]request(nil), p.reqs...)
}

// reset forgets what was recorded.
func (p *recordingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = nil
}

func (p *recordingProxy) writes() []request {
	var w []request
	for _, r := range p.requests() {
		if r.isWrite() {
			w = append(w, r)
		}
	}
	return w
}

// naming returns the requests whose path or query names any of digests.
func (p *recordingProxy) naming(digests ...string) []request {
	var got []request
	for _, r := range p.requests() {
		if r.names(digests...) {
			got = append(got, r)
		}
	}
	return got
}

// log prints the recorded requests.
func (p *recordingProxy) log(tb testing.TB, title string) {
	tb.Helper()
	tb.Logf("%s:\n%s", title, formatRequests(p.requests()))
}

func formatRequests(reqs []request) string {
	if len(reqs) == 0 {
		return "  (no requests)"
	}
	var b strings.Builder
	for i, r := range reqs {
		fmt.Fprintf(&b, "  %2d. %s\n", i+1, r)
	}
	return strings.TrimRight(b.String(), "\n")
}

// expectNoWrites fails t when the proxy saw anything but GET or HEAD.
func expectNoWrites(tb testing.TB, p *recordingProxy) {
	tb.Helper()
	if w := p.writes(); len(w) != 0 {
		tb.Errorf("write requests = %d, want 0:\n%s", len(w), formatRequests(w))
	}
}

// expectWrites fails t unless the proxy's writes were want, each
// "METHOD /path", in order.
func expectWrites(tb testing.TB, p *recordingProxy, want []string) {
	tb.Helper()
	var got []string
	for _, r := range p.writes() {
		got = append(got, r.Method+" "+r.Path)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		tb.Errorf("writes to the registry (-want +got):\n%s", diff)
	}
}

// expectNoRequests fails t when the proxy saw any request.
func expectNoRequests(tb testing.TB, p *recordingProxy) {
	tb.Helper()
	if r := p.requests(); len(r) != 0 {
		tb.Errorf("requests = %d, want 0:\n%s", len(r), formatRequests(r))
	}
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

type countingWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	n           int64
}

func (c *countingWriter) WriteHeader(code int) {
	if !c.wroteHeader {
		c.status = code
		c.wroteHeader = true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.wroteHeader = true
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func isWrite(r *http.Request) bool { return isWriteMethod(r.Method) }

func isManifestPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/")
}

func isManifestGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
}

// egressTrap is an HTTP(S) proxy that forwards nothing. It records each
// request; it refuses CONNECT, challenges plain requests without
// credentials for Basic auth (so that a client willing to send them over
// plain HTTP does) and answers 404 to the rest.
type egressTrap struct {
	url string

	mu   sync.Mutex
	seen []trapRequest
}

type trapRequest struct {
	Method, Host string
	Auth         string
}

func newEgressTrap(t *testing.T) *egressTrap {
	t.Helper()
	e := &egressTrap{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, trapRequest{Method: r.Method, Host: r.Host, Auth: r.Header.Get("Authorization")})
		e.mu.Unlock()
		switch {
		case r.Method == http.MethodConnect:
			w.WriteHeader(http.StatusForbidden)
		case r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Basic realm="trap"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"nothing here"}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// env is a clean environment for the binary that sends every request,
// whatever its scheme, to the trap.
func (e *egressTrap) env(t *testing.T) []string {
	return append(shellEnv(t.TempDir()),
		"HTTP_PROXY="+e.url, "HTTPS_PROXY="+e.url,
		"http_proxy="+e.url, "https_proxy="+e.url,
		"NO_PROXY=", "no_proxy=",
		stallEnv,
	)
}

func (e *egressTrap) requests() []trapRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]trapRequest(nil), e.seen...)
}
