package interop

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// actVersion is the nektos/act release that runs the workflows. act checks
// action.yml against the runner's own schema, which is what the act runs
// are for as much as the workflows themselves.
const actVersion = "v0.2.89"

// jobRecipe is how the job image's root file system is made: Debian
// bookworm, as minimal as debootstrap makes it, with what the README's
// `run:` steps call (bash is in every Debian base). Its hash keys the cache.
var jobRecipe = []string{"debootstrap", "--variant=minbase", "--include=ca-certificates,curl,jq,git", "bookworm"}

// actHost is what every act run shares: act itself, an engine, the job
// image, stand-ins for the remote actions, and a copy of this repository
// that is the action (set-image-platform/set-image-platform@v1 and `./`).
type actHost struct {
	act      string
	bin      string   // act and the binaries the job image holds
	env      []string // act's environment: DOCKER_HOST, a home of its own
	jobImage string
	src      string            // the repository, copied, its Dockerfile's bases replaced
	standIns map[string]string // owner/repo of a remote action -> its stand-in
}

// newActHost builds act, pushfixture, cnbfixture and crane, starts (or finds) an engine,
// and makes the job image, the stand-ins of the action's base images, the
// stand-in actions and the repository copy.
func newActHost(t *testing.T) *actHost {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("finding go: %v (the suite needs it on PATH)", err)
	}
	bin := t.TempDir()
	h := &actHost{act: filepath.Join(bin, "act"), bin: bin}
	builds := []func() error{
		func() error { return goInstall(bin, "github.com/nektos/act@"+actVersion) },
		func() error { return goBuild("../e2e", filepath.Join(bin, "pushfixture"), "./cmd/pushfixture") },
		func() error { return goBuild(".", filepath.Join(bin, "cnbfixture"), "./cmd/cnbfixture") },
		func() error {
			return goBuild(".", filepath.Join(bin, "crane"), "github.com/google/go-containerregistry/cmd/crane")
		},
	}
	var rootfs string
	var rootfsErr error
	var wg sync.WaitGroup
	errs := make([]error, len(builds))
	for i, build := range builds {
		wg.Go(func() { errs[i] = build() })
	}
	wg.Go(func() { rootfs, rootfsErr = jobRootfs() })
	docker := dockerEnv(t)
	wg.Wait()
	for _, err := range append(errs, rootfsErr) {
		if err != nil {
			t.Fatal(err)
		}
	}
	home := t.TempDir()
	h.env = append(slices.Clone(docker), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"))

	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e6)
	h.jobImage = "interop-act-job:" + id
	static := "interop-act-static:" + id
	// On an engine the suite did not start, leave no image behind: its
	// own, and those act builds for `./` and for the action by name.
	t.Cleanup(func() {
		_, _ = run(t, h.env, "docker", "image", "rm", "--force", h.jobImage, h.jobImage+"-rootfs", static,
			"act-dockeraction:latest", "act-set-image-platform-set-image-platform-v1-dockeraction:latest")
	})
	h.importJobImage(t, rootfs, bin, h.jobImage)
	h.buildStatic(t, static)
	h.src = copyRepository(t, h.jobImage, static)
	h.standIns = writeStandIns(t)
	return h
}

