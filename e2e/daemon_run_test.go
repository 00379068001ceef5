package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// engineProxy is a unix socket in front of the engine's that records each
// request's method and path: what a run asked the engine.
type engineProxy struct {
	host string // DOCKER_HOST of the proxy
	mu   sync.Mutex
	reqs []string
	// posted is the bytes of every request body sent on.
	posted int64
}

// newEngineProxy serves a recording proxy of d's socket until t ends.
func newEngineProxy(t *testing.T, d *dockerEngine) *engineProxy {
	t.Helper()
	p := &engineProxy{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "docker"})
	rp.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", d.socket)
	}}
	p.host = serveUnix(t, func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.reqs = append(p.reqs, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		r.Body = &countedBody{ReadCloser: r.Body, p: p}
		rp.ServeHTTP(w, r)
	})
	return p
}

// serveUnix serves h on a new unix socket until t ends, and returns its
// DOCKER_HOST.
func serveUnix(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	// A socket path is at most 107 bytes: t.TempDir's can be longer.
	dir, err := os.MkdirTemp("", "engine")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

// countedBody adds what is read of a request body to p.posted.
type countedBody struct {
	io.ReadCloser
	p *engineProxy
}

func (b *countedBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	b.p.mu.Lock()
	b.p.posted += int64(n)
	b.p.mu.Unlock()
	return n, err
}

// postedBytes is what the requests' bodies held.
func (p *engineProxy) postedBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.posted
}

// answeringEngine serves a unix socket that answers /_ping with
// apiVersion and every other request with status and an engine's JSON
// message: an old engine, or an authorization plugin's refusal, which
// the test's engine cannot be made to give. It returns its DOCKER_HOST.
func answeringEngine(t *testing.T, apiVersion string, status int, message string) string {
	t.Helper()
	return serveUnix(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", apiVersion)
		if r.URL.Path == "/_ping" {
			fmt.Fprint(w, "OK")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"message": message})
	})
}

// requests are the requests recorded, the API version cut from each path
// (/v1.41/images/x/json is /images/x/json).
func (p *engineProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, r := range p.reqs {
		method, path, _ := strings.Cut(r, " ")
		if rest, ok := strings.CutPrefix(path, "/v"); ok {
			if _, after, found := strings.Cut(rest, "/"); found {
				path = "/" + after
			}
		}
		out = append(out, method+" "+path)
	}
	return out
}

