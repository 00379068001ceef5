package engine

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/plan"
)

// TestRunWords: what the core decides reaches the front door as data
// (a refusal's fix, an input's name, a check finding's fix) and is worded
// by the door's Words, and no error names the image twice.
func TestRunWords(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	reg.image("img", "1", `"architecture":"","os":"linux",`)
	pushIndex(t, reg, "idx")

	t.Run("refusal", func(t *testing.T) {
		t.Parallel()
		results, rec := run(t, Input{Images: []string{reg.ref("idx:1")}, Platform: "linux/amd64"})
		var he *HintedError
		if !errors.As(results[0].Err, &he) || he.Hint != HintFix || !he.Fix.Clear {
			t.Fatalf("Run(index of two, a platform) = %v, want a *HintedError with HintFix and a fix that clears the platform", results[0].Err)
		}
		if want := "; fix platform  overwrite false ref  to make each child consistent with its index entry, or name one child by digest"; !strings.HasSuffix(he.Error(), want) {
			t.Errorf("Run(index of two, a platform) = %q, want the door's words %q", he.Error(), want)
		}
		if !rec.logged("error: ", "; fix platform") {
			t.Errorf("Run(index of two, a platform) logged no worded fix:\n%s", rec)
		}
	})
	t.Run("input", func(t *testing.T) {
		t.Parallel()
		results, _ := run(t, Input{Images: []string{reg.ref("img:1")}})
		var ie *InputError
		if !errors.As(results[0].Err, &ie) || !strings.Contains(results[0].Err.Error(), ": flag platform: required") {
			t.Errorf("Run(no platform) = %v, want an *InputError named by the door (flag platform)", results[0].Err)
		}
	})
	t.Run("check", func(t *testing.T) {
		t.Parallel()
		ref := reg.ref("idx:1")
		results, _ := run(t, Input{Images: []string{ref}, Mode: Check})
		r := results[0]
		if r.Err == nil || strings.Count(r.Err.Error(), ref+":") != 1 || !strings.Contains(r.Err.Error(), ref+": check failed: child sha256:") {
			t.Errorf("Run(check index) = %v, want %q named once, before \"check failed\", and children named by digest", r.Err, ref)
		}
		for _, f := range r.Findings {
			if !strings.HasPrefix(f, ref+" child sha256:") || !strings.Contains(f, "; fix platform") {
				t.Errorf("Run(check index) finding %q, want it to name the child and end with the door's fix", f)
			}
		}
	})
}

func TestFixTextWithoutWords(t *testing.T) {
	t.Parallel()
	if got := (Words{}).FixText(plan.Fix{Auto: true, Why: "w", Otherwise: "o"}); got != "" {
		t.Errorf("Words{}.FixText(auto) = %q, want \"\"", got)
	}
}

// TestRunRetryLinesInGroup: a retry is logged inside the image's group,
// naming the image.
func TestRunRetryLinesInGroup(t *testing.T) {
	t.Parallel()
	var failed atomic.Bool
	reg := newTestRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodGet && failed.CompareAndSwap(false, true) {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	reg.image("img", "1", `"architecture":"amd64","os":"linux",`)
	failed.Store(false)
	ref := reg.ref("img:1")
	results, rec := run(t, Input{Images: []string{ref}, Mode: Check})
	if results[0].Err != nil {
		t.Fatalf("Run(check, one 503) = %v", results[0].Err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	group := slices.Index(rec.l, "group: "+ref)
	retry := slices.IndexFunc(rec.l, func(l string) bool { return strings.HasPrefix(l, "info: "+ref+": retrying GET ") })
	end := slices.Index(rec.l, "endgroup: ")
	if group < 0 || retry < group || end < retry {
		t.Errorf("Run(check, one 503) logged the retry at %d, its group from %d to %d, want it inside, naming the image:\n%s", retry, group, end, strings.Join(rec.l, "\n"))
	}
}

// TestRunLoopbackHint: nothing answering at a loopback address gets the
// door's words for it, after what happened over https and http.
func TestRunLoopbackHint(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	results, _ := run(t, Input{Images: []string{addr + "/app:1"}, Mode: Check})
	var he *HintedError
	if !errors.As(results[0].Err, &he) || he.Hint != HintLoopback || !strings.Contains(he.Error(), "over http: ") {
		t.Errorf("Run(nothing at %s) = %v, want a *HintedError with HintLoopback saying what happened over each scheme", addr, results[0].Err)
	}
}

// TestRunHintsTheDoorsWord: a single image with no platform, and an
// attestation the change leaves behind, end in the door's words.
func TestRunHintsTheDoorsWord(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	reg.image("img", "1", `"architecture":"","os":"linux",`)
	pushIndex(t, reg, "idx")
	results, rec := run(t, Input{Images: []string{reg.ref("img:1")}})
	var he *HintedError
	var ie *InputError
	if !errors.As(results[0].Err, &he) || he.Hint != HintPlatform || !errors.As(results[0].Err, &ie) || ie.Input != "platform" ||
		!strings.HasSuffix(results[0].Err.Error(), fmt.Sprintf("flag platform: required for a single image; hint %d %s", HintPlatform, reg.ref("img"))) {
		t.Errorf("Run(no platform) = %v, want the platform input's error with HintPlatform worded\n%s", results[0].Err, rec)
	}
	results, rec = run(t, Input{Images: []string{reg.ref("idx:1")}, DryRun: true})
	if results[0].Err != nil || !rec.logged("warning: ", "attestation ", "dry run: it would not carry over", fmt.Sprintf("; hint %d %s", HintStaleAttestation, reg.ref("idx"))) {
		t.Errorf("Run(index, dry run) = %v, want a warning about the attestation with HintStaleAttestation worded:\n%s", results[0].Err, rec)
	}
}

// TestRunUntagged: a digest source is pushed by digest, and a notice says
// how to keep it, in the door's words.
func TestRunUntagged(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	d, _ := reg.image("img", "1", `"architecture":"","os":"linux",`)
	results, rec := run(t, Input{Images: []string{reg.ref("img@" + d.String())}, Platform: "linux/amd64"})
	r := results[0]
	if r.Err != nil || r.Target != reg.ref("img@"+r.Digest) {
		t.Fatalf("Run(digest) = target %s err %v, want %s\n%s", r.Target, r.Err, reg.ref("img@"+r.Digest), rec)
	}
	if !rec.logged("notice: ", "is pushed by digest with no tag", "to keep it, pass flag tag") {
		t.Errorf("Run(digest) logged no notice about the untagged digest:\n%s", rec)
	}
}