// goInstall installs a main package at a version, with its own go.mod.
func goInstall(bin, pkg string) error {
	cmd := exec.Command("go", "install", pkg)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("installing %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// jobRootfs returns a tar of the job image's root file system, from the
// cache when one with the same recipe is there. debootstrap takes minutes
// and fetches from Debian's mirror; the cache is INTEROP_CACHE, else the
// user's cache directory. debootstrap needs root: without it, the commands
// run under `sudo -n` (as on a GitHub runner).
func jobRootfs() (string, error) {
	dir := os.Getenv("INTEROP_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("finding a cache directory (set INTEROP_CACHE): %w", err)
		}
		dir = filepath.Join(base, "set-image-platform-interop")
	}
	key := sha256.Sum256([]byte(strings.Join(jobRecipe, "\x00")))
	out := filepath.Join(dir, fmt.Sprintf("act-job-%x.tar", key[:8]))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return "", fmt.Errorf("finding debootstrap: %w (apt-get install debootstrap)", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	root, err := os.MkdirTemp(dir, "rootfs-")
	if err != nil {
		return "", err
	}
	defer asRoot("rm", "-rf", root)
	if b, err := asRoot(append(slices.Clone(jobRecipe), root)...); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", strings.Join(append(jobRecipe, root), " "), err, tail(b))
	}
	// Package lists and downloaded packages are not needed in the image.
	if b, err := asRoot("rm", "-rf", filepath.Join(root, "var/cache/apt/archives"), filepath.Join(root, "var/lib/apt/lists")); err != nil {
		return "", fmt.Errorf("trimming the job root file system: %w\n%s", err, b)
	}
	tmp := out + ".tmp"
	if b, err := asRoot("tar", "-C", root, "--numeric-owner", "-cf", tmp, "."); err != nil {
		return "", fmt.Errorf("packing the job root file system: %w\n%s", err, b)
	}
	return out, os.Rename(tmp, out)
}

// asRoot runs a command as root: directly when the suite is root, else
// with `sudo -n`.
func asRoot(args ...string) ([]byte, error) {
	if os.Geteuid() != 0 {
		args = append([]string{"sudo", "-n"}, args...)
	}
	return exec.Command(args[0], args[1:]...).CombinedOutput()
}

// tail is the last lines of a command's output.
func tail(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return bytes.Join(lines[max(0, len(lines)-20):], []byte("\n"))
}

// importJobImage imports the root file system and adds what the job's
// steps and the Dockerfile's build stage need, as on a GitHub runner and in
// the golang image: Go in /usr/local/go, the modules of both of this
// repository's modules served from /goproxy (no network needed), and the
// pushfixture, cnbfixture and crane binaries the stand-ins call. The same image stands
// in for `golang:1.26-bookworm` in the Dockerfile: Debian bookworm with Go.
func (h *actHost) importJobImage(t *testing.T, rootfs, bin, name string) {
	t.Helper()
	base := name + "-rootfs" // removed with name
	h.docker(t, "import", rootfs, base)
	ctx := t.TempDir()
	goroot := strings.TrimSpace(must(t, nil, "go", "env", "GOROOT"))
	if err := os.CopyFS(filepath.Join(ctx, "go"), os.DirFS(goroot)); err != nil {
		t.Fatalf("copying Go from %s: %v", goroot, err)
	}
	proxy := filepath.Join(ctx, "goproxy")
	for _, mod := range []string{"..", "../e2e"} {
		moduleProxy(t, mod, proxy)
	}
	for _, b := range []string{"pushfixture", "cnbfixture", "crane"} {
		copyFile(t, filepath.Join(bin, b), filepath.Join(ctx, "bin", b), 0o755)
	}
	write(t, filepath.Join(ctx, "Dockerfile"), "FROM "+base+`
COPY go /usr/local/go
COPY goproxy /goproxy
COPY bin /usr/local/bin
ENV PATH=/usr/local/go/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPROXY=file:///goproxy GOSUMDB=off GOTOOLCHAIN=local
`, 0o644)
	h.build(t, name, ctx)
}

// buildStatic makes the stand-in for distroless/static: CA certificates and
// nothing else, taken from the job image.
func (h *actHost) buildStatic(t *testing.T, name string) {
	t.Helper()
	ctx := t.TempDir()
	write(t, filepath.Join(ctx, "Dockerfile"), "FROM "+h.jobImage+" AS certs\nFROM scratch\nCOPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\n", 0o644)
	h.build(t, name, ctx)
}

// build builds with the classic builder, which needs no buildx plugin and
// pulls nothing that is present.
func (h *actHost) build(t *testing.T, name, ctx string) {
	t.Helper()
	env := append(slices.Clone(h.env), "DOCKER_BUILDKIT=0")
	must(t, env, "docker", "build", "-q", "-t", name, ctx)
}

func (h *actHost) docker(t *testing.T, args ...string) string {
	t.Helper()
	return must(t, h.env, "docker", args...)
}

// moduleProxy lays out the modules the module in dir needs as a module
// proxy under out, from the module cache.
func moduleProxy(t *testing.T, dir, out string) {
	t.Helper()
	modcache := filepath.Join(strings.TrimSpace(must(t, nil, "go", "env", "GOMODCACHE")), "cache", "download")
	cmd := exec.Command("go", "mod", "download", "-json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download -json in %s: %v", dir, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for dec.More() {
		var m struct{ Info, GoMod, Zip string }
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decoding go mod download -json: %v", err)
		}
		for _, f := range []string{m.Info, m.GoMod, m.Zip} {
			if f == "" {
				continue
			}
			rel, err := filepath.Rel(modcache, f)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Fatalf("module file %s is outside %s", f, modcache)
			}
			copyFile(t, f, filepath.Join(out, rel), 0o644)
		}
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// fromLine matches a Dockerfile's FROM instruction: flags, image, the rest.
var fromLine = regexp.MustCompile(`(?m)^(FROM\s+(?:--\S+\s+)*)(\S+)(.*)$`)

// copyRepository copies the files of this repository that git would commit
// into a new git repository whose origin is the action's, with only the
// images of the Dockerfile's FROM lines replaced (their pinned digests
// cannot be pulled here, and a digest cannot be given to a local image), so
// that act builds the action's image from its own Dockerfile.
func copyRepository(t *testing.T, goImage, staticImage string) string {
	t.Helper()
	files := strings.Split(strings.TrimRight(must(t, nil, "git", "-C", "..", "ls-files", "-z", "--cached", "--others", "--exclude-standard"), "\x00"), "\x00")
	dst := filepath.Join(t.TempDir(), "set-image-platform")
	for _, f := range files {
		info, err := os.Lstat(filepath.Join("..", f))
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		copyFile(t, filepath.Join("..", f), filepath.Join(dst, f), info.Mode().Perm())
	}
	df := filepath.Join(dst, "Dockerfile")
	b, err := os.ReadFile(df)
	if err != nil {
		t.Fatal(err)
	}
	replaced := 0
	out := fromLine.ReplaceAllStringFunc(string(b), func(line string) string {
		m := fromLine.FindStringSubmatch(line)
		switch {
		case strings.HasPrefix(m[2], "golang:"):
			m[2] = goImage
		case strings.HasPrefix(m[2], "gcr.io/distroless/static"):
			m[2] = staticImage
		default:
			t.Fatalf("Dockerfile line %q: no stand-in for its image", line)
		}
		replaced++
		return m[1] + m[2] + m[3]
	})
	if replaced != 2 {
		t.Fatalf("Dockerfile has %d FROM lines, want 2 (golang, distroless/static)", replaced)
	}
	write(t, df, out, 0o644)
	gitRepo(t, dst, "https://github.com/set-image-platform/set-image-platform")
	return dst
}

// gitRepo makes dir a git repository with one commit and the origin given,
// from which act takes github.repository and github.sha.
func gitRepo(t *testing.T, dir, origin string) {
	t.Helper()
	env := []string{"GIT_AUTHOR_NAME=interop", "GIT_AUTHOR_EMAIL=interop@example.com", "GIT_COMMITTER_NAME=interop", "GIT_COMMITTER_EMAIL=interop@example.com"}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"remote", "add", "origin", origin},
		{"add", "-A"},
		{"commit", "-q", "--allow-empty", "-m", "interop"},
	} {
		must(t, env, "git", append([]string{"-C", dir}, args...)...)
	}
}

