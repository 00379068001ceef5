package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/crypto/bcrypt"
)

// containerVersion is the version the images of the container tests are
// stamped with, as a release build stamps its tag.
const containerVersion = "v9.9.9"

// releaseLdflags are the Dockerfile's linker flags for containerVersion.
const releaseLdflags = "-s -w -X github.com/set-image-platform/set-image-platform/internal/version.version=" + containerVersion

// releaseGoCache is the build cache of releaseBinary: kept between runs
// (go trims what goes unused), and baked into the Dockerfile test's Go
// stand-in, so that the builds in the container only link.
func releaseGoCache() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding a cache directory: %w", err)
	}
	return filepath.Join(dir, "set-image-platform-e2e", "go-build"), nil
}

// releaseBinary builds the repository's binary once, as the Dockerfile
// does: static, -trimpath, stamped with containerVersion, for linux on
// this machine's architecture.
var releaseBinary = sync.OnceValues(func() (string, error) {
	cache, err := releaseGoCache()
	if err != nil {
		return "", err
	}
	out := filepath.Join(filepath.Dir(binaryPath), "set-image-platform-release")
	return out, buildStatic("..", out, []string{"GOCACHE=" + cache, "GOOS=linux", "GOARCH=" + runtime.GOARCH, "GOFLAGS=-buildvcs=false"},
		"-trimpath", "-ldflags="+releaseLdflags)
})

// registryBinary builds e2e/cmd/registry once, static.
var registryBinary = sync.OnceValues(func() (string, error) {
	out := filepath.Join(filepath.Dir(binaryPath), "registry")
	return out, buildStatic("cmd/registry", out, []string{"GOOS=linux", "GOARCH=" + runtime.GOARCH})
})

