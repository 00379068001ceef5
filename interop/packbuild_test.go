package interop

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

// lifecycleVersion is the lifecycle pack v0.40.3 uses when a builder names
// none (its go.mod and builder.DefaultLifecycleVersion). No lifecycle image
// can be pulled here, so the suite builds it from its module source and
// packages it as the lifecycle release tarball pack reads.
const lifecycleVersion = "v0.21.0"

// TestPackBuildFixed builds an app with `pack build` into the Docker engine,
// everything from local files: a lifecycle built from source, a build image
// made by `docker build`, a buildpack of static Go executables that puts a
// static "hello" in a launch layer. pack copies the run image's platform
// into the app (lifecycle's exporter takes `docker image inspect`'s
// Architecture of the run image): a run image made by `docker build` gives
// a linux/amd64 app, which `mode: check` passes; a run image whose config
// says "architecture": "" gives an app that says it too, which `docker run
// --platform linux/amd64` cannot find. The tool, run as the runner runs
// the action on `docker-daemon:APP`, fails it in `mode: check` with nothing
// changed, then sets linux/amd64 in place: `docker image inspect` shows the
// platform at the `digest` output, which is the unfixed config with only
// the architecture filled in, and `docker run --platform linux/amd64`
// starts it.
func TestPackBuildFixed(t *testing.T) {
	start := time.Now()
	docker := dockerEnv(t)
	bin := t.TempDir()
	tool, pack := filepath.Join(bin, "set-image-platform"), filepath.Join(bin, "pack")
	var lifecycle string
	builds := []func() (err error){
		func() error { return goBuild("..", tool, ".") },
		func() error { return buildPack(t.TempDir(), pack) },
		func() (err error) { lifecycle, err = buildLifecycle(t.TempDir()); return err },
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, build := range builds {
		wg.Go(func() { errs[i] = build() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("tool, pack and lifecycle %s built, engine up in %s", lifecycleVersion, time.Since(start).Round(time.Second))

	id := fmt.Sprintf("%d", time.Now().UnixNano()%1e6)
	name := func(s string) string { return "interop-pack-" + s + ":" + id }
	cache := func(s string) string { return "interop-pack-cache-" + id + s }
	// On an engine the suite did not start, leave no image or volume
	// behind (pack build's caches are volumes; named here, not hashed).
	t.Cleanup(func() {
		_, _ = run(t, docker, "docker", "image", "rm", "--force", name("build"), name("run"), name("run-empty"),
			name("builder"), name("builder-empty"), name("app"), name("app-empty"))
		_, _ = run(t, docker, "docker", "volume", "rm", "--force", cache(".build"), cache(".launch"), cache("-empty.build"), cache("-empty.launch"))
	})
	rootfs := stackRootfs(t)
	buildImage(t, docker, name("build"), rootfs, cnbEnv(t, docker))
	buildImage(t, docker, name("run"), rootfs, nil)
	loadEmptyRunImage(t, docker, name("run-empty"), rootfs)
	bp := newAppBuildpack(t)
	p := newPacker(t, pack)
	p.env = append(p.env, docker...) // the last DOCKER_HOST wins
	app := t.TempDir()
	write(t, filepath.Join(app, "README"), "an app the buildpack does not read\n", 0o644)
	for _, v := range []string{"", "-empty"} {
		p.createBuilder(t, name("builder"+v), bp, name("build"), name("run"+v), lifecycle)
		p.build(t, name("app"+v), name("builder"+v), app, cache(v))
	}
	rep := &report{}

	// The run image made by docker build: pack gives linux/amd64, the check
	// passes.
	if got := inspectPlatform(t, docker, name("app")); got != "linux/amd64" {
		t.Errorf("pack build on a run image made by docker build: platform %q, want linux/amd64", got)
	}
	expectCheckPasses(t, tool, docker, name("app"))

	// The run image whose architecture is empty: so is the app's.
	appEmpty := name("app-empty")
	if got := inspectPlatform(t, docker, appEmpty); got != "linux/" {
		t.Fatalf("pack build on a run image with \"architecture\": \"\": platform %q, want linux/ (architecture empty)", got)
	}
	before := savedConfig(t, docker, appEmpty)
	beforeID := imageID(t, docker, appEmpty)
	// The fix leaves the unfixed image untagged, as docker load does.
	t.Cleanup(func() { _, _ = run(t, docker, "docker", "image", "rm", "--force", beforeID) })
	plainBefore := dockerRun(t, docker, appEmpty)
	_, refused := run(t, docker, "docker", "run", "--rm", "--network", "none", "--platform", "linux/amd64", appEmpty)
	if refused == nil {
		t.Errorf("docker run --platform linux/amd64 of the app whose architecture is empty started, want a refusal")
	}
	rep.add("pack build", packVersion+", lifecycle "+lifecycleVersion+" (built from their module source)",
		"`pack build APP --builder BUILDER --pull-policy never --trust-builder` (the builder's run image says `\"architecture\":\"\"`)",
		"architecture `\"\"`, os `linux`: the run image's, copied", "with a run image made by `docker build`: linux/amd64, and `mode: check` passes")

	images := dockerImages(t, docker)
	check := runActionEnv(t, tool, t.TempDir(), docker, map[string]string{"image": "docker-daemon:" + appEmpty, "mode": "check", "platform": "linux/amd64"})
	if check.exit != 1 || check.errors() != 1 || !strings.Contains(check.firstError(), "lacks an os or architecture") {
		t.Errorf("mode: check of the app whose architecture is empty: exit %d with %d ::error:: lines, want exit 1 with one saying the architecture is missing\n%s", check.exit, check.errors(), check)
	}
	if got := dockerImages(t, docker); got != images {
		t.Errorf("docker images after mode: check:\n%s\nwant as before:\n%s", got, images)
	}

	set := runActionEnv(t, tool, t.TempDir(), docker, map[string]string{"image": "docker-daemon:" + appEmpty, "platform": "linux/amd64"})
	if set.exit != 0 {
		t.Fatalf("mode: set, platform: linux/amd64 on docker-daemon:%s: exit %d\n%s", appEmpty, set.exit, set)
	}
	afterID := imageID(t, docker, appEmpty)
	if got := inspectPlatform(t, docker, appEmpty); got != "linux/amd64" {
		t.Errorf("docker image inspect after the fix: platform %q, want linux/amd64", got)
	}
	if set.outputs["digest"] != afterID || set.outputs["changed"] != "true" {
		t.Errorf("outputs digest=%q changed=%q, want digest=%s (docker image inspect's Id) changed=true", set.outputs["digest"], set.outputs["changed"], afterID)
	}
	// The fixed config is the one pack wrote with only the architecture
	// filled in: every other byte is kept.
	want := strings.Replace(string(before), `"architecture":""`, `"architecture":"amd64"`, 1)
	if got := savedConfig(t, docker, appEmpty); string(got) != want {
		t.Errorf("config after the fix:\n%s\nwant the one pack wrote with only the architecture set:\n%s", got, want)
	}
	expectCheckPasses(t, tool, docker, appEmpty)
	out, err := run(t, docker, "docker", "run", "--rm", "--network", "none", "--platform", "linux/amd64", appEmpty)
	if err != nil || strings.TrimSpace(out) != helloSays {
		t.Errorf("docker run --platform linux/amd64 of the fixed app = %q, %v, want %q", out, err, helloSays)
	}
	rep.add("set-image-platform", "this commit",
		"`image: docker-daemon:APP`, `mode: check`, then `platform: linux/amd64` (the action, on pack's app in the engine)",
		fmt.Sprintf("check: exit %d, %s; nothing loaded or tagged", check.exit, code(oneLine(check.firstError(), appEmpty))),
		"Id `"+short(beforeID)+"` → `"+short(afterID)+"` = `digest` output; `docker image inspect`: linux/amd64; only `architecture` changed in the config")
	rep.add("docker run", dockerVersion(t, docker), "`docker run --rm --platform linux/amd64 APP`",
		"refused: "+code(oneLine(firstLine(refused), appEmpty)), "starts: `"+helloSays+"`")
	plainAfter := dockerRun(t, docker, appEmpty)
	if plainAfter != "exit 0: "+helloSays {
		t.Errorf("docker run (no --platform) of the fixed app: %s, want exit 0: %s (no warning)", plainAfter, helloSays)
	}
	rep.add("docker run", dockerVersion(t, docker), "`docker run --rm APP` (no `--platform`)",
		code(oneLine(plainBefore, appEmpty)), code(plainAfter))
	rep.write(t)
	t.Logf("pack build story: %s", time.Since(start).Round(time.Second))
}

// expectCheckPasses runs the action with `mode: check`, `platform:
// linux/amd64` on docker-daemon:name, which must pass.
func expectCheckPasses(t *testing.T, tool string, docker []string, name string) {
	t.Helper()
	if res := runActionEnv(t, tool, t.TempDir(), docker, map[string]string{"image": "docker-daemon:" + name, "mode": "check", "platform": "linux/amd64"}); res.exit != 0 {
		t.Errorf("mode: check of docker-daemon:%s: exit %d, want 0\n%s", name, res.exit, res)
	}
}

// firstLine is the first line a failed command printed on standard error:
// docker run's says which image it did not find, before the pull it tries.
func firstLine(err error) string {
	var ce *cmdError
	if !errors.As(err, &ce) {
		return fmt.Sprint(err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(ce.stderr), "\n")
	return line
}

// dockerRun runs an image without --platform and returns its exit code and
// everything docker and the image printed, on one line.
func dockerRun(t *testing.T, docker []string, name string) string {
	t.Helper()
	cmd := exec.Command("docker", "run", "--rm", "--network", "none", name)
	cmd.Env = append(os.Environ(), docker...)
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("docker run %s: %v", name, err)
	}
	return fmt.Sprintf("exit %d: %s", cmd.ProcessState.ExitCode(), strings.Join(strings.Fields(string(out)), " "))
}

// helloSays is what the app prints.
const helloSays = "hello from pack build"

// buildLifecycle builds the lifecycle (its phases are one executable named
// detector, analyzer, ..., creator by symlinks, and a launcher of its own)
// for linux/amd64 from its module source, statically, and packages it with
// the lifecycle's own packager as a release tarball: lifecycle.toml (the
// APIs it supports) and lifecycle/. It returns the tarball's path.
func buildLifecycle(work string) (string, error) {
	mod := "github.com/buildpacks/lifecycle@" + lifecycleVersion
	src, err := moduleSource(mod)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(work, "lifecycle")
	for _, c := range []struct{ out, pkg, goarch string }{
		{filepath.Join(dir, "lifecycle"), "./cmd/lifecycle", "amd64"},
		{filepath.Join(dir, "launcher"), "./cmd/launcher", "amd64"},
		{filepath.Join(work, "packager"), "./tools/packager", ""}, // runs here
	} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", c.out,
			"-ldflags", "-s -w -X github.com/buildpacks/lifecycle/cmd.Version="+strings.TrimPrefix(lifecycleVersion, "v"), c.pkg)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
		if c.goarch != "" {
			cmd.Env = append(cmd.Env, "GOOS=linux", "GOARCH="+c.goarch)
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("building %s of %s: %w\n%s", c.pkg, mod, err, b)
		}
	}
	for _, phase := range []string{"detector", "analyzer", "restorer", "builder", "exporter", "rebaser", "creator", "extender"} {
		if err := os.Symlink("lifecycle", filepath.Join(dir, phase)); err != nil {
			return "", err
		}
	}
	tgz := filepath.Join(work, "lifecycle.tgz")
	cmd := exec.Command(filepath.Join(work, "packager"), "-archivePath", tgz, "-descriptorPath", filepath.Join(src, "lifecycle.toml"),
		"-inputDir", dir, "-version", strings.TrimPrefix(lifecycleVersion, "v"))
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("packaging the lifecycle: %w\n%s", err, b)
	}
	return tgz, nil
}

// stackRootfs is the one layer of the build and run images: the CNB user
// (1000:1000) in /etc/passwd and /etc/group, and a /tmp every user can
// write to (the detector writes its plan there).
func stackRootfs(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(315532801, 0)
	for _, e := range []struct {
		name string
		mode int64
		body string
	}{
		{"etc/", 0o755, ""},
		{"etc/passwd", 0o644, "root:x:0:0:root:/root:/sbin/nologin\ncnb:x:1000:1000:cnb:/home/cnb:/sbin/nologin\n"},
		{"etc/group", 0o644, "root:x:0:\ncnb:x:1000:\n"},
		{"tmp/", 0o1777, ""},
	} {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg, ModTime: mtime}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stackLabel is what pack's builder create reads of the stack.
const stackLabel = "io.buildpacks.stack.id=interop.hello"

// buildImage makes an image FROM scratch with `docker build`, the layer
// rootfs, the CNB user, and env, as the classic builder (or BuildKit) on
// this machine writes it: its architecture is the engine's.
func buildImage(t *testing.T, docker []string, name string, rootfs []byte, env []string) {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "rootfs.tar"), string(rootfs), 0o644)
	dockerfile := "FROM scratch\nADD rootfs.tar /\nLABEL " + stackLabel + "\nUSER 1000:1000\n"
	if len(env) > 0 {
		dockerfile += "ENV " + strings.Join(env, " ") + "\n"
	}
	write(t, filepath.Join(dir, "Dockerfile"), dockerfile, 0o644)
	must(t, docker, "docker", "build", "-q", "-t", name, dir)
}