// Stand-ins for the remote actions the workflows use, made of local files
// (act would clone them from GitHub). Each does what the workflow needs of
// it here, and says it is a stand-in in the log.
var standInActions = map[string]map[string]string{
	// The job image has Go already, as a GitHub runner has.
	"actions/setup-go": {"action.yml": `name: setup-go stand-in
inputs:
  go-version-file: {required: false}
  cache-dependency-path: {required: false}
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "stand-in for actions/setup-go"; go version
`},
	// The registries here are open; the action logs in on its own anyway.
	"docker/login-action": {"action.yml": `name: login-action stand-in
inputs:
  registry: {required: false}
  username: {required: false}
  password: {required: false}
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "stand-in for docker/login-action"
`},
	// A later action's with: opens the results-file output as given: the
	// stand-in fails the step unless the path is a readable JSON array.
	"actions/upload-artifact": {"action.yml": `name: upload-artifact stand-in
inputs:
  name: {required: false}
  path: {required: true}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        ARTIFACT_PATH: ${{ inputs.path }}
      run: |
        echo "stand-in for actions/upload-artifact: $ARTIFACT_PATH"
        test -n "$ARTIFACT_PATH" && test -r "$ARTIFACT_PATH"
        jq -e 'type == "array" and length > 0' "$ARTIFACT_PATH" >/dev/null
`},
	// CI's lint job is not among the jobs run here.
	"golangci/golangci-lint-action": {"action.yml": `name: golangci-lint-action stand-in
inputs:
  version: {required: false}
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "stand-in for golangci/golangci-lint-action"
`},
	// pack publishes an image whose architecture is empty, as pack does
	// without --target: here pushfixture's, to the reference pack is given.
	// With --format file it writes a .cnb instead, cnbfixture's: the
	// architecture empty, or from --target.
	"buildpacks/github-actions": {"setup-pack/action.yml": `name: setup-pack stand-in
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        echo "stand-in for buildpacks/github-actions/setup-pack"
        cat > /usr/local/bin/pack <<'EOF'
        #!/bin/bash
        # pack build IMAGE ... / pack buildpack package IMAGE ...: push an
        # image whose architecture is empty to IMAGE. pack buildpack
        # package FILE --format file [--target OS/ARCH]: write FILE.
        set -euo pipefail
        case "$1" in
          build) image="$2"; shift 2 ;;
          buildpack) image="$3"; shift 3 ;;
          *) echo "pack stand-in: $1 is not supported" >&2; exit 1 ;;
        esac
        format="" target=""
        while [ $# -gt 0 ]; do
          case "$1" in
            --format) format="$2"; shift ;;
            --target) target="$2"; shift ;;
          esac
          shift
        done
        case "$format" in
          "" | image) pushfixture "$image" ;;
          file) cnbfixture ${target:+-target "$target"} "$image" ;;
          *) echo "pack stand-in: --format $format is not supported" >&2; exit 1 ;;
        esac
        EOF
        chmod +x /usr/local/bin/pack
`},
	// The attestation is GitHub's; the stand-in fails the step unless it
	// was given a subject name and a sha256 digest (the action's output),
	// and prints them for the test.
	"actions/attest-build-provenance": {"action.yml": `name: attest-build-provenance stand-in
inputs:
  subject-name: {required: false}
  subject-digest: {required: false}
  push-to-registry: {required: false}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        SUBJECT_NAME: ${{ inputs.subject-name }}
        SUBJECT_DIGEST: ${{ inputs.subject-digest }}
      run: |
        echo "stand-in for actions/attest-build-provenance: $SUBJECT_NAME@$SUBJECT_DIGEST"
        test -n "$SUBJECT_NAME"
        [[ "$SUBJECT_DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]]
`},
}

