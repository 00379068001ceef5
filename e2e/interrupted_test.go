package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestInterrupted sends SIGTERM (a cancelled workflow) or SIGINT while
// the first of two images' manifest PUT is in flight; the registry commits
// that PUT but answers only after the run's grace has run out. The run
// starts no other image, reads the tag back and reports what it holds,
// writes outputs and the summary for both images, and exits within 10 s
// of the signal.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			testInterrupted(t, sig)
		})
	}
}

func testInterrupted(t *testing.T, sig syscall.Signal) {
	reg := newRegistry(t, registryOptions{})
	old1 := reg.push(t, "app:1.0", packImage(t, 1))
	old2 := reg.push(t, "app:2.0", packImage(t, 1))
	var proc atomic.Pointer[os.Process]
	var signalled atomic.Int64 // unix nanoseconds
	var commitErr error
	reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
		if r.Method != http.MethodPut || r.URL.Path != "/v2/app/manifests/1.0" {
			return 0, nil, "", false
		}
		body, err := io.ReadAll(r.Body)
		if err == nil {
			req, _ := http.NewRequest(http.MethodPut, "http://"+reg.host+r.URL.Path, bytes.NewReader(body))
			req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
			var resp *http.Response
			if resp, err = http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		commitErr = err
		if p := proc.Load(); p != nil {
			signalled.Store(time.Now().UnixNano())
			p.Signal(sig)
		}
		time.Sleep(8 * time.Second) // past the run's grace
		return http.StatusCreated, nil, "", true
	})
	cmd, wait := startAction(t, map[string]string{"image": reg.ref("app:1.0") + "\n" + reg.ref("app:2.0"), "platform": "linux/amd64", "concurrency": "1"})
	proc.Store(cmd.Process)
	res := wait()
	exited := time.Now()
	if signalled.Load() == 0 || commitErr != nil {
		t.Fatalf("no %v during the manifest PUT (commit: %v): the case did not happen", sig, commitErr)
	}
	if took := exited.Sub(time.Unix(0, signalled.Load())); took > 10*time.Second {
		t.Errorf("the run exited %v after %v, want within 10 s", took, sig)
	}
	expectExit(t, res, 1)
	new1 := reg.digestOf(t, "app:1.0")
	if new1 == old1 {
		t.Fatalf("app:1.0 still at %s: the registry did not commit the PUT", old1)
	}
	expectAt(t, reg, "app:2.0", old2)
	for _, w := range reg.proxy.writes() {
		if strings.HasSuffix(w.Path, "/manifests/2.0") {
			t.Errorf("the run wrote app:2.0 after the signal: %s", w)
		}
	}
	if got, want := res.Outputs["digest"], new1+"\n"; got != want {
		t.Errorf("digest output = %q, want %q (what app:1.0 holds, then the image not started)", got, want)
	}
	errs := strings.Join(res.commandLines("error"), "\n")
	for _, want := range []string{reg.ref("app:1.0") + " now points at " + new1, "the registry committed the push", reg.ref("app:2.0") + ": not started: the run was interrupted"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors do not say %q:\n%s", want, errs)
		}
	}
	for _, ref := range []string{reg.ref("app:1.0"), reg.ref("app:2.0")} {
		if !strings.Contains(res.Summary, ref) {
			t.Errorf("summary has no row for %s:\n%s", ref, res.Summary)
		}
	}
}
