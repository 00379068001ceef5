package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fromLine matches a FROM instruction: its flags, its image, the rest.
var fromLine = regexp.MustCompile(`(?m)^(FROM\s+(?:--\S+\s+)*)(\S+)(.*)$`)

// standInDockerfile is the repository's Dockerfile with only the images of
// its FROM lines replaced: golang by goImage, distroless/static by
// staticImage. Flags such as --platform are kept: they are under test.
func standInDockerfile(t *testing.T, goImage, staticImage string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
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
	file := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// goStandIn is what the golang image gives the build stage, from this
// machine: a shell (the RUN lines need one) with its libraries, the Go
// toolchain without its tests and commands' sources, the modules go.mod
// needs served from a directory as GOPROXY, and releaseBinary's build
// cache, so that the builds in the container compile nothing and only link
// (a cold build takes minutes on a small machine).
func goStandIn(t *testing.T) *rootfs {
	t.Helper()
	fs := newRootfs()
	shell, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatalf("finding a shell for the Go stand-in: %v", err)
	}
	fs.hostFile(t, "bin/sh", shell)
	ldd, err := exec.Command("ldd", shell).Output()
	if err != nil {
		t.Fatalf("listing the libraries of %s: %v", shell, err)
	}
	for _, f := range strings.Fields(string(ldd)) {
		if strings.HasPrefix(f, "/") {
			fs.hostFile(t, strings.TrimPrefix(f, "/"), f)
		}
	}

	goroot := strings.TrimSpace(goEnv(t, "GOROOT"))
	tools := "pkg/tool/" + runtime.GOOS + "_" + runtime.GOARCH
	fs.hostTree(t, "usr/local/go", goroot, func(rel string, dir bool) bool {
		top, _, _ := strings.Cut(rel, "/")
		switch {
		case rel == "VERSION" || rel == "go.env" || rel == "bin" || rel == "bin/go":
			return true
		case top == "pkg":
			return rel == "pkg" || rel == "pkg/tool" || rel == tools || strings.HasPrefix(rel, "pkg/include") ||
				slices.Contains([]string{"compile", "link", "asm", "buildid"}, strings.TrimPrefix(rel, tools+"/"))
		case top == "src":
			return rel != "src/cmd" && path.Base(rel) != "testdata" && !strings.HasSuffix(rel, "_test.go")
		}
		return false
	})

	// The modules go.mod needs, laid out as a module proxy.
	modcache := filepath.Join(strings.TrimSpace(goEnv(t, "GOMODCACHE")), "cache", "download")
	cmd := exec.Command("go", "mod", "download", "-json")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download -json: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var m struct{ Info, GoMod, Zip string }
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decoding go mod download -json: %v", err)
		}
		for _, f := range []string{m.Info, m.GoMod, m.Zip} {
			rel, err := filepath.Rel(modcache, f)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Fatalf("module file %s is outside %s", f, modcache)
			}
			fs.hostFile(t, path.Join("goproxy", filepath.ToSlash(rel)), f)
		}
	}

	cache, err := releaseGoCache()
	if err != nil {
		t.Fatal(err)
	}
	fs.hostTree(t, "root/.cache/go-build", cache, nil)
	fs.dir(t, "tmp", 0o1777)
	return fs
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return string(out)
}

// buildkitCLI returns a docker CLI on PATH that builds with BuildKit: one
// with the buildx plugin, or one from before 23.0, which drives the
// engine's own BuildKit. Newer CLIs without buildx refuse DOCKER_BUILDKIT=1.
func buildkitCLI(t *testing.T) string {
	t.Helper()
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p, err := filepath.EvalSymlinks(filepath.Join(dir, "docker"))
		if err != nil || seen[p] {
			continue
		}
		seen[p] = true
		if exec.Command(p, "buildx", "version").Run() == nil {
			return p
		}
		out, err := exec.Command(p, "version", "--format", "{{.Client.Version}}").Output()
		major, _, _ := strings.Cut(strings.TrimSpace(string(out)), ".")
		if n, convErr := strconv.Atoi(major); err == nil && convErr == nil && n < 23 {
			return p
		}
	}
	if os.Getenv(requireDockerEnv) == "1" {
		t.Fatalf("no docker CLI on PATH builds with BuildKit (buildx plugin, or a CLI before 23.0) (%s=1)", requireDockerEnv)
	}
	t.Skipf("no docker CLI on PATH builds with BuildKit (buildx plugin, or a CLI before 23.0)")
	return ""
}

