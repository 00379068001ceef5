package interop

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/layout"
)

// TestActWorkflows runs the workflows users read, the README's examples and
// CI's `action` job, under nektos/act: act loads action.yml with the
// runner's schema, builds the action's image from its Dockerfile and runs
// it, passing inputs and outputs as the runner does. Each run is checked by
// what the workflow's later steps and jobs saw and by what the registry
// holds afterwards.
//
// What act cannot do here is adapted in the workflow's text, and each run
// says how: registries are local (ghcr.io and docker.io become
// 127.0.0.1:PORT), remote actions are stand-ins made of local files, and
// `set-image-platform/set-image-platform@v1` is this repository.
func TestActWorkflows(t *testing.T) {
	start := time.Now()
	h := newActHost(t)
	ghcr, hub := startRegistry(t), startRegistry(t)
	t.Logf("act, job image and engine ready in %s", time.Since(start).Round(time.Second))
	readme := readmeWorkflows(t)
	// The README's registries, here.
	adapt := strings.NewReplacer("ghcr.io", ghcr, "docker.io/my-org/my-app", hub+"/my-org/my-app").Replace
	tag := `{"ref": "refs/tags/v1.0.0"}`
	var rows [][3]string
	record := func(name, asserted string, took time.Duration) {
		rows = append(rows, [3]string{name, asserted, took.Round(100 * time.Millisecond).String()})
	}

	runs := []struct {
		name     string // README heading, or the CI file and job
		asserted string // for the table in docs/interop.md
		test     func(t *testing.T) time.Duration
	}{{
		name:     "CI: .github/workflows/ci.yml, job `action`",
		asserted: "its own checks passed (outputs, the tag moved, `check` passes the result and fails the unfixed image); the tag holds linux/amd64 at `steps.set.outputs.digest`",
		test: func(t *testing.T) time.Duration {
			port := strings.TrimPrefix(ghcr, "127.0.0.1:")
			// The job's `services:` registry cannot start here (registry:2
			// is not pulled), and under act a service is not reachable by
			// its label from a Docker action: the job uses ours.
			wf := adaptCI(t, readFile(t, "../.github/workflows/ci.yml"), port)
			took, dumps, _ := h.mustRun(t, actRun{workflow: wf, workdir: h.src, event: "push", payload: `{"ref": "refs/heads/main"}`, args: []string{"-j", "action"}})
			steps := only(t, dumps, "action").Steps
			digest := steps["set"].Outputs["digest"]
			expectTag(t, ghcr+"/demo/app:1", digest, "linux/amd64")
			if got, want := steps["check-before"].Outcome, "failure"; got != want {
				t.Errorf("steps.check-before.outcome = %q, want %q", got, want)
			}
			return took
		},
	}, {
		name:     "After `pack buildpack package --publish` to GHCR",
		asserted: "the tag pack published holds the same config with `architecture` `amd64`",
		test: func(t *testing.T) time.Duration {
			before := pushfixtureImage(t, ghcr)
			took, _, _ := h.mustRun(t, actRun{workflow: adapt(readme["After `pack buildpack package --publish` to GHCR"][0]), workdir: userRepo(t, nil), event: "push", payload: tag})
			expectOnlyPlatformChanged(t, before, fetch(t, ghcr+"/my-org/my-app:v1.0.0"), "amd64")
			return took
		},
	}, {
		name:     "Fix on GHCR, then promote to Docker Hub",
		asserted: "`steps.fix.outputs` (digest, image, changed `true`) match GHCR's tag; Docker Hub's `my-org/my-app:v1.0.0` is that digest, linux/amd64",
		test: func(t *testing.T) time.Duration {
			took, dumps, _ := h.mustRun(t, actRun{workflow: adapt(readme["Fix on GHCR, then promote to Docker Hub"][0]), workdir: userRepo(t, nil), event: "push", payload: tag,
				args: []string{"-s", "DOCKERHUB_USERNAME=me", "-s", "DOCKERHUB_TOKEN=token"}})
			fix := only(t, dumps, "publish").Steps["fix"].Outputs
			expectTag(t, ghcr+"/my-org/my-app:v1.0.0", fix["digest"], "linux/amd64")
			if diff := cmp.Diff(map[string]string{"image": ghcr + "/my-org/my-app@" + fix["digest"], "changed": "true", "platform": "linux/amd64"},
				pick(fix, "image", "changed", "platform")); diff != "" {
				t.Errorf("steps.fix.outputs (-want +got):\n%s", diff)
			}
			expectTag(t, hub+"/my-org/my-app:v1.0.0", fix["digest"], "linux/amd64")
			return took
		},
	}, {
		name:     "A pull-request check of what the pull request built",
		asserted: "on the `.cnb` pack writes without `--target` the action's step fails with one `::error::`, naming `oci-archive:bp.cnb`; with `--target linux/amd64` added to the pack step the job passes; each `.cnb` is, after the check, the bytes pack wrote",
		test: func(t *testing.T) time.Duration {
			wf := readme["A pull-request check of what the pull request built"][0]
			pr := `{"pull_request": {"number": 1}}`
			unfixed := userRepo(t, map[string]string{"package.toml": packageTOML})
			dumps, out, err := h.run(t, actRun{workflow: wf, workdir: unfixed, event: "pull_request", payload: pr})
			t.Logf("act on the unfixed .cnb (%v):\n%s", err, actLines(out))
			if err == nil {
				t.Errorf("act on the .cnb pack wrote without --target: passed, want the check to fail")
			}
			if !strings.Contains(out, "Failure - Main set-image-platform/set-image-platform@v1") {
				t.Errorf("act on the unfixed .cnb: the action's step did not fail")
			}
			if got := errorLines(out); len(got) != 1 || !strings.Contains(got[0], "oci-archive:bp.cnb") {
				t.Errorf("act on the unfixed .cnb: ::error:: lines %q, want one naming oci-archive:bp.cnb", got)
			}
			if d := dumps["check"]; len(d) != 1 {
				t.Errorf("the failing run's job left %d dumps, want 1", len(d))
			}
			expectSameFile(t, filepath.Join(unfixed, "bp.cnb"), h.cnb(t, ""))

			wf = replaceOnce(t, wf, "--format file\n", "--format file --target linux/amd64\n")
			fixed := userRepo(t, map[string]string{"package.toml": packageTOML})
			took, dumps, _ := h.mustRun(t, actRun{workflow: wf, workdir: fixed, event: "pull_request", payload: pr})
			only(t, dumps, "check")
			expectSameFile(t, filepath.Join(fixed, "bp.cnb"), h.cnb(t, "linux/amd64"))
			return took
		},
	}, {
		name:     "Package, fix, publish",
		asserted: "the tag holds linux/amd64 at `steps.platform.outputs.digest`, which is the manifest (and config, byte for byte) of the `.cnb` pack writes with `--target linux/amd64`; the attest step got that digest as `subject-digest`; `bp.cnb` is the bytes pack wrote",
		test: func(t *testing.T) time.Duration {
			repo := userRepo(t, map[string]string{"package.toml": packageTOML})
			took, dumps, out := h.mustRun(t, actRun{workflow: adapt(readme["Package, fix, publish"][0]), workdir: repo, event: "push", payload: tag})
			outputs := only(t, dumps, "release").Steps["platform"].Outputs
			name, digest := ghcr+"/my-org/my-app", outputs["digest"]
			if diff := cmp.Diff(map[string]string{"changed": "true", "platform": "linux/amd64"}, pick(outputs, "changed", "platform")); diff != "" {
				t.Errorf("steps.platform.outputs (-want +got):\n%s", diff)
			}
			expectTag(t, name+":v1.0.0", digest, "linux/amd64")
			// The fix of the .cnb is the image pack writes with --target.
			targeted := filepath.Join(t.TempDir(), "bp.cnb")
			write(t, targeted, string(h.cnb(t, "linux/amd64")), 0o644)
			l := openLayout(t, imageref.OCIArchive, targeted, layout.Open)
			m, config := readImage(t, l, "")
			l.Close()
			if got := fetch(t, name+":v1.0.0"); got.digest != sha(m.Bytes) || !bytes.Equal(got.config, config) {
				t.Errorf("%s:v1.0.0 = %s, config:\n%s\nwant %s, the .cnb pack writes with --target linux/amd64, config:\n%s", name, got.digest, got.config, sha(m.Bytes), config)
			}
			if want := "stand-in for actions/attest-build-provenance: " + name + "@" + digest + "\n"; !strings.Contains(out, want) {
				t.Errorf("the attest step did not print %q", want)
			}
			expectSameFile(t, filepath.Join(repo, "bp.cnb"), h.cnb(t, ""))
			return took
		},
	}, {
		name:     "A pull-request check",
		asserted: "with every image in `images.txt` linux/amd64 the job passes and `steps.images.outputs.list` is the file; with one unfixed image the check step fails; no tag moved",
		test: func(t *testing.T) time.Duration {
			fixed := []string{pushImage(t, ghcr+"/my-org/web:1", "amd64", "web"), pushImage(t, ghcr+"/my-org/api:2", "amd64", "api")}
			unfixed := pushImage(t, ghcr+"/my-org/worker:3", "", "worker")
			wf := adapt(readme["A pull-request check"][0])
			list := []string{ghcr + "/my-org/web:1", ghcr + "/my-org/api:2"}
			took, dumps, _ := h.mustRun(t, actRun{workflow: wf, workdir: userRepo(t, map[string]string{"images.txt": strings.Join(list, "\n") + "\n"}), event: "pull_request", payload: `{"pull_request": {"number": 1}}`})
			if got, want := strings.TrimSpace(only(t, dumps, "check").Steps["images"].Outputs["list"]), strings.Join(list, "\n"); got != want {
				t.Errorf("steps.images.outputs.list = %q, want %q", got, want)
			}
			list = append(list, ghcr+"/my-org/worker:3")
			dumps, out, err := h.run(t, actRun{workflow: wf, workdir: userRepo(t, map[string]string{"images.txt": strings.Join(list, "\n") + "\n"}), event: "pull_request", payload: `{"pull_request": {"number": 1}}`})
			t.Logf("act with an unfixed image (%v):\n%s", err, actLines(out))
			if err == nil {
				t.Errorf("act with an unfixed image in images.txt: passed, want the check to fail")
			}
			if !strings.Contains(out, "Failure - Main set-image-platform/set-image-platform@v1") {
				t.Errorf("act with an unfixed image: the action's step did not fail")
			}
			if !errorNames(out, "/my-org/worker:3") || errorNames(out, "/my-org/web:1") {
				t.Errorf("act with an unfixed image: want one ::error:: naming my-org/worker:3 and none naming my-org/web:1")
			}
			if d := dumps["check"]; len(d) != 1 {
				t.Errorf("the failing run's job left %d dumps, want 1", len(d))
			}
			for ref, want := range map[string]string{ghcr + "/my-org/web:1": fixed[0], ghcr + "/my-org/api:2": fixed[1], ghcr + "/my-org/worker:3": unfixed} {
				if got := fetch(t, ref).digest; got != want {
					t.Errorf("%s after the checks = %s, want %s (a check writes nothing)", ref, got, want)
				}
			}
			return took
		},
	}, {
		name:     "Many images (a matrix)",
		asserted: "one job per image, each saw its `matrix.image`; every image linux/amd64",
		test: func(t *testing.T) time.Duration {
			images := buildpackImages(t, ghcr, "1")
			took, dumps, _ := h.mustRun(t, actRun{workflow: adapt(readme["Many images"][0]), workdir: userRepo(t, nil), event: "workflow_dispatch", payload: `{}`})
			if diff := cmp.Diff(sorted(images), matrixValues(t, dumps["fix"], "image")); diff != "" {
				t.Errorf("matrix.image of the fix jobs (-want +got):\n%s", diff)
			}
			for _, ref := range images {
				expectTag(t, ref, "", "linux/amd64")
			}
			return took
		},
	}, {
		name:     "Many images (one step)",
		asserted: "`steps.fix.outputs` image, changed and platform hold one line per image in input order, `results` one object each; the Report step paired the lines; every image linux/amd64 at the digest its line says",
		test: func(t *testing.T) time.Duration {
			images := buildpackImages(t, ghcr, "2")
			took, dumps, out := h.mustRun(t, actRun{workflow: adapt(readme["Many images"][1]), workdir: userRepo(t, nil), event: "workflow_dispatch", payload: `{}`})
			fix := only(t, dumps, "fix").Steps["fix"].Outputs
			digests := strings.Split(fix["digest"], "\n")
			if len(digests) != len(images) {
				t.Fatalf("steps.fix.outputs.digest = %q, want %d lines", fix["digest"], len(images))
			}
			var wantImages []string
			for i, ref := range images {
				expectTag(t, ref, digests[i], "linux/amd64")
				wantImages = append(wantImages, ref[:strings.LastIndex(ref, ":")]+"@"+digests[i])
				// The Report step pairs each line of changed with the same line of image.
				if want := "| changed: true  " + wantImages[i] + "\n"; !strings.Contains(out, want) {
					t.Errorf("the Report step did not print %q", want)
				}
			}
			want := map[string]string{"changed": "true\ntrue\ntrue", "platform": "linux/amd64\nlinux/amd64\nlinux/amd64", "image": strings.Join(wantImages, "\n")}
			if diff := cmp.Diff(want, pick(fix, "changed", "platform", "image")); diff != "" {
				t.Errorf("steps.fix.outputs (-want +got):\n%s", diff)
			}
			var results []map[string]any
			if err := json.Unmarshal([]byte(fix["results"]), &results); err != nil || len(results) != len(images) {
				t.Errorf("steps.fix.outputs.results = %s (%v), want %d objects", fix["results"], err, len(images))
			}
			return took
		},
	}, {
		name:     "Every tag of a repository (plan → matrix → fix)",
		asserted: "`needs.plan.outputs.matrix` lists exactly the tags to fix (the fixed tag left out); each fix job got one of its lists as `matrix.images`; every tag linux/amd64, each at its own digest",
		test: func(t *testing.T) time.Duration {
			repo := ghcr + "/my-org/buildpack-go"
			var toFix []string
			for i := range 5 {
				ref := fmt.Sprintf("%s:1.%d.0", repo, i)
				pushImage(t, ref, "", fmt.Sprintf("sweep-%d", i))
				toFix = append(toFix, ref)
			}
			done := pushImage(t, repo+":0.9.0", "amd64", "sweep-done")
			took, dumps, _ := h.mustRun(t, actRun{workflow: adapt(readme["Every tag of a repository"][0]), workdir: userRepo(t, nil), event: "workflow_dispatch", payload: `{}`})
			fixJobs := dumps["fix"]
			if len(fixJobs) == 0 {
				t.Fatal("no fix job ran")
			}
			var shards []string
			if err := json.Unmarshal([]byte(fixJobs[0].Needs["plan"].Outputs["matrix"]), &shards); err != nil {
				t.Fatalf("needs.plan.outputs.matrix = %q: %v", fixJobs[0].Needs["plan"].Outputs["matrix"], err)
			}
			var planned []string
			for _, s := range shards {
				planned = append(planned, strings.Fields(s)...)
			}
			if diff := cmp.Diff(toFix, sorted(planned)); diff != "" {
				t.Errorf("images in needs.plan.outputs.matrix (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sorted(shards), matrixValues(t, fixJobs, "images")); diff != "" {
				t.Errorf("matrix.images of the fix jobs against the plan's lists (-want +got):\n%s", diff)
			}
			digests := map[string]bool{}
			for _, ref := range toFix {
				digests[expectTag(t, ref, "", "linux/amd64")] = true
			}
			if len(digests) != len(toFix) {
				t.Errorf("%d tags fixed to %d digests, want one each", len(toFix), len(digests))
			}
			if got := fetch(t, repo+":0.9.0").digest; got != done {
				t.Errorf("%s:0.9.0, fixed before the sweep, is at %s, want %s", repo, got, done)
			}
			return took
		},
	}, {
		name:     "Using the outputs",
		asserted: "`steps.amd64.outputs` and `steps.arm64.outputs` reached the index step: the index holds both digests with linux/amd64 and linux/arm64; the Report step printed the outputs and `results`",
		test: func(t *testing.T) time.Duration {
			repo := ghcr + "/my-org/my-app"
			pushImage(t, repo+":v1.0.0-amd64", "", "index-amd64")
			pushImage(t, repo+":v1.0.0-arm64", "", "index-arm64")
			wf := adapt(readme["Using the outputs"][0])
			// docker buildx is not on this machine; crane builds the same
			// index from the same references.
			wf = replaceOnce(t, wf, `docker buildx imagetools create --tag "$REPO:$GITHUB_REF_NAME" "$AMD64" "$ARM64"`,
				`crane index append --tag "$REPO:$GITHUB_REF_NAME" -m "$AMD64" -m "$ARM64"`)
			took, dumps, out := h.mustRun(t, actRun{workflow: wf, workdir: userRepo(t, nil), event: "push", payload: tag})
			steps := only(t, dumps, "index").Steps
			amd, arm := steps["amd64"].Outputs["digest"], steps["arm64"].Outputs["digest"]
			expectTag(t, repo+":v1.0.0-amd64", amd, "linux/amd64")
			expectTag(t, repo+":v1.0.0-arm64", arm, "linux/arm64")
			var entries []string
			for _, m := range fetchIndex(t, repo+":v1.0.0").Manifests {
				entries = append(entries, m.Digest.String()+" "+m.Platform.OS+"/"+m.Platform.Architecture)
			}
			if diff := cmp.Diff([]string{amd + " linux/amd64", arm + " linux/arm64"}, entries); diff != "" {
				t.Errorf("index %s:v1.0.0 (-want +got):\n%s", repo, diff)
			}
			// The Report step: its echo of the outputs and its jq of results.
			for _, want := range []string{"amd64 image: " + amd + " (changed: true)", repo + ":v1.0.0-amd64  linux/amd64  " + amd} {
				if !strings.Contains(out, "| "+want+"\n") {
					t.Errorf("the Report step did not print %q", want)
				}
			}
			return took
		},
	}}
	for _, r := range runs {
		if !t.Run(r.name, func(t *testing.T) {
			took := r.test(t)
			if !t.Failed() {
				record(r.name, r.asserted, took)
			}
		}) {
			record(r.name, "FAILED", 0)
		}
	}
	writeActReport(t, rows)
	t.Logf("act runs: %s", time.Since(start).Round(time.Second))
}

// mustRun runs act and fails the test when act fails; it returns how long
// act took, the dumps and act's output.
func (h *actHost) mustRun(t *testing.T, r actRun) (time.Duration, map[string][]dump, string) {
	t.Helper()
	start := time.Now()
	dumps, out, err := h.run(t, r)
	took := time.Since(start)
	t.Logf("act took %s:\n%s", took.Round(100*time.Millisecond), actLines(out))
	if err != nil {
		t.Fatalf("act: %v\n%s\n(full output:)\n%s", err, actLines(out), out)
	}
	return took, dumps, out
}

// readmeWorkflows returns the README's workflows (YAML blocks with `jobs:`)
// by the heading of their section, in order.
func readmeWorkflows(t *testing.T) map[string][]string {
	t.Helper()
	text := readFile(t, "../README.md")
	out := map[string][]string{}
	heading := ""
	block := regexp.MustCompile("(?ms)^(### [^\n]*)$|^```yaml\n(.*?)^```$")
	for _, m := range block.FindAllStringSubmatch(text, -1) {
		if m[1] != "" {
			heading = strings.TrimPrefix(m[1], "### ")
			continue
		}
		if strings.Contains(m[2], "\njobs:\n") {
			out[heading] = append(out[heading], m[2])
		}
	}
	for _, want := range []string{"After `pack buildpack package --publish` to GHCR", "Fix on GHCR, then promote to Docker Hub",
		"A pull-request check of what the pull request built", "Package, fix, publish", "A pull-request check", "Many images", "Every tag of a repository", "Using the outputs"} {
		if len(out[want]) == 0 {
			t.Fatalf("README.md has no workflow under %q", want)
		}
	}
	return out
}

// adaptCI is CI's workflow with the `action` job's service registry
// replaced by the suite's registry on 127.0.0.1:port: the services block is
// dropped, and both names of the service (localhost:5000 from the runner,
// registry:5000 from the action's container) become localhost:port.
func adaptCI(t *testing.T, wf, port string) string {
	t.Helper()
	wf = replaceOnce(t, wf, "    services:\n      registry:\n        image: registry:2\n        ports:\n          - 5000:5000\n", "")
	return strings.NewReplacer("localhost:5000", "localhost:"+port, "registry:5000", "localhost:"+port).Replace(wf)
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("the workflow holds %q %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// userRepo is a user's repository, my-org/my-app, holding files.
func userRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "my-app")
	write(t, filepath.Join(dir, "README.md"), "my-app\n", 0o644)
	for name, body := range files {
		write(t, filepath.Join(dir, name), body, 0o644)
	}
	gitRepo(t, dir, "https://github.com/my-org/my-app")
	return dir
}

// only is the one dump of job.
func only(t *testing.T, dumps map[string][]dump, job string) dump {
	t.Helper()
	if n := len(dumps[job]); n != 1 {
		t.Fatalf("job %s left %d dumps, want 1", job, n)
	}
	return dumps[job][0]
}

// matrixValues is the string value of matrix.key in each job, sorted.
func matrixValues(t *testing.T, jobs []dump, key string) []string {
	t.Helper()
	var vals []string
	for _, d := range jobs {
		var v string
		if err := json.Unmarshal(d.Matrix[key], &v); err != nil {
			t.Errorf("matrix.%s in job %s: %s: %v", key, d.Job, d.Matrix[key], err)
		}
		vals = append(vals, v)
	}
	return sorted(vals)
}

func pick(m map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// expectTag checks that ref is an image of platform, at digest unless that
// is empty, and returns its digest.
func expectTag(t *testing.T, ref, digest, platform string) string {
	t.Helper()
	got := fetch(t, ref)
	if digest != "" && got.digest != digest {
		t.Errorf("%s is at %s, want %s (the digest the workflow saw)", ref, got.digest, digest)
	}
	if p := platformOf(t, got.config); p != platform {
		t.Errorf("%s has platform %s, want %s", ref, p, platform)
	}
	return got.digest
}

// pushImage pushes an image of one layer whose config says linux and arch
// (empty: as pack leaves it), made distinct by seed, and returns its digest.
func pushImage(t *testing.T, ref, arch, seed string) string {
	t.Helper()
	tarball, gz := appLayer(t)
	config := fmt.Sprintf(`{"architecture":%q,"config":{"Labels":{"seed":%q}},"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%x"]}}`,
		arch, seed, sha256.Sum256(tarball))
	pushRaw(t, ref, gz, []byte(config))
	return fetch(t, ref).digest
}

// pushfixtureImage is the image the pack stand-in pushes, as the registry
// holds it, read from a tag of its own.
func pushfixtureImage(t *testing.T, reg string) stored {
	t.Helper()
	ref := reg + "/interop/pushfixture:1"
	must(t, nil, "go", "-C", "../e2e", "run", "./cmd/pushfixture", ref)
	return fetch(t, ref)
}

// buildpackImages pushes the README's three buildpack images, unfixed, to
// reg under a repository prefix of their own.
func buildpackImages(t *testing.T, reg, seed string) []string {
	t.Helper()
	var refs []string
	for _, name := range []string{"buildpack-go:1.4.0", "buildpack-node:2.1.0", "buildpack-java:3.0.2"} {
		ref := reg + "/my-org/" + name
		pushImage(t, ref, "", name+seed)
		refs = append(refs, ref)
	}
	return refs
}

// writeActReport logs the table of act runs and adds it to the report.
func writeActReport(t *testing.T, rows [][3]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("| workflow (under act " + actVersion + ") | asserted | act run |\n|---|---|---|\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r[:], " | ") + " |\n")
	}
	t.Logf("act table:\n%s", b.String())
	appendReport(t, b.String())
}

// errorNames reports whether an ::error:: line of act's output names ref.
func errorNames(out, ref string) bool {
	return slices.ContainsFunc(errorLines(out), func(l string) bool { return strings.Contains(l, ref) })
}

// errorLines are the ::error:: lines of act's output.
func errorLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "::error") {
			lines = append(lines, l)
		}
	}
	return lines
}

// cnb is the .cnb the pack stand-in writes, with --target when target is
// not empty.
func (h *actHost) cnb(t *testing.T, target string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bp.cnb")
	args := []string{p}
	if target != "" {
		args = []string{"-target", target, p}
	}
	must(t, nil, filepath.Join(h.bin, "cnbfixture"), args...)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expectSameFile checks that the file at p holds want.
func expectSameFile(t *testing.T, p string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading %s after the run: %v", p, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s after the run: %d bytes, sha %s, want the %d bytes pack wrote, sha %s", filepath.Base(p), len(got), sha(got), len(want), sha(want))
	}
}