// once returns what a sync.OnceValues build gave, failing tb on an error.
func once(tb testing.TB, build func() (string, error)) string {
	tb.Helper()
	p, err := build()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// engineRun is one container test's images and network in the engine.
type engineRun struct {
	d       *dockerEngine
	id      string // six hex characters, as the runner's labels
	network string
	action  string // the action's image
}

// newEngineRun loads the action's image (the release binary on an empty
// base with CA certificates, as the Dockerfile makes it) and creates a
// user-defined network, as the runner does for a job with services.
func newEngineRun(t *testing.T, d *dockerEngine) *engineRun {
	t.Helper()
	e := &engineRun{d: d, id: randomHex(t, "", 3)}
	go registryBinary() // in parallel with releaseBinary: both compile cold on a fresh machine
	e.action = "set-image-platform-e2e-" + e.id + ":action"
	fs := staticRootfs(t)
	fs.hostFile(t, "set-image-platform", once(t, releaseBinary))
	d.load(t, e.action, fs, v1.Config{Entrypoint: []string{"/set-image-platform"}})
	t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", e.action) })
	e.network = "github_network_" + e.id
	d.must(t, "network", "create", e.network)
	t.Cleanup(func() { d.run(t, nil, nil, "network", "rm", e.network) })
	return e
}

// startRegistry runs the registry image as a service container on the
// network under alias, its port published on loopback for the test's own
// requests; with a user it takes only that user and password.
func (e *engineRun) startRegistry(t *testing.T, alias, user, password string) *testRegistry {
	t.Helper()
	img := "set-image-platform-e2e-" + e.id + ":registry"
	if e.d.run(t, nil, nil, "image", "inspect", img).ExitCode != 0 {
		fs := newRootfs()
		fs.hostFile(t, "registry", once(t, registryBinary))
		e.d.load(t, img, fs, v1.Config{Entrypoint: []string{"/registry"}})
		t.Cleanup(func() { e.d.run(t, nil, nil, "image", "rm", "--force", img) })
	}
	args := []string{"run", "--detach", "--rm", "--name", "registry_" + e.id + "_" + alias,
		"--network", e.network, "--network-alias", alias, "--publish", "127.0.0.1::5000"}
	auth := authn.Anonymous
	var cmd []string
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "htpasswd")
		if err := os.WriteFile(file, []byte(user+":"+string(hash)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--volume", file+":/htpasswd:ro")
		cmd = []string{"-htpasswd", "/htpasswd"}
		auth = &authn.Basic{Username: user, Password: password}
	}
	ctr := e.d.must(t, append(append(args, img), cmd...)...)
	t.Cleanup(func() { e.d.run(t, nil, nil, "rm", "--force", ctr) })
	host := e.d.must(t, "port", ctr, "5000/tcp")
	host = strings.Fields(host)[0] // one line per address family
	waitForRegistry(t, host)
	return &testRegistry{host: host, auth: auth}
}

// waitForRegistry polls host's /v2/ until it answers.
func waitForRegistry(t *testing.T, host string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry at %s did not answer: %v", host, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runContainer runs the action's image as the runner runs a Docker
// container action (RUNNER.md): every input of action.yml as -e INPUT_<NAME>
// with its default unless inputs has it, the runner's variables with paths
// translated, the four directories and the engine's socket mounted, on the
// job's network. It returns what the run printed and wrote.
func (e *engineRun) runContainer(t *testing.T, inputs map[string]string) Result {
	t.Helper()
	temp, workspace := t.TempDir(), runnerWorkspace(t)
	commands := filepath.Join(temp, "_runner_file_commands")
	for _, dir := range []string{"_github_home", "_github_workflow", "_runner_file_commands"} {
		if err := os.Mkdir(filepath.Join(temp, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	guid := randomHex(t, "", 16)
	files := runnerFiles{output: filepath.Join(commands, "set_output_"+guid), summary: filepath.Join(commands, "step_summary_"+guid), workspace: workspace}
	for _, f := range []string{files.output, files.summary} {
		if err := os.WriteFile(f, nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	var env, names []string
	for _, in := range readActionYAML(t).Inputs {
		v, ok := inputs[in.Name]
		if !ok && in.Default != nil {
			// The runner evaluates the default expression.
			v = strings.ReplaceAll(*in.Default, "${{ github.token }}", fakeGitHubToken)
		}
		name := "INPUT_" + strings.ToUpper(strings.ReplaceAll(in.Name, " ", "_"))
		env, names = append(env, name+"="+v), append(names, name)
	}
	nInputs := len(names)
	runner := map[string]string{
		"HOME":                "/github/home",
		"GITHUB_ACTION":       "__run",
		"GITHUB_ACTOR":        "octocat",
		"GITHUB_REPOSITORY":   "octocat/hello",
		"GITHUB_WORKSPACE":    "/github/workspace",
		"GITHUB_OUTPUT":       "/github/file_commands/" + filepath.Base(files.output),
		"GITHUB_STEP_SUMMARY": "/github/file_commands/" + filepath.Base(files.summary),
		"RUNNER_OS":           "Linux",
		"RUNNER_ARCH":         "X64",
		"RUNNER_TEMP":         "/github/runner_temp",
	}
	for name, v := range runner {
		env, names = append(env, name+"="+v), append(names, name)
	}
	sort.Strings(names[nInputs:]) // map order; the inputs keep action.yml's
	args := []string{"run", "--name", "set-image-platform-e2e" + e.id + "_" + randomHex(t, "", 3), "--label", e.id,
		"--workdir", "/github/workspace", "--rm"}
	for _, n := range names {
		args = append(args, "-e", n)
	}
	args = append(args, "-e", "GITHUB_ACTIONS=true", "-e", "CI=true", "--network", e.network,
		"-v", e.d.socket+":/var/run/docker.sock",
		"-v", temp+":/github/runner_temp",
		"-v", filepath.Join(temp, "_github_home")+":/github/home",
		"-v", filepath.Join(temp, "_github_workflow")+":/github/workflow",
		"-v", commands+":/github/file_commands",
		"-v", workspace+":/github/workspace",
		e.action)
	res := e.d.run(t, env, nil, args...)
	files.read(t, &res)
	t.Logf("container run %v: %s", inputs, res)
	return res
}

// expectVersionLine fails t unless the run logged the stamped version
// once.
func expectVersionLine(t *testing.T, res Result) {
	t.Helper()
	want := "set-image-platform " + containerVersion
	var n int
	for _, l := range res.logLines() {
		if l == want {
			n++
		}
	}
	if n != 1 {
		t.Errorf("log has the line %q %d times, want once", want, n)
	}
}

// TestContainer runs the action in a real engine the way the GitHub runner
// does, against registries running as service containers and an image in
// that same engine through the socket the runner mounts, and ends with
// what a consumer of its result does: docker pull --platform.
func TestContainer(t *testing.T) {
	t.Parallel()
	d := requireDocker(t)
	start := time.Now()
	e := newEngineRun(t, d)
	reg := e.startRegistry(t, "registry", "", "")
	const password = "right-password"
	authReg := e.startRegistry(t, "registry-auth", "ci-bot", password)
	t.Logf("images, network and registries ready in %v", time.Since(start).Round(time.Millisecond))

	unfixed := packImage(t, 1)
	old := reg.push(t, "app:1.0", unfixed)
	old2 := reg.push(t, "app:2.0", packImage(t, 1))

	t.Run("set", func(t *testing.T) {
		res := e.runContainer(t, map[string]string{"image": "registry:5000/app:1.0", "platform": "linux/amd64", "insecure": "true"})
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		expectVersionLine(t, res)
		got := reg.digestOf(t, "app:1.0")
		expectOutputs(t, res, imageOutputs("registry:5000/app", old, got, true, "linux/amd64"))
		expectPatched(t, reg, "app", "app:1.0", unfixed, platformMembers("linux/amd64"), nil)
		if !strings.Contains(res.Summary, got) {
			t.Errorf("step summary does not name the new digest %s:\n%s", got, res.Summary)
		}
		// A later run: step opens the results-file output as given, from
		// the workspace, as the runner's user.
		path := res.Outputs["results-file"]
		if path == "" {
			t.Fatalf("results-file output is empty")
		}
		text := readAsRunnerUser(t, res.Workspace, path)
		if text != res.Outputs["results"] {
			t.Errorf("results-file %q read as uid %d = %q, want the results output %q", path, runnerUID, text, res.Outputs["results"])
		}
	})
	t.Run("check passes", func(t *testing.T) {
		fixed := reg.digestOf(t, "app:1.0")
		res := e.runContainer(t, map[string]string{"image": "registry:5000/app:1.0", "mode": "check", "platform": "linux/amd64", "insecure": "true"})
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		expectOutputs(t, res, imageOutputs("registry:5000/app", fixed, fixed, false, "linux/amd64"))
		expectAt(t, reg, "app:1.0", fixed)
	})
	t.Run("check fails", func(t *testing.T) {
		res := e.runContainer(t, map[string]string{"image": "registry:5000/app:2.0", "mode": "check", "insecure": "true"})
		expectExit(t, res, 1)
		expectErrorMentions(t, res, "registry:5000/app:2.0")
		expectAt(t, reg, "app:2.0", old2)
	})
	t.Run("dry run", func(t *testing.T) {
		res := e.runContainer(t, map[string]string{"image": "registry:5000/app:2.0", "platform": "linux/arm64", "dry-run": "true", "insecure": "true"})
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		if res.Outputs["changed"] != "true" || res.Outputs["previous-digest"] != old2 || res.Outputs["digest"] == old2 {
			t.Errorf("outputs = %v, want changed true, previous-digest %s and another digest", res.Outputs, old2)
		}
		expectAt(t, reg, "app:2.0", old2)
	})
	t.Run("bad input", func(t *testing.T) {
		res := e.runContainer(t, map[string]string{"image": "registry:5000/app:2.0", "platform": "linux/amd64", "mode": "fix", "insecure": "true"})
		expectExit(t, res, 1)
		expectErrorMentions(t, res, "mode", "fix")
		expectVersionLine(t, res)
		expectAt(t, reg, "app:2.0", old2)
	})
	t.Run("wrong password", func(t *testing.T) {
		before := authReg.push(t, "app:1.0", unfixed)
		wrong := password + "-wrong"
		res := e.runContainer(t, map[string]string{"image": "registry-auth:5000/app:1.0", "platform": "linux/amd64",
			"username": "ci-bot", "password": wrong, "insecure": "true"})
		expectExit(t, res, 1)
		expectErrorMentions(t, res, "registry-auth:5000")
		expectMasked(t, res, wrong)
		expectAt(t, authReg, "app:1.0", before)
	})
	t.Run("docker pull --platform", func(t *testing.T) {
		// Two images with an empty architecture in an index whose entries
		// carry no platform, as `crane index append` makes of them.
		keys := `"architecture":"","os":"linux"`
		fx := binIndexOf([]indexChild{
			{kind: imageChild, im: singleBinaryImage(t, "hello-linux-amd64", keys), platform: "linux/amd64", configChanges: true},
			{kind: imageChild, im: singleBinaryImage(t, "hello-linux-arm64", keys), platform: "linux/arm64", configChanges: true},
		})
		reg.pushIndex(t, "multi", "1.0", fx)
		pullRef := reg.host + "/multi:1.0"
		t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", pullRef) })

		pull := d.run(t, nil, nil, "pull", "--platform", "linux/arm64", pullRef)
		if pull.ExitCode == 0 {
			t.Fatalf("docker pull --platform linux/arm64 of the unfixed index succeeded, want a refusal: %s", pull)
		}
		t.Logf("before: docker pull --platform linux/arm64: %s", strings.TrimSpace(pull.Stderr))

		res := e.runContainer(t, map[string]string{"image": "registry:5000/multi:1.0", "platform": "auto", "insecure": "true"})
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		if got := res.Outputs["platform"]; got != "linux/amd64,linux/arm64" {
			t.Errorf("platform output = %q, want linux/amd64,linux/arm64", got)
		}

		pull = d.run(t, nil, nil, "pull", "--platform", "linux/arm64", pullRef)
		expectExit(t, pull, 0)
		got := d.must(t, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{.Id}}", pullRef)
		idx := reg.get(t, "multi:1.0")
		want := "linux/arm64 " + reg.childConfigDigest(t, "multi", idx, "arm64")
		if got != want {
			t.Errorf("pulled image = %q, want %q (the arm64 child's config)", got, want)
		}
	})
	t.Run("docker-daemon", e.checkAndSetInEngine)
	t.Run("start-up", func(t *testing.T) {
		// The figure the README's start-up table rests on: the median
		// wall time of five runs of a check, as docker run starts them.
		var times []time.Duration
		for range 5 {
			t0 := time.Now()
			res := e.runContainer(t, map[string]string{"image": "registry:5000/app:1.0", "mode": "check", "insecure": "true"})
			times = append(times, time.Since(t0))
			expectExit(t, res, 0)
		}
		slices.Sort(times)
		size := d.must(t, "image", "inspect", "--format", "{{.Size}}", e.action)
		t.Logf("action image %s bytes; docker run of a check: median %v of %v", size, times[2].Round(time.Millisecond), times)
	})
	t.Logf("container test took %v", time.Since(start).Round(time.Millisecond))
}

// checkAndSetInEngine runs the action on an image the job left in the
// runner's engine (pack build, load: true), reached through the socket
// the runner mounts at /var/run/docker.sock, DOCKER_HOST unset in the
// container: a check fails on its empty architecture and changes nothing,
// a set fixes it, and docker image inspect then says linux/amd64 and the
// image ID is the digest output.
func (e *engineRun) checkAndSetInEngine(t *testing.T) {
	d := e.d
	tag := daemonTag(t, d, "example.test/container/daemon")
	d.loadArchive(t, tag, daemonImage(t))
	// The config's digest in the classic store, the manifest's in the
	// containerd store.
	oldID := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag)
	line := "docker-daemon:" + tag

	res := e.runContainer(t, map[string]string{"image": line, "mode": "check"})
	expectExit(t, res, 1)
	expectErrorMentions(t, res, line, "architecture")
	if got := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag); got != oldID {
		t.Errorf("docker image inspect %s = %s after a check, want it left at %s", tag, got, oldID)
	}

	res = e.runContainer(t, map[string]string{"image": line, "platform": "linux/amd64"})
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	got := d.must(t, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{.Id}}", tag)
	t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", oldID) })
	if want := "linux/amd64 " + res.Outputs["digest"]; got != want || res.Outputs["digest"] == oldID {
		t.Errorf("docker image inspect %s = %q after the set, want %q (a new ID, the digest output)", tag, got, want)
	}
	if res.Outputs["changed"] != "true" || res.Outputs["previous-digest"] != oldID {
		t.Errorf("outputs = %v, want changed true and previous-digest %s", res.Outputs, oldID)
	}
}

// TestContainerContainerdStore runs the action in its container on an
// engine with the containerd image store (Docker 29's default), its
// socket mounted as the runner mounts it, on an image in that engine: the
// container test's docker-daemon case, where the image ID is a manifest
// digest. It needs such an engine (SET_IMAGE_PLATFORM_CONTAINERD_HOST, as
// .ci/run starts one) and skips without it.
func TestContainerContainerdStore(t *testing.T) {
	t.Parallel()
	d := containerdEngine(t)
	if d == nil {
		t.Skipf("no engine with the containerd image store: %s is unset", containerdHostEnv)
	}
	newEngineRun(t, d).checkAndSetInEngine(t)
}

// childConfigDigest returns the config digest of the child of index idx
// (in repo) whose entry names architecture arch.
func (r *testRegistry) childConfigDigest(t *testing.T, repo string, idx manifestAt, arch string) string {
	t.Helper()
	var index struct {
		Manifests []struct {
			Digest   string `json:"digest"`
			Platform struct {
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(idx.body, &index); err != nil {
		t.Fatalf("decoding index %s: %v", idx.digest, err)
	}
	for _, m := range index.Manifests {
		if m.Platform.Architecture == arch {
			return r.get(t, repo+"@"+m.Digest).parse(t).Config.Digest
		}
	}
	t.Fatalf("index %s has no %s entry:\n%s", idx.digest, arch, idx.body)
	return ""
}

// runnerUID is the user the runner runs steps as on GitHub's hosted
// runners; the action's container runs as root.
const runnerUID = 1001

// runnerWorkspace makes a workspace as the runner's is: a directory its
// user owns, on a path that user can reach (t.TempDir's parents are 0700).
func runnerWorkspace(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "set-image-platform-workspace-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, runnerUID, runnerUID); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readAsRunnerUser reads path as a later run: step does: as the runner's
// user, from the workspace, with path as given.
func readAsRunnerUser(t *testing.T, workspace, path string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("switching to uid %d needs root; the container tests run as root in CI", runnerUID)
	}
	cmd := exec.Command("cat", "--", path)
	cmd.Dir = workspace
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: runnerUID, Gid: runnerUID}}
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("cat %s as uid %d in the workspace: %v %s", path, runnerUID, err, stderr)
	}
	return string(out)
}
