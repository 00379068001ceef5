package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultHost is where the engine listens when DOCKER_HOST is unset: the
// socket the runner mounts into a Docker container action.
const DefaultHost = "unix:///var/run/docker.sock"

// MinAPIVersion is the oldest Engine API spoken (Docker 20.10): it has
// every field and call used here, and the classic load that takes a config
// whose layers the engine already holds.
const MinAPIVersion = "1.41"

// maxAPIVersion caps the version asked for: newer engines answer every
// version from their minimum up (Docker 29 from 1.44), and a version the
// fields here were read against keeps a future change of shape away.
const maxAPIVersion = "1.52"

// maxErrorBody bounds what is read of an engine's error answer.
const maxErrorBody = 64 << 10

// Client talks to one engine. Its zero value is not usable: see New.
type Client struct {
	host string
	base url.URL
	http *http.Client

	mu      sync.Mutex
	version string // negotiated, e.g. "1.41"; "" until then

	// storeMu guards store, asked once (GET /info) when a run first
	// needs it: a run of several images asks once.
	storeMu sync.Mutex
	store   *Store
}

// New returns a Client for host, a DOCKER_HOST value ("" means
// DefaultHost): unix://PATH or tcp://HOST:PORT. It sends no request.
func New(host string) (*Client, error) {
	if host == "" {
		host = DefaultHost
	}
	scheme, addr, ok := strings.Cut(host, "://")
	if !ok || addr == "" {
		return nil, fmt.Errorf("parsing DOCKER_HOST %q: want unix:///path/to/docker.sock or tcp://host:port", host)
	}
	tr := &http.Transport{
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 0, // a save of a large image starts slowly
		DisableCompression:    true,
	}
	c := &Client{host: host, http: &http.Client{Transport: tr}}
	switch scheme {
	case "unix":
		d := net.Dialer{Timeout: 10 * time.Second}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", addr)
		}
		// The host name is never resolved; the engine ignores it.
		c.base = url.URL{Scheme: "http", Host: "docker"}
	case "tcp", "http":
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("parsing DOCKER_HOST %q: %w", host, err)
		}
		tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
		c.base = url.URL{Scheme: "http", Host: addr}
	default:
		return nil, fmt.Errorf("parsing DOCKER_HOST %q: the %s:// scheme is not supported, use unix:// or tcp://", host, scheme)
	}
	return c, nil
}

// FromEnv is New(getenv("DOCKER_HOST")). TLS to a tcp:// engine
// (DOCKER_TLS_VERIFY) is refused rather than silently spoken in clear.
func FromEnv(getenv func(string) string) (*Client, error) {
	if v := getenv("DOCKER_TLS_VERIFY"); v != "" && v != "0" {
		return nil, fmt.Errorf("reading DOCKER_TLS_VERIFY %q: TLS to the Docker engine is not supported, use its unix socket", v)
	}
	return New(getenv("DOCKER_HOST"))
}

// Host is DOCKER_HOST as used.
func (c *Client) Host() string { return c.host }

// Version negotiates the API version with GET /_ping (which every engine
// answers unversioned) and returns it; a success is kept, a failure is
// tried again on the next call, since a cancelled context is not the
// engine's answer.
func (c *Client) Version(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version == "" {
		v, err := c.negotiate(ctx)
		if err != nil {
			return "", err
		}
		c.version = v
	}
	return c.version, nil
}

func (c *Client) negotiate(ctx context.Context) (string, error) {
	resp, err := c.send(ctx, http.MethodGet, "/_ping", nil, nil)
	if err != nil {
		return "", err
	}
	defer drain(resp.Body)
	if err := c.statusError(resp, "asking the Docker engine its API version", ""); err != nil {
		return "", err
	}
	v := resp.Header.Get("Api-Version")
	if v == "" {
		return "", fmt.Errorf("asking the Docker engine at %q its API version: no Api-Version header in its answer to /_ping", c.host)
	}
	switch {
	case !versionAtLeast(v, MinAPIVersion):
		return "", &TooOldError{Host: c.host, Version: v}
	case versionAtLeast(v, maxAPIVersion):
		return maxAPIVersion, nil
	}
	return v, nil
}

// versionAtLeast compares API versions MAJOR.MINOR numerically (1.9 is
// older than 1.41); an unreadable version is older than any.
func versionAtLeast(v, min string) bool {
	vm, vn, ok1 := splitVersion(v)
	mm, mn, ok2 := splitVersion(min)
	if !ok1 || !ok2 {
		return false
	}
	return vm > mm || vm == mm && vn >= mn
}

func splitVersion(v string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}

// do sends a request on the negotiated version's path, e.g.
// /v1.41/images/app:1/json.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body io.Reader, header http.Header) (*http.Response, error) {
	v, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	u := c.base
	u.Path = "/v" + v + path
	u.RawQuery = query.Encode()
	return c.sendURL(ctx, method, u, body, header)
}

// send sends an unversioned request.
func (c *Client) send(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	u := c.base
	u.Path = path
	return c.sendURL(ctx, method, u, body, header)
}

func (c *Client) sendURL(ctx context.Context, method string, u url.URL, body io.Reader, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("asking the Docker engine at %q: %w", c.host, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if typed := dialError(c.host, err); typed != nil {
			return nil, typed
		}
		return nil, fmt.Errorf("asking the Docker engine at %q: %w", c.host, err)
	}
	return resp, nil
}

// statusError reads a failed answer into a typed error: 401/403 is a
// permission refusal, 404 about name is *NotFoundError.
func (c *Client) statusError(resp *http.Response, op, name string) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg := engineMessage(resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return &PermissionError{Host: c.host, Err: fmt.Errorf("%s: %d %s", op, resp.StatusCode, msg)}
	case resp.StatusCode == http.StatusNotFound && name != "":
		return &NotFoundError{Name: name, Message: msg}
	}
	return &APIError{Op: op, Status: resp.StatusCode, Message: msg}
}

// engineMessage is the engine's {"message": "..."} or the start of its body.
func engineMessage(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxErrorBody))
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(b))
}

// drain reads what is left of a small body so that its connection is
// reused, then closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, maxErrorBody))
	rc.Close()
}
