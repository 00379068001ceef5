package engine

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// pushIndex pushes to path:1 an index of two images whose configs lack
// the architecture and whose entries say linux/amd64 and linux/arm64, with
// a buildx attestation of the first.
func pushIndex(t *testing.T, reg *testRegistry, path string) {
	t.Helper()
	amd, amdM := reg.image(path, "", `"architecture":"","os":"linux",`)
	arm, armM := reg.image(path, "", `"os":"linux",`)
	att := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}`, types.OCIManifestSchema1,
		reg.blob(path, "application/vnd.oci.image.config.v1+json", []byte(`{"architecture":"unknown","os":"unknown"}`)),
		reg.blob(path, "application/vnd.in-toto+json", []byte(`{"predicateType":"https://slsa.dev/provenance/v0.2"}`))))
	attD := reg.manifest(path, "", types.OCIManifestSchema1, att)
	entry := func(d fmt.Stringer, size int, rest string) string {
		return fmt.Sprintf(`{"mediaType":"%s","digest":"%s","size":%d,%s}`, types.OCIManifestSchema1, d, size, rest)
	}
	idx := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","manifests":[%s,%s,%s]}`, types.OCIImageIndex,
		entry(amd, len(amdM), `"platform":{"architecture":"amd64","os":"linux"}`),
		entry(arm, len(armM), `"platform":{"architecture":"arm64","os":"linux"}`),
		entry(attD, len(att), `"platform":{"architecture":"unknown","os":"unknown"},"annotations":{"vnd.docker.reference.digest":"`+amd.String()+`","vnd.docker.reference.type":"attestation-manifest"}`))
	reg.manifest(path, "1", types.OCIImageIndex, []byte(idx))
}

func TestRunIndex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, tag string
	}{
		{"in place", ""},
		{"to another repository", "copy:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newTestRegistry(t, nil)
			pushIndex(t, reg, "app")
			if tc.tag != "" {
				tc.tag = reg.ref(tc.tag)
			}
			results, rec := run(t, Input{Images: []string{reg.ref("app:1")}, Tag: tc.tag})
			r := results[0]
			if r.Err != nil || !r.Changed || Platforms(r.After) != "linux/amd64,linux/arm64" {
				t.Fatalf("Run(index) = changed %t after %s err %v, want changed, linux/amd64,linux/arm64\n%s", r.Changed, Platforms(r.After), r.Err, rec)
			}
			if !rec.logged("warning: ", "attestation ", "does not carry over") {
				t.Errorf("Run(index) logged no warning about the stale attestation:\n%s", rec)
			}
			target := reg.ref("app:1")
			if tc.tag != "" {
				target = tc.tag
			}
			again, rec := run(t, Input{Images: []string{target}, Mode: Check})
			if again[0].Err != nil || len(again[0].Findings) != 0 {
				t.Errorf("Run(check %s) = findings %q err %v, want it to pass\n%s", target, again[0].Findings, again[0].Err, rec)
			}
		})
	}
}

func TestRunCheckFindings(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	reg.image("img", "1", `"architecture":"","os":"linux",`)
	pushIndex(t, reg, "idx")
	for _, tc := range []struct {
		name, image, platform string
		want                  string
	}{
		{"image lacks architecture", "img:1", "", "lacks an os or architecture"},
		{"image lacks architecture, platform given", "img:1", "linux/amd64", "fix platform linux/amd64"},
		{"index configs lack platforms", "idx:1", "", "its index entry linux/amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			results, rec := run(t, Input{Images: []string{reg.ref(tc.image)}, Platform: tc.platform, Mode: Check})
			r := results[0]
			if r.Err == nil || !strings.Contains(r.Err.Error(), "check failed") || !strings.Contains(strings.Join(r.Findings, "\n"), tc.want) {
				t.Errorf("Run(check %s) = findings %q err %v, want a failed check mentioning %q", tc.image, r.Findings, r.Err, tc.want)
			}
			if !rec.logged("error: ", tc.want) {
				t.Errorf("Run(check %s) logged no error with %q:\n%s", tc.image, tc.want, rec)
			}
		})
	}
}