// TestDockerfileBuilders builds the Dockerfile as the runner does (docker
// build -f Dockerfile on the repository), with BuildKit and with the classic
// builder, its base images replaced by stand-ins made on this machine, and
// checks that each image runs and says the version it was built with.
func TestDockerfileBuilders(t *testing.T) {
	t.Parallel()
	d := requireDocker(t)
	bk := buildkitCLI(t)
	once(t, releaseBinary) // fills the build cache the Go stand-in carries
	id := randomHex(t, "", 3)
	goImage, staticImage := "set-image-platform-e2e-"+id+":golang", "set-image-platform-e2e-"+id+":static"
	d.load(t, goImage, goStandIn(t), v1.Config{
		Env: []string{
			"PATH=/usr/local/go/bin:/go/bin:/usr/bin:/bin", "GOPATH=/go", "GOCACHE=/root/.cache/go-build",
			"GOPROXY=file:///goproxy", "GOSUMDB=off", "GOTOOLCHAIN=local",
		},
		Cmd: []string{"/bin/sh"},
		// The classic builder leaves the build stage behind as an untagged
		// image; it inherits this label, by which the cleanup finds it.
		Labels: map[string]string{"set-image-platform-e2e": id},
	})
	d.load(t, staticImage, staticRootfs(t), v1.Config{})
	t.Cleanup(func() {
		d.run(t, nil, nil, "image", "rm", "--force", goImage, staticImage)
		d.run(t, nil, nil, "image", "prune", "--force", "--filter", "label=set-image-platform-e2e="+id)
	})
	dockerfile := standInDockerfile(t, goImage, staticImage)

	for _, b := range []struct {
		name string
		cli  string
		env  []string
	}{
		{"classic", d.cli, []string{"DOCKER_BUILDKIT=0"}},
		{"buildkit", bk, []string{"DOCKER_BUILDKIT=1"}},
	} {
		t.Run(b.name, func(t *testing.T) {
			tag := "set-image-platform-e2e-" + id + ":" + b.name
			builder := &dockerEngine{cli: b.cli, socket: d.socket}
			res := builder.run(t, b.env, nil, "build", "-t", tag, "-f", dockerfile, "--build-arg", "VERSION="+containerVersion, "..")
			if res.ExitCode != 0 {
				t.Fatalf("docker build with %s: %s", b.env, res)
			}
			t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", tag) })
			got := d.must(t, "run", "--rm", tag, "--version")
			if want := "set-image-platform " + containerVersion; got != want {
				t.Errorf("docker run %s --version = %q, want %q", tag, got, want)
			}
			platform := d.must(t, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{json .Config.Entrypoint}} {{.Size}}", tag)
			if want := "linux/" + runtime.GOARCH + ` ["/set-image-platform"]`; !strings.HasPrefix(platform, want+" ") {
				t.Errorf("image %s = %q, want %q and its size", tag, platform, want)
			}
			t.Logf("image %s: %s", tag, platform)
			logBuildSteps(t, res)
		})
	}
}

// logBuildSteps logs the builder's step lines, to show what ran.
func logBuildSteps(t *testing.T, res Result) {
	t.Helper()
	var steps []string
	sc := bufio.NewScanner(strings.NewReader(res.Stdout + res.Stderr))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "Step ") || strings.HasPrefix(l, "#") && strings.Contains(l, "[") {
			steps = append(steps, l)
		}
	}
	t.Logf("build steps:\n%s", strings.Join(steps, "\n"))
}