// cnbEnv is the build image's environment: the CNB user, and, for an
// engine older than API 1.44 (Docker 25), DOCKER_API_VERSION. lifecycle
// v0.21.0's Docker client refuses older engines when it negotiates
// ("client version 1.52 is too new. Maximum supported API version is
// 1.41" from Engine 20.10); the lifecycle's container inherits the
// builder's environment, and a version set there is used as given.
func cnbEnv(t *testing.T, docker []string) []string {
	t.Helper()
	env := []string{"CNB_USER_ID=1000", "CNB_GROUP_ID=1000"}
	v := strings.TrimSpace(must(t, docker, "docker", "version", "--format", "{{.Server.APIVersion}}"))
	major, minor, _ := strings.Cut(v, ".")
	if n, err := strconv.Atoi(minor); major == "1" && err == nil && n < 44 {
		env = append(env, "DOCKER_API_VERSION="+v)
	}
	return env
}

// loadEmptyRunImage loads, with `docker load` of an archive written here, a
// run image like the one buildImage makes but whose config says
// "architecture": "", as configs written by hand or by tools that leave it
// out do (docker build and docker import always write the engine's).
func loadEmptyRunImage(t *testing.T, docker []string, name string, rootfs []byte) {
	t.Helper()
	label, value, _ := strings.Cut(stackLabel, "=")
	config := fmt.Appendf(nil, `{"architecture":"","os":"linux","config":{"User":"1000:1000","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Labels":{%q:%q}},"rootfs":{"type":"layers","diff_ids":[%q]}}`,
		label, value, sha(rootfs))
	hex := strings.TrimPrefix(sha(config), "sha256:")
	archive := writeLayout(t, imageref.DockerArchive, "", []layoutFile{
		{"layer.tar", rootfs},
		{hex + ".json", config},
		{"manifest.json", fmt.Appendf(nil, `[{"Config":"%s.json","RepoTags":[%q],"Layers":["layer.tar"]}]`, hex, name)},
	})
	must(t, docker, "docker", "load", "-i", archive)
}

