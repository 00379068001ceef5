package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
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
