package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// packVersion is the pack release the suite builds. Its module has a replace
// directive, so `go install` refuses it; it is built from its module source.
const packVersion = "v0.40.3"

// tools holds the paths of the clients the suite runs. crane and regctl are
// this module's tools (go.mod pins their versions); skopeo, podman and docker
// come from the system.
type tools struct {
	tool, pack, crane, regctl string
	podman                    bool     // podman is on PATH
	docker                    []string // environment that points docker at an engine
}

// buildTools builds the tool from the repository root, crane and regctl from
// this module, and pack from its module source, side by side.
func buildTools(t *testing.T) tools {
	t.Helper()
	for _, name := range []string{"skopeo", "docker", "go"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Fatalf("finding %s: %v (the suite needs it on PATH)", name, err)
		}
	}
	bin := t.TempDir()
	ts := tools{
		tool:   filepath.Join(bin, "set-image-platform"),
		pack:   filepath.Join(bin, "pack"),
		crane:  filepath.Join(bin, "crane"),
		regctl: filepath.Join(bin, "regctl"),
	}
	_, err := exec.LookPath("podman")
	ts.podman = err == nil
	builds := []func() error{
		func() error { return goBuild("..", ts.tool, ".") },
		func() error { return goBuild(".", ts.crane, "github.com/google/go-containerregistry/cmd/crane") },
		func() error { return goBuild(".", ts.regctl, "github.com/regclient/regclient/cmd/regctl") },
		func() error { return buildPack(t.TempDir(), ts.pack) },
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, build := range builds {
		wg.Go(func() { errs[i] = build() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ts
}

// buildPack downloads pack's module source and builds it in a writable copy,
// with the module's own go.mod (and so its replace directive).
func buildPack(work, out string) error {
	mod := "github.com/buildpacks/pack@" + packVersion
	dir, err := moduleSource(mod)
	if err != nil {
		return err
	}
	src := filepath.Join(work, "pack")
	if err := os.CopyFS(src, os.DirFS(dir)); err != nil {
		return fmt.Errorf("copying %s: %w", mod, err)
	}
	return goBuild(src, out, ".")
}

// moduleSource downloads a module at an exact version (the proxy answers
// no version lists) and returns the directory of its source, read-only.
func moduleSource(mod string) (string, error) {
	raw, err := exec.Command("go", "mod", "download", "-json", mod).Output()
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", mod, err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(raw, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("reading the download of %s: %q: %v", mod, raw, err)
	}
	return info.Dir, nil
}

func goBuild(dir, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s in %s: %w\n%s", pkg, dir, err, b)
	}
	return nil
}

// run runs a command with extra environment and returns its standard output;
// a failure carries the first line of standard error, as a user sees it.
func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Logf("$ %s %s", filepath.Base(name), strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return stdout.String(), &cmdError{err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

// must is run that fails the test on error.
func must(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	return out
}

// cmdError is a failed command with what it said on standard error.
type cmdError struct {
	err    error
	stderr string
}

func (e *cmdError) Error() string { return fmt.Sprintf("%v: %s", e.err, strings.TrimSpace(e.stderr)) }

// said is the message a user reads: the last non-empty line of standard
// error, without a logger's time and level, or the error itself.
func said(err error) string {
	ce, ok := err.(*cmdError)
	if !ok {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(ce.stderr), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return ce.err.Error()
	}
	// logrus: time="…" level=fatal msg="…"
	if _, msg, ok := strings.Cut(last, " msg="); ok {
		if s, err := strconv.Unquote(msg); err == nil {
			return s
		}
	}
	return last
}