// newAppBuildpack writes a buildpack whose bin/detect and bin/build are one
// static Go executable (the images have no shell): build copies the
// buildpack's static "hello" into a launch layer's bin and makes it the
// default process.
func newAppBuildpack(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	goEnv := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOWORK=off", "GOFLAGS=-trimpath"}
	for _, p := range []struct{ main, out string }{
		{"package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(" + strconv.Quote(helloSays) + ") }\n", "hello"},
		{buildpackMain, "bin/build"},
	} {
		src := t.TempDir()
		write(t, filepath.Join(src, "go.mod"), "module app\n\ngo 1.22\n", 0o644)
		write(t, filepath.Join(src, "main.go"), p.main, 0o644)
		must(t, goEnv, "go", "-C", src, "build", "-o", filepath.Join(dir, p.out), ".")
	}
	b, err := os.ReadFile(filepath.Join(dir, "bin", "build"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "bin", "detect"), string(b), 0o755)
	write(t, filepath.Join(dir, "buildpack.toml"), "api = \"0.10\"\n\n[buildpack]\n  id = \"interop/hello-app\"\n  version = \"0.0.1\"\n", 0o644)
	return dir
}

// buildpackMain is the buildpack: detect passes, build writes the layer
// (Buildpack API 0.10: CNB_LAYERS_DIR, CNB_BUILDPACK_DIR) and launch.toml.
const buildpackMain = `package main

import (
	"os"
	"path/filepath"
)

func main() {
	if filepath.Base(os.Args[0]) == "detect" {
		return
	}
	layers := os.Getenv("CNB_LAYERS_DIR")
	app, err := os.ReadFile(filepath.Join(os.Getenv("CNB_BUILDPACK_DIR"), "hello"))
	check(err)
	check(os.MkdirAll(filepath.Join(layers, "hello", "bin"), 0o755))
	check(os.WriteFile(filepath.Join(layers, "hello", "bin", "hello"), app, 0o755))
	check(os.WriteFile(filepath.Join(layers, "hello.toml"), []byte("[types]\nlaunch = true\n"), 0o644))
	check(os.WriteFile(filepath.Join(layers, "launch.toml"), []byte("[[processes]]\ntype = \"web\"\ncommand = [\"hello\"]\ndefault = true\n"), 0o644))
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
`

