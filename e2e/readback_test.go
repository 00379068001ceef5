package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of layers that may not be sent to another repository.
const (
	dockerForeignLayer = string(types.DockerForeignLayer)
	ociRestrictedLayer = string(types.OCIRestrictedLayer)
)

// TestReadBackWithoutDigestHeader: a registry that answers manifest
// requests without Docker-Content-Digest (the distribution spec says SHOULD)
// is read back by hashing the body of a GET; the run succeeds and reports
// the digest the tag holds.
func TestReadBackWithoutDigestHeader(t *testing.T) {
	t.Parallel()
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	var stripped atomic.Int64
	strip := newReverseProxy(&url.URL{Scheme: "http", Host: reg.proxy.host})
	strip.ModifyResponse = func(resp *http.Response) error {
		if resp.Header.Get("Docker-Content-Digest") != "" {
			stripped.Add(1)
			resp.Header.Del("Docker-Content-Digest")
		}
		return nil
	}
	front := newChaosFront(t, reg, takeOver(func(r *http.Request) bool {
		return strings.Contains(r.URL.Path, "/manifests/")
	}, strip.ServeHTTP))
	ref := front.ref("app:1.0")

	res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
	front.log(t, "requests of the run")
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	if stripped.Load() == 0 {
		t.Fatalf("no Docker-Content-Digest header was stripped: the case did not happen")
	}
	if front.count(http.MethodGet, manifestPath("app", "1.0")) < 2 {
		t.Errorf("GET %s = %d requests, want the read-back to GET and hash it after the first read", manifestPath("app", "1.0"), front.count(http.MethodGet, manifestPath("app", "1.0")))
	}
	newDigest := reg.digestOf(t, "app:1.0")
	expectOutputs(t, res, imageOutputs(front.ref("app"), old, newDigest, true, "linux/amd64"))
}

// TestReadBackFails: after the manifest PUT moved the tag, a read-back that
// fails (the registry answers 500 to every later manifest read; the run is
// cancelled with SIGTERM while the read-back hangs) fails the step with an
// error saying what the tag now holds, and the outputs carry the digests of
// what was written.
func TestReadBackFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// run runs the binary on ref with the read-back after put made to
		// fail; put reports whether the manifest PUT was seen.
		run func(t *testing.T, reg *testRegistry) (res Result, ref string)
		// wantInError is a substring of the error's reason.
		wantInError string
	}{{
		name: "500 on every read after the PUT",
		run: func(t *testing.T, reg *testRegistry) (Result, string) {
			var put atomic.Bool
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				if r.URL.Path != manifestPath("app", "1.0") {
					return 0, nil, "", false
				}
				if r.Method == http.MethodPut {
					put.Store(true)
				}
				if put.Load() && r.Method != http.MethodPut {
					return http.StatusInternalServerError, http.Header{"Content-Type": {"application/json"}}, `{"errors":[{"code":"UNKNOWN","message":"storage backend down"}]}`, true
				}
				return 0, nil, "", false
			})
			ref := reg.ref("app:1.0")
			return runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"}), ref
		},
		wantInError: "500",
	}, {
		name: "SIGTERM during the read-back",
		run: func(t *testing.T, reg *testRegistry) (Result, string) {
			var put atomic.Bool
			var proc atomic.Pointer[os.Process]
			front := newChaosFront(t, reg, func(r *http.Request) chaosAct {
				if r.URL.Path != manifestPath("app", "1.0") {
					return nil
				}
				if r.Method == http.MethodPut {
					put.Store(true)
					return nil
				}
				if !put.Load() {
					return nil
				}
				return func(w http.ResponseWriter, r *http.Request) {
					if p := proc.Load(); p != nil {
						p.Signal(syscall.SIGTERM)
					}
					stall(time.Minute, nil, 0)(w, r)
				}
			})
			ref := front.ref("app:1.0")
			cmd, wait := startAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
			proc.Store(cmd.Process)
			res := wait()
			front.log(t, "requests of the run")
			if !put.Load() {
				t.Fatalf("the manifest was never put: the case did not happen")
			}
			return res, ref
		},
		wantInError: "terminated",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := packImage(t, 1)
			reg, old := newAppRegistry(t, registryOptions{}, im)

			res, ref := tc.run(t, reg)
			reg.proxy.log(t, "requests that reached the registry")
			expectExit(t, res, 1)
			newDigest := reg.digestOf(t, "app:1.0")
			if newDigest == old {
				t.Fatalf("app:1.0 still at %s: the tag was not moved, the case did not happen", old)
			}
			expectErrorMentions(t, res, ref+" now points at "+newDigest+"; reading it back failed", tc.wantInError)
			repo := strings.TrimSuffix(ref, ":1.0")
			expectOutputs(t, res, imageOutputs(repo, old, newDigest, true, "linux/amd64"))
			rs := res.results(t)
			if len(rs) != 1 || rs[0]["digest"] != newDigest || !strings.Contains(fmt.Sprint(rs[0]["error"]), "now points at "+newDigest) {
				t.Errorf("results = %v, want digest %s and the error", rs, newDigest)
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), packExact(im))
		})
	}
}

