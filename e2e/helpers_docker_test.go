package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// requireDockerEnv set to 1 (as .ci/run sets it) turns "no container
// engine" from a skip into a failure.
const requireDockerEnv = "SET_IMAGE_PLATFORM_REQUIRE_DOCKER"

// caBundle is where Debian-like hosts keep the CA certificates that the
// images of these tests carry, as distroless/static does.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// dockerEngine is a reachable Docker engine and the CLI that talks to it.
type dockerEngine struct {
	cli string
	// socket is the engine's socket on this machine, mounted into the
	// action's container as /var/run/docker.sock like the runner does.
	socket string
	// host, when set, is the DOCKER_HOST the CLI is given: another engine
	// than the environment's.
	host string
}

// requireDocker returns the engine, or skips tb saying why there is none;
// with SET_IMAGE_PLATFORM_REQUIRE_DOCKER=1 it fails tb instead.
func requireDocker(tb testing.TB) *dockerEngine {
	tb.Helper()
	d, err := findDocker()
	if err != nil {
		if os.Getenv(requireDockerEnv) == "1" {
			tb.Fatalf("no container engine (%s=1): %v", requireDockerEnv, err)
		}
		tb.Skipf("no container engine: %v (set %s=1 to make this a failure)", err, requireDockerEnv)
	}
	return d
}

func findDocker() (*dockerEngine, error) {
	cli, err := exec.LookPath("docker")
	if err != nil {
		return nil, fmt.Errorf("finding the docker CLI: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("asking the engine its version: %w: %s", err, bytes.TrimSpace(out))
	}
	socket := "/var/run/docker.sock"
	if h, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://"); ok {
		socket = h
	}
	return &dockerEngine{cli: cli, socket: socket}, nil
}

// run runs the docker CLI with args and extra environment, bounded by
// runTimeout, and returns what it printed; a non-zero exit is only
// res.ExitCode.
func (d *dockerEngine) run(tb testing.TB, env []string, stdin io.Reader, args ...string) Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.cli, args...)
	cmd.Env = os.Environ()
	if d.host != "" {
		cmd.Env = append(cmd.Env, "DOCKER_HOST="+d.host)
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		tb.Fatalf("docker %s did not finish within %v\n%s", strings.Join(args, " "), runTimeout, res)
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	case err != nil:
		tb.Fatalf("running docker %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// must runs docker with args, fails tb unless it succeeds, and returns its
// standard output without the final newline.
func (d *dockerEngine) must(tb testing.TB, args ...string) string {
	tb.Helper()
	res := d.run(tb, nil, nil, args...)
	if res.ExitCode != 0 {
		tb.Fatalf("docker %s: %s", strings.Join(args, " "), res)
	}
	return strings.TrimSuffix(res.Stdout, "\n")
}

// rootfs is the file tree of a one-layer image, built as a tar stream.
type rootfs struct {
	buf  bytes.Buffer
	tw   *tar.Writer
	dirs map[string]bool
}

func newRootfs() *rootfs {
	r := &rootfs{dirs: map[string]bool{}}
	r.tw = tar.NewWriter(&r.buf)
	return r
}

// dir adds directory name (no leading slash) and its parents.
func (r *rootfs) dir(tb testing.TB, name string, mode int64) {
	tb.Helper()
	if name == "." || name == "" || r.dirs[name] {
		return
	}
	r.dir(tb, path.Dir(name), 0o755)
	r.dirs[name] = true
	r.header(tb, &tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: mode})
}

// file adds a regular file with data.
func (r *rootfs) file(tb testing.TB, name string, mode int64, data []byte) {
	tb.Helper()
	r.dir(tb, path.Dir(name), 0o755)
	r.header(tb, &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data))})
	if _, err := r.tw.Write(data); err != nil {
		tb.Fatalf("writing %s into a layer: %v", name, err)
	}
}

// hostFile adds the file at src (symlinks followed) as name.
func (r *rootfs) hostFile(tb testing.TB, name, src string) {
	tb.Helper()
	info, err := os.Stat(src)
	if err != nil {
		tb.Fatalf("reading %s for an image: %v", src, err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Fatalf("reading %s for an image: %v", src, err)
	}
	r.file(tb, name, int64(info.Mode().Perm()), data)
}

// hostTree adds the regular files and directories under src as dst, minus
// those keep refuses (paths relative to src, slash-separated).
func (r *rootfs) hostTree(tb testing.TB, dst, src string, keep func(rel string, dir bool) bool) {
	tb.Helper()
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && keep != nil && !keep(rel, e.IsDir()) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case e.IsDir():
			r.dir(tb, path.Join(dst, rel), 0o755)
		case e.Type().IsRegular():
			r.hostFile(tb, path.Join(dst, rel), p)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("copying %s into a layer: %v", src, err)
	}
}

func (r *rootfs) header(tb testing.TB, h *tar.Header) {
	tb.Helper()
	h.ModTime = time.Unix(0, 0)
	h.Format = tar.FormatPAX
	if err := r.tw.WriteHeader(h); err != nil {
		tb.Fatalf("writing %s into a layer: %v", h.Name, err)
	}
}

// load makes an image of the tree on an empty base (what `FROM scratch`
// gives) for this machine's platform with cfg, and loads it into the engine
// as tag with `docker load`.
func (d *dockerEngine) load(tb testing.TB, tag string, r *rootfs, cfg v1.Config) {
	tb.Helper()
	if err := r.tw.Close(); err != nil {
		tb.Fatal(err)
	}
	// Uncompressed: docker load takes it as is, and gzip of a Go toolchain
	// would take longer than the load itself.
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(r.buf.Bytes(), types.DockerLayer))
	if err != nil {
		tb.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		tb.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = "linux", runtime.GOARCH, cfg
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		tb.Fatal(err)
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		tb.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarball.Write(ref, img, pw)) }()
	res := d.run(tb, nil, pr, "load", "--quiet")
	pr.Close()
	if res.ExitCode != 0 {
		tb.Fatalf("docker load of %s: %s", tag, res)
	}
}

// staticRootfs is what distroless/static gives a static binary: the CA
// certificates, and a /tmp.
func staticRootfs(tb testing.TB) *rootfs {
	tb.Helper()
	r := newRootfs()
	r.hostFile(tb, strings.TrimPrefix(caBundle, "/"), caBundle)
	r.dir(tb, "tmp", 0o1777)
	return r
}

// buildStatic builds the package in directory dir as a static binary into
// out, with extra environment and build flags.
func buildStatic(dir, out string, env []string, flags ...string) error {
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, flags...), ".")...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %w\n%s", dir, err, b)
	}
	return nil
}