// createBuilder runs `pack builder create` from local images only: the
// build and run images in the engine, the buildpack's directory, the
// lifecycle tarball.
func (p packer) createBuilder(t *testing.T, name, buildpack, build, run, lifecycle string) {
	t.Helper()
	config := filepath.Join(t.TempDir(), "builder.toml")
	write(t, config, fmt.Sprintf(`[[buildpacks]]
  uri = %q

[[order]]
  [[order.group]]
    id = "interop/hello-app"
    version = "0.0.1"

[build]
  image = %q

[run]
  [[run.images]]
    image = %q

[lifecycle]
  uri = %q
`, buildpack, build, run, "file://"+lifecycle), 0o644)
	must(t, p.env, p.path, "builder", "create", name, "--config", config, "--pull-policy", "never")
}

// build runs `pack build` into the engine. pack runs the lifecycle in a
// container of the builder with the engine's socket mounted: --docker-host
// inherit mounts the one DOCKER_HOST names (by default pack mounts
// /var/run/docker.sock, which is not this engine's); --network none, as the
// suite's engine has no bridge and nothing is fetched. The build and
// launch caches are the volumes cache.build and cache.launch.
func (p packer) build(t *testing.T, name, builder, app, cache string) {
	t.Helper()
	must(t, p.env, p.path, "build", name, "--builder", builder, "--path", app,
		"--pull-policy", "never", "--trust-builder", "--network", "none", "--docker-host", "inherit",
		"--cache", "type=build;format=volume;name="+cache+".build", "--cache", "type=launch;format=volume;name="+cache+".launch")
}