// writeStandIns writes the stand-in actions and returns their directories.
func writeStandIns(t *testing.T) map[string]string {
	t.Helper()
	dirs := map[string]string{}
	root := t.TempDir()
	for repo, files := range standInActions {
		dir := filepath.Join(root, strings.ReplaceAll(repo, "/", "_"))
		for name, body := range files {
			write(t, filepath.Join(dir, name), body, 0o644)
		}
		dirs[repo] = dir
	}
	return dirs
}

// usesLine matches a step's `uses: owner/repo[/path]@ref`.
var usesLine = regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(?:/[^@\s]*)?@(\S+)`)

// actRun is one run of act: a workflow, the repository it runs in and the
// event that starts it.
type actRun struct {
	workflow string   // the workflow's text, adapted
	workdir  string   // the repository the workflow belongs to
	event    string   // push, pull_request, workflow_dispatch
	payload  string   // the event's JSON
	args     []string // more flags: -j JOB, -s NAME=VALUE
}

// dump is what one job's added last step saw: the steps and needs contexts
// and the job's matrix values.
type dump struct {
	Job    string                     `json:"job"`
	Steps  map[string]stepContext     `json:"steps"`
	Needs  map[string]needsContext    `json:"needs"`
	Matrix map[string]json.RawMessage `json:"matrix"`
}

type stepContext struct {
	Outcome string            `json:"outcome"`
	Outputs map[string]string `json:"outputs"`
}

type needsContext struct {
	Result  string            `json:"result"`
	Outputs map[string]string `json:"outputs"`
}

// dumpStep is added as the last step of every job: it writes the contexts
// the job's steps could read to the workspace, which act bind-mounts, for
// the test to read.
const dumpStep = `      - name: Dump the contexts (added by the interop suite)
        if: ${{ always() }}
        env:
          DUMP_STEPS: ${{ toJSON(steps) }}
          DUMP_NEEDS: ${{ toJSON(needs) }}
          DUMP_MATRIX: ${{ toJSON(matrix) }}
        run: |
          mkdir -p "$GITHUB_WORKSPACE/.interop-dump"
          jq -n --arg job "$GITHUB_JOB" --argjson steps "$DUMP_STEPS" --argjson needs "$DUMP_NEEDS" --argjson matrix "${DUMP_MATRIX:-null}" \
            '{$job, $steps, $needs, $matrix}' > "$(mktemp "$GITHUB_WORKSPACE/.interop-dump/$GITHUB_JOB-XXXXXX")"
          # The job and the action run as root; the suite, which removes the
          # workspace afterwards, may not (on a GitHub runner it does not).
          chown -R --reference="$GITHUB_WORKSPACE" "$GITHUB_WORKSPACE"