// startAction starts the binary as runAction runs it and returns the
// running command and a function that waits for its end and collects what
// it left behind.
func startAction(t *testing.T, inputs map[string]string, extraEnv ...string) (*exec.Cmd, func() Result) {
	t.Helper()
	env, files := actionEnv(t, t.TempDir(), inputs)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	cmd := exec.CommandContext(ctx, binaryPath)
	cmd.Env = append(append(env, shellEnv(t.TempDir())...), extraEnv...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting the binary: %v", err)
	}
	return cmd, func() Result {
		t.Helper()
		defer cancel()
		err := cmd.Wait()
		res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
		if ctx.Err() != nil {
			t.Fatalf("the binary did not finish within %v\n%s", runTimeout, res)
		}
		var exitErr *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exitErr):
			res.ExitCode = exitErr.ExitCode()
		default:
			t.Fatalf("running the binary: %v", err)
		}
		files.read(t, &res)
		t.Logf("action run: %s", res)
		return res
	}
}

// windowsImage is a Docker v2 (or OCI) image like Windows base images: its
// first layer is non-distributable, with urls to fetch it from elsewhere,
// and its config has no architecture.
func windowsImage(tb testing.TB, manifestType, restrictedType string) image {
	tb.Helper()
	configType, layerType := dockerConfig, dockerLayer
	if manifestType == ociManifest {
		configType, layerType = ociConfig, ociLayer
	}
	ls := append(randomLayers(tb, 1, restrictedType), randomLayers(tb, 2, layerType)...)
	cfg := `{"architecture":"","os":"windows","rootfs":{"type":"layers","diff_ids":[` + diffIDsJSON(ls) + `]}}`
	return image{
		manifestType: manifestType,
		config:       newBlob(configType, []byte(cfg)),
		layers:       ls,
		render: func(d string, size int, ls []layer) []byte {
			var descs []string
			for _, l := range ls {
				desc := fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q`, l.mediaType, len(l.data), l.digest)
				if !types.MediaType(l.mediaType).IsDistributable() {
					desc += `,"urls":["https://mcr.microsoft.com/v2/windows/servercore/blobs/` + l.digest + `"]`
				}
				descs = append(descs, desc+"}")
			}
			return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"size":%d,"digest":%q},"layers":[%s]}`,
				manifestType, configType, size, d, strings.Join(descs, ",")))
		},
	}
}

// pushWithoutRestricted pushes im to ref as a registry holds a Windows
// image: every blob but the non-distributable ones, which live elsewhere.
func (r *testRegistry) pushWithoutRestricted(tb testing.TB, ref string, im image) string {
	tb.Helper()
	parsed := r.parse(tb, ref)
	blobs := []blob{im.config}
	for _, l := range im.layers {
		if types.MediaType(l.mediaType).IsDistributable() {
			blobs = append(blobs, l.blob)
		}
	}
	for _, b := range blobs {
		if err := remote.WriteLayer(parsed.Context(), static.NewLayer(b.data, types.MediaType(b.mediaType)), remote.WithAuth(r.auth)); err != nil {
			tb.Fatalf("pushing blob %s to %s: %v", b.digest, ref, err)
		}
	}
	return r.putManifest(tb, ref, im.manifest(), im.manifestType)
}

// TestForeignLayers: a Windows image with a non-distributable layer is
// written to another repository (mount) and another registry (stream)
// without a request for that layer, and a notice says so.
func TestForeignLayers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		manifestType, restrict string
		otherRegistry          bool
	}{
		{"docker foreign layer, other repository", dockerManifest, dockerForeignLayer, false},
		{"docker foreign layer, other registry", dockerManifest, dockerForeignLayer, true},
		{"oci non-distributable layer, other repository", ociManifest, ociRestrictedLayer, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := registryOptions{allowURLs: []string{`^https://mcr\.microsoft\.com/`}}
			src := newRegistry(t, opts)
			dst := src
			if tc.otherRegistry {
				dst = newRegistry(t, opts)
			}
			im := windowsImage(t, tc.manifestType, tc.restrict)
			old := src.pushWithoutRestricted(t, "app:1.0", im)
			foreign := im.layers[0].digest

			res := runAction(t, map[string]string{"image": src.ref("app:1.0"), "platform": "windows/amd64", "tag": dst.ref("win/app:1.0")})
			src.proxy.log(t, "requests to the source registry")
			if dst != src {
				dst.proxy.log(t, "requests to the target registry")
			}
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			expectNotNamed(t, src.proxy, []string{foreign})
			expectNotNamed(t, dst.proxy, []string{foreign})
			newDigest := dst.digestOf(t, "win/app:1.0")
			expectOutputs(t, res, imageOutputs(dst.ref("win/app"), old, newDigest, true, "windows/amd64"))
			expectPatched(t, dst, "win/app", "win/app:1.0", im, platformMembers("windows/amd64"), nil)
			for _, l := range im.layers[1:] {
				if got := dst.blob(t, "win/app", l.digest); !bytes.Equal(got, l.data) {
					t.Errorf("layer %s in win/app differs from the source's", l.digest)
				}
			}
			noticed := false
			for _, n := range res.commandLines("notice") {
				if strings.Contains(n, foreign) && strings.Contains(n, "non-distributable") {
					noticed = true
				}
			}
			if !noticed {
				t.Errorf("no ::notice:: names the non-distributable layer %s; notices: %q", foreign, res.commandLines("notice"))
			}
		})
	}
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