// inspectPlatform is docker image inspect's os/architecture[/variant].
func inspectPlatform(t *testing.T, docker []string, name string) string {
	t.Helper()
	return strings.TrimSpace(must(t, docker, "docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}{{with .Variant}}/{{.}}{{end}}", name))
}

func imageID(t *testing.T, docker []string, name string) string {
	t.Helper()
	return strings.TrimSpace(must(t, docker, "docker", "image", "inspect", "--format", "{{.Id}}", name))
}

// dockerImages is every image of the engine, with its ID.
func dockerImages(t *testing.T, docker []string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(must(t, docker, "docker", "images", "--all", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")), "\n")
	slices.Sort(lines) // the engine lists them in no fixed order
	return strings.Join(lines, "\n")
}

// savedConfig is the config of an image as the engine holds it: the file
// docker save's manifest.json names (<id>.json in the classic store,
// blobs/sha256/<digest> in the containerd one). JSON files and small blobs
// are kept until manifest.json comes, which engines write late.
func savedConfig(t *testing.T, docker []string, name string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "saved.tar")
	must(t, docker, "docker", "save", "-o", p, name)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	for tr := tar.NewReader(f); ; {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading docker save of %s: %v", name, err)
		}
		if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = b
		}
	}
	var manifest []struct{ Config string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 || files[manifest[0].Config] == nil {
		t.Fatalf("docker save of %s: manifest.json %q (%v), want one image whose config is in the archive", name, files["manifest.json"], err)
	}
	return files[manifest[0].Config]
}

func dockerVersion(t *testing.T, docker []string) string {
	t.Helper()
	return strings.TrimSpace(must(t, docker, "docker", "version", "--format", "{{.Client.Version}} (engine {{.Server.Version}})"))
}

// oneLine is s with the image's name as APP, for the report.
func oneLine(s, name string) string { return strings.ReplaceAll(s, name, "APP") }

// short is an image ID's first 12 hex digits, as docker images shows it.
func short(id string) string {
	hex := strings.TrimPrefix(id, "sha256:")
	return hex[:min(12, len(hex))]
}