`

// withDumpSteps appends dumpStep to every job of a workflow. Each job's
// `steps:` must be its last key, as in every workflow the suite runs, so
// that the end of the job's block is the end of its steps.
func withDumpSteps(t *testing.T, workflow string) string {
	t.Helper()
	lines := strings.SplitAfter(strings.TrimRight(workflow, "\n")+"\n", "\n")
	var out strings.Builder
	inJobs, lastKey, jobs := false, "", 0
	flush := func() {
		if lastKey == "" {
			return
		}
		if lastKey != "steps" {
			t.Fatalf("a job's last key is %q, want steps: the suite appends its step there", lastKey)
		}
		out.WriteString(dumpStep)
		jobs++
		lastKey = ""
	}
	for _, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(trimmed, "#"):
		case indent == 0:
			flush()
			inJobs = strings.HasPrefix(line, "jobs:")
		case inJobs && indent == 2:
			flush()
			lastKey = "-" // a job started; no key yet
		case inJobs && indent == 4:
			lastKey, _, _ = strings.Cut(trimmed, ":")
		}
		out.WriteString(line)
	}
	flush()
	if jobs == 0 {
		t.Fatal("the workflow has no jobs")
	}
	return out.String()
}

// run runs the workflow with act and returns the contexts each job's last
// step saw, by job id (a matrix job once per combination), act's output and
// its error.
func (h *actHost) run(t *testing.T, r actRun) (map[string][]dump, string, error) {
	t.Helper()
	wfDir := t.TempDir()
	wf := filepath.Join(wfDir, "workflow.yml")
	write(t, wf, withDumpSteps(t, r.workflow), 0o644)
	event := filepath.Join(wfDir, "event.json")
	write(t, event, r.payload, 0o644)
	dumps := filepath.Join(r.workdir, ".interop-dump")
	if err := os.RemoveAll(dumps); err != nil {
		t.Fatal(err)
	}

	args := []string{r.event, "-W", wf, "-C", r.workdir, "-e", event,
		"-P", "ubuntu-latest=" + h.jobImage, "--pull=false", "--bind"}
	repos := map[string]bool{}
	for _, m := range usesLine.FindAllStringSubmatch(r.workflow, -1) {
		repo, ref := m[1], m[2]
		if repo == "actions/checkout" || repos[repo+"@"+ref] {
			continue // act skips the checkout of the workflow's own repository
		}
		repos[repo+"@"+ref] = true
		dir, ok := h.standIns[repo]
		if repo == "set-image-platform/set-image-platform" {
			dir, ok = h.src, true
		}
		if !ok {
			t.Fatalf("the workflow uses %s@%s, which has no stand-in", repo, ref)
		}
		args = append(args, "--local-repository", repo+"@"+ref+"="+dir)
	}
	args = append(args, r.args...)
	cmd := exec.Command(h.act, args...)
	cmd.Env = append(os.Environ(), h.env...)
	t.Logf("$ act %s", strings.Join(args, " "))
	out, err := cmd.CombinedOutput()

	got := map[string][]dump{}
	entries, _ := os.ReadDir(dumps)
	for _, e := range entries {
		b, rerr := os.ReadFile(filepath.Join(dumps, e.Name()))
		if rerr != nil {
			t.Fatal(rerr)
		}
		var d dump
		if jerr := json.Unmarshal(b, &d); jerr != nil {
			t.Fatalf("reading the dump %s: %v\n%s", e.Name(), jerr, b)
		}
		got[d.Job] = append(got[d.Job], d)
	}
	return got, string(out), err
}

// actLines are the lines of act's output that say what happened: each
// step's result and the action's own annotations, for failure messages.
func actLines(out string) string {
	var keep []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, "Success - ") || strings.Contains(l, "Failure - ") || strings.Contains(l, "::error") ||
			strings.Contains(l, "Error:") || strings.Contains(l, "level=error") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