// engineImages is what the engine holds in repo: each image ID and its
// tags, as docker images lists them. Other tests load images into the
// same engine meanwhile: only repo is compared.
func engineImages(t *testing.T, d *dockerEngine, repo string) string {
	t.Helper()
	lines := strings.Split(d.must(t, "images", "--all", "--no-trunc", "--filter", "reference="+repo, "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"), "\n")
	// Images loaded in the same second come in any order.
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// runDaemonDoor runs the built binary on the engine behind host: as the
// runner runs the action (INPUT_*, GITHUB_OUTPUT) when action, else as a
// person runs the command line with args.
// runDaemonLine runs the engine's image line through a door on the
// engine at host, with inputs besides image (in the action) or args
// before the line (on the command line), and expects exit code wantExit
// and, when wantError lists any, one error naming the line and each.
func runDaemonLine(t *testing.T, action bool, host, line string, inputs map[string]string, args []string, wantExit int, wantError []string) Result {
	t.Helper()
	in := map[string]string{"image": line}
	maps.Copy(in, inputs)
	res := runDaemonDoor(t, action, host, in, append(args[:len(args):len(args)], line)...)
	expectExit(t, res, wantExit)
	if len(wantError) > 0 {
		expectDoorErrors(t, res, action, append([]string{line}, wantError...))
	}
	return res
}

func runDaemonDoor(t *testing.T, action bool, host string, inputs map[string]string, args ...string) Result {
	t.Helper()
	if action {
		return runAction(t, inputs, "DOCKER_HOST="+host)
	}
	res := execBinary(t, args, append(shellEnv(t.TempDir()), "DOCKER_HOST="+host), nil)
	t.Logf("cli run %q: %s", args, res)
	return res
}

// expectDoorErrors fails t unless the run's one error (an ::error:: line
// of the action, an error line of the command line) mentions each of
// wants, or, with none, the action said no error.
func expectDoorErrors(t *testing.T, res Result, action bool, wants []string) {
	t.Helper()
	switch {
	case len(wants) > 0 && action:
		expectErrorMentions(t, res, wants...)
	case len(wants) > 0:
		expectOneCLIError(t, res, wants...)
	case action:
		expectNoErrors(t, res)
	}
}

// TestDaemonCheckPlan checks and plans images in the real engine through
// both front doors: one inspect per image (after the one version ping),
// no layer read, nothing loaded or tagged; the outputs name the image ID.
func TestDaemonCheckPlan(t *testing.T) {
	t.Parallel()
	d, _ := daemonClient(t)
	empty := daemonTag(t, d, "example.test/daemon/run")
	d.loadArchive(t, empty, daemonImage(t))
	right := daemonTag(t, d, "example.test/daemon/run")
	rightIm := binImage(`"architecture":"amd64","os":"linux"`, randomLayers(t, 1, dockerLayer)...)
	d.loadArchive(t, right, rightIm)
	rightID := rightIm.config.digest
	repo := strings.Split(right, ":")[0]

	for _, tc := range []struct {
		name     string
		action   bool
		line     string
		mode     string
		platform string
		wantExit int
		// wantError are what the one error names; empty for a success.
		wantError []string
		wantImage string
		// wantChanged is a plan's changed output: set would change it,
		// and the matrix lists it.
		wantChanged bool
	}{
		{name: "action check passes", action: true, line: "docker-daemon:" + right, mode: "check", platform: "linux/amd64", wantImage: "docker-daemon:" + repo + "@" + rightID},
		{name: "action check by ID", action: true, line: "docker-daemon:" + rightID, mode: "check", platform: "linux/amd64", wantImage: "docker-daemon:" + rightID},
		{name: "action check no platform given", action: true, line: "docker-daemon:" + right, mode: "check", wantImage: "docker-daemon:" + repo + "@" + rightID},
		{name: "action check empty architecture", action: true, line: "docker-daemon:" + empty, mode: "check", platform: "linux/amd64", wantExit: 1, wantError: []string{"docker-daemon:" + empty, "lacks an os or architecture", "platform: linux/amd64"}},
		{name: "action check other platform", action: true, line: "docker-daemon:" + right, mode: "check", platform: "linux/arm64", wantExit: 1, wantError: []string{"docker-daemon:" + right, "not linux/arm64"}},
		{name: "action plan", action: true, line: "docker-daemon:" + empty, mode: "plan", platform: "linux/amd64", wantChanged: true},
		{name: "action plan right", action: true, line: "docker-daemon:" + right, mode: "plan", platform: "linux/amd64", wantImage: "docker-daemon:" + repo + "@" + rightID},
		{name: "cli check passes", line: "docker-daemon:" + right, mode: "check", platform: "linux/amd64"},
		{name: "cli check empty architecture", line: "docker-daemon:" + empty, mode: "check", platform: "linux/amd64", wantExit: 1, wantError: []string{"docker-daemon:" + empty, "lacks an os or architecture", "--platform linux/amd64"}},
		{name: "cli plan", line: "docker-daemon:" + right, mode: "plan", platform: "linux/amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newEngineProxy(t, d)
			before := engineImages(t, d, repo)
			if !strings.Contains(before, rightID) {
				t.Fatalf("docker images of %s = %q, want it to list %s", repo, before, rightID)
			}
			args := []string{"--" + tc.mode}
			if tc.platform != "" {
				args = append(args, "--platform", tc.platform)
			}
			res := runDaemonDoor(t, tc.action, p.host, map[string]string{"image": tc.line, "mode": tc.mode, "platform": tc.platform}, append(args, tc.line)...)
			expectExit(t, res, tc.wantExit)
			name := strings.TrimPrefix(tc.line, "docker-daemon:")
			if strings.HasPrefix(name, "example.test/") {
				name = "example.test/" + strings.TrimPrefix(name, "example.test/")
			}
			want := []string{"GET /_ping", "GET /images/" + name + "/json"}
			if diff := cmp.Diff(want, p.requests()); diff != "" {
				t.Errorf("requests to the engine (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, engineImages(t, d, repo)); diff != "" {
				t.Errorf("the engine's images after %s (-before +after):\n%s", tc.mode, diff)
			}
			expectDoorErrors(t, res, tc.action, tc.wantError)
			if !tc.action {
				return
			}
			if tc.wantImage != "" {
				if got := res.Outputs["image"]; got != tc.wantImage {
					t.Errorf("image output = %q, want %q", got, tc.wantImage)
				}
				if got := res.Outputs["digest"]; got != rightID {
					t.Errorf("digest output = %q, want %q", got, rightID)
				}
			}
			if got, want := res.Outputs["changed"], fmt.Sprint(tc.wantChanged); tc.wantExit == 0 && got != want {
				t.Errorf("changed output = %q, want %s", got, want)
			}
			if tc.mode == "plan" {
				var shards []string
				if err := json.Unmarshal([]byte(res.Outputs["matrix"]), &shards); err != nil {
					t.Fatalf("matrix output %q: %v", res.Outputs["matrix"], err)
				}
				want := []string{}
				if tc.wantChanged {
					want = []string{tc.line}
				}
				if diff := cmp.Diff(want, shards); diff != "" {
					t.Errorf("matrix (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestDaemonBadInputs: an image the engine lacks, a socket that does not
// exist, an engine that refuses us or is too old, a set without a
// platform, and what is not wired yet each fail with one error a person can
// act on, in each door's words, and load or tag nothing.
func TestDaemonBadInputs(t *testing.T) {
	t.Parallel()
	d, _ := daemonClient(t)
	absent := "example.test/daemon/absent:none"
	noSocket := "unix://" + filepath.Join(t.TempDir(), "no.sock")
	refusing := answeringEngine(t, "1.41", http.StatusForbidden, "authorization denied by plugin opa: image inspect not allowed")
	tooOld := answeringEngine(t, "1.40", http.StatusOK, "")
	for _, tc := range []struct {
		name   string
		action bool
		inputs map[string]string
		args   []string
		// host replaces DOCKER_HOST: a socket that does not exist, a
		// scheme not spoken.
		host  string
		wants []string
		// asked is what the engine is asked before the error.
		asked []string
	}{
		{name: "action no such image", action: true, inputs: map[string]string{"image": "docker-daemon:" + absent, "mode": "check"}, wants: []string{absent, "no such image", "load: true"}, asked: []string{"GET /_ping", "GET /images/" + absent + "/json"}},
		{name: "cli no such image", args: []string{"--check", "docker-daemon:" + absent}, wants: []string{absent, "no such image", "docker images"}, asked: []string{"GET /_ping", "GET /images/" + absent + "/json"}},
		{name: "action no socket", action: true, host: noSocket, inputs: map[string]string{"image": "docker-daemon:app:1", "mode": "check"}, wants: []string{"docker-daemon:app:1", "no engine answers", "no.sock", "/var/run/docker.sock, into the action's container"}},
		{name: "cli no socket", host: noSocket, args: []string{"--check", "docker-daemon:app:1"}, wants: []string{"docker-daemon:app:1", "no engine answers", "no.sock", "start the Docker engine"}},
		{name: "action refused", action: true, host: refusing, inputs: map[string]string{"image": "docker-daemon:app:1", "mode": "check"}, wants: []string{"docker-daemon:app:1", "permission refused", "authorization denied", "must allow image inspect"}},
		{name: "cli refused", host: refusing, args: []string{"--check", "docker-daemon:app:1"}, wants: []string{"docker-daemon:app:1", "permission refused", "docker group"}},
		{name: "action engine too old", action: true, host: tooOld, inputs: map[string]string{"image": "docker-daemon:app:1", "mode": "check"}, wants: []string{"docker-daemon:app:1", "1.40 is too old", "Docker 20.10"}},
		{name: "cli engine too old", host: tooOld, args: []string{"--check", "docker-daemon:app:1"}, wants: []string{"docker-daemon:app:1", "1.40 is too old"}},
		{name: "action DOCKER_HOST over ssh", action: true, host: "ssh://me@engine", inputs: map[string]string{"image": "docker-daemon:app:1", "mode": "check"}, wants: []string{"DOCKER_HOST", "ssh://me@engine", "unix://"}},
		{name: "action set without platform", action: true, inputs: map[string]string{"image": "docker-daemon:app:1"}, wants: []string{"input platform", "required"}},
		{name: "cli set without platform", args: []string{"docker-daemon:app:1"}, wants: []string{"--platform", "required"}},
		{name: "action bare tag", action: true, inputs: map[string]string{"image": "docker-daemon:app:1", "platform": "linux/amd64", "tag": "fixed"}, wants: []string{"input tag", "fixed", "a bare tag is not supported", "ghcr.io/owner/name:tag"}},
		{name: "cli bare tag", args: []string{"--platform", "linux/amd64", "--tag", "fixed", "docker-daemon:app:1"}, wants: []string{"--tag", "fixed", "a bare tag is not supported"}},
		{name: "action tag pattern", action: true, inputs: map[string]string{"image": "docker-daemon:app:1", "platform": "linux/amd64", "tag": "ghcr.io/o/app:v*"}, wants: []string{"input tag", "ghcr.io/o/app:v*"}},
		{name: "cli image pattern", args: []string{"--platform", "linux/amd64", "docker-daemon:app:v*"}, wants: []string{"docker-daemon:app:v*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newEngineProxy(t, d)
			host := p.host
			if tc.host != "" {
				host = tc.host
			}
			// Neither image exists: a load or tag would show.
			before := engineImages(t, d, "app") + engineImages(t, d, "example.test/daemon/absent")
			res := runDaemonDoor(t, tc.action, host, tc.inputs, tc.args...)
			if res.ExitCode == 0 {
				t.Fatalf("exit code = 0, want non-zero\n%s", res)
			}
			if tc.action {
				expectErrorMentions(t, res, tc.wants...)
			} else {
				expectOneCLIError(t, res, tc.wants...)
			}
			if diff := cmp.Diff(tc.asked, p.requests()); diff != "" {
				t.Errorf("requests to the engine (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, engineImages(t, d, "app")+engineImages(t, d, "example.test/daemon/absent")); diff != "" {
				t.Errorf("the engine's images after the run (-before +after):\n%s", diff)
			}
		})
	}
}