// refuseWrites answers 403 to every write.
func refuseWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestRunHints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		wrap     func(http.Handler) http.Handler
		image    string
		platform string
		want     Hint
	}{
		{"not found", nil, "missing:1", "linux/amd64", HintNotFound},
		{"platform present and different", nil, "arm:1", "linux/amd64", HintOverwrite},
		{"push refused", refuseWrites, "img:1", "linux/amd64", HintPush},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var reg *testRegistry
			if tc.wrap == nil {
				reg = newTestRegistry(t, nil)
				reg.image("arm", "1", `"architecture":"arm64","os":"linux",`)
				reg.image("img", "1", `"architecture":"","os":"linux",`)
			} else {
				reg = pushThrough(t, tc.wrap)
			}
			results, rec := run(t, Input{Images: []string{reg.ref(tc.image)}, Platform: tc.platform})
			var he *HintedError
			if !errors.As(results[0].Err, &he) || he.Hint != tc.want {
				t.Fatalf("Run(%s) = %v, want a *HintedError with hint %d", tc.name, results[0].Err, tc.want)
			}
			if want := fmt.Sprintf("; hint %d %s", tc.want, he.Repository); !strings.HasSuffix(he.Error(), want) || !rec.logged("error: ", want) {
				t.Errorf("Run(%s) error %q, want it (and its log line) to end with the front door's words %q", tc.name, he.Error(), want)
			}
		})
	}
}

// pushThrough starts a registry whose writes wrap may refuse once seeded,
// holding img:1 whose config lacks the architecture.
func pushThrough(t *testing.T, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	var seeding atomic.Bool
	seeding.Store(true)
	reg := newTestRegistry(t, func(next http.Handler) http.Handler {
		wrapped := wrap(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if seeding.Load() {
				next.ServeHTTP(w, r)
				return
			}
			wrapped.ServeHTTP(w, r)
		})
	})
	reg.image("img", "1", `"architecture":"","os":"linux",`)
	seeding.Store(false)
	return reg
}

func TestRunReadBackMoved(t *testing.T) {
	t.Parallel()
	moved := "sha256:" + strings.Repeat("3", 64)
	// Another writer moves the tag just after the run's PUT: the check
	// before it still sees the digest the plan was made from.
	var put atomic.Bool
	reg := newTestRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
				put.Store(true)
			}
			if put.Load() && r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
				w.Header().Set("Docker-Content-Digest", moved)
				w.WriteHeader(http.StatusOK)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	reg.image("img", "1", `"architecture":"","os":"linux",`)
	put.Store(false) // the seeding's PUT
	results, _ := run(t, Input{Images: []string{reg.ref("img:1")}, Platform: "linux/amd64"})
	var we *WrittenError
	if !errors.As(results[0].Err, &we) || we.Held.String() != moved || !results[0].Written() {
		t.Fatalf("Run() = %v, want a *WrittenError holding %s", results[0].Err, moved)
	}
}

func TestRunReferrersWarning(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	d, _ := reg.image("img", "1", `"architecture":"","os":"linux",`)
	sig := fmt.Sprintf("%s-%s.sig", d.Algorithm, d.Hex)
	reg.image("img", sig, `"architecture":"","os":"linux",`)
	results, rec := run(t, Input{Images: []string{reg.ref("img:1")}, Platform: "linux/amd64"})
	if results[0].Err != nil {
		t.Fatal(results[0].Err)
	}
	if !rec.logged("warning: ", "1 referrer of the previous digest "+d.String(), "does not carry over", "(1 signature, ", "cosign sign --key <key> ") ||
		!rec.logged("info: ", "signature ", "(cosign tag "+sig+")") {
		t.Errorf("Run() logged no warning naming the cosign tag %s:\n%s", sig, rec)
	}
	if rs := results[0].Referrers; len(rs) != 1 || rs[0].Tag != sig || rs[0].Subject != d {
		t.Errorf("Run() referrers = %v, want the signature at %s", rs, sig)
	}
}

func TestRunAuto(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	layer := helloLayer(t, "linux-arm64")
	reg.image("img", "1", `"architecture":"","os":"linux",`, reg.blob("img", types.OCILayer, layer))
	results, rec := run(t, Input{Images: []string{reg.ref("img:1")}, Platform: "auto", DryRun: true})
	r := results[0]
	if r.Err != nil || Platforms(r.After) != "linux/arm64" {
		t.Fatalf("Run(auto) = after %s err %v, want linux/arm64\n%s", Platforms(r.After), r.Err, rec)
	}
	if !rec.logged("info: ", reg.ref("img:1"), "read ") {
		t.Errorf("Run(auto) logged no evidence:\n%s", rec)
	}
	check, rec := run(t, Input{Images: []string{reg.ref("img:1")}, Platform: "auto", Mode: Check})
	if !strings.Contains(strings.Join(check[0].Findings, "\n"), "fix platform linux/arm64") {
		t.Errorf("Run(check auto) = findings %q, want the fix with linux/arm64\n%s", check[0].Findings, rec)
	}
}

func TestRunAcrossRegistries(t *testing.T) {
	t.Parallel()
	src, dst := newTestRegistry(t, nil), newTestRegistry(t, nil)
	foreign := fmt.Sprintf(`{"mediaType":"%s","size":10,"digest":"sha256:%s","urls":["https://example.com/layer"]}`, types.DockerForeignLayer, strings.Repeat("4", 64))
	src.image("img", "1", `"architecture":"","os":"windows",`, src.blob("img", types.OCILayer, gzipTar(t, "a", []byte("a"))), foreign)
	results, rec := run(t, Input{Images: []string{src.ref("img:1")}, Platform: "windows/amd64", Tag: dst.ref("img:2")})
	if results[0].Err != nil {
		t.Fatalf("Run() = %v\n%s", results[0].Err, rec)
	}
	for _, want := range []string{"1 non-distributable (foreign) layer is not copied", "is another registry than " + src.host + ": streaming 1 blob ("} {
		if !rec.logged("notice: ", want) {
			t.Errorf("Run() logged no notice %q:\n%s", want, rec)
		}
	}
	check, _ := run(t, Input{Images: []string{dst.ref("img:2")}, Platform: "windows/amd64", Mode: Check})
	if check[0].Err != nil || Platforms(check[0].Before) != (platform.Platform{OS: "windows", Architecture: "amd64"}).String() {
		t.Errorf("Run(check the copy) = before %s err %v, want windows/amd64", Platforms(check[0].Before), check[0].Err)
	}
}

func TestFailedAndFromEnv(t *testing.T) {
	t.Parallel()
	if err := Failed([]Result{{}, {Err: errors.New("x")}}); !errors.Is(err, ErrFailed) {
		t.Errorf("Failed(one failed) = %v, want ErrFailed", err)
	}
	if err := Failed([]Result{{}}); err != nil {
		t.Errorf("Failed(none failed) = %v, want nil", err)
	}
	env := map[string]string{"GITHUB_ACTOR": "octocat", StallTimeoutEnv: "soon"}
	var in Input
	err := FromEnv(func(k string) string { return env[k] }, &in)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Input != StallTimeoutEnv || in.GitHubActor != "octocat" {
		t.Errorf("FromEnv(stall %q) = %v, actor %q; want an *InputError for %s and the actor read", env[StallTimeoutEnv], err, in.GitHubActor, StallTimeoutEnv)
	}
	env[StallTimeoutEnv] = "30s"
	if err := FromEnv(func(k string) string { return env[k] }, &in); err != nil || in.StallTimeout.String() != "30s" {
		t.Errorf("FromEnv(stall 30s) = %v, %s; want 30s", err, in.StallTimeout)
	}
	env[RegistryBudgetEnv] = "-1m"
	if err := FromEnv(func(k string) string { return env[k] }, &in); !errors.As(err, &ie) || ie.Input != RegistryBudgetEnv {
		t.Errorf("FromEnv(budget -1m) = %v, want an *InputError for %s", err, RegistryBudgetEnv)
	}
	env[RegistryBudgetEnv] = "20m"
	if err := FromEnv(func(k string) string { return env[k] }, &in); err != nil || in.RegistryBudget.String() != "20m0s" {
		t.Errorf("FromEnv(budget 20m) = %v, %s; want 20m0s", err, in.RegistryBudget)
	}
}
