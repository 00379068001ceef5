package interop

import (
	"os"
	"path/filepath"
	"testing"
)

// The buildpack declares no targets (and no stacks), as many buildpacks in
// the wild do: pack then leaves the package's architecture empty.
const (
	buildpackTOML = `api = "0.10"

[buildpack]
  id = "interop/hello"
  version = "0.0.1"
`
	packageTOML = `[buildpack]
  uri = "."

[platform]
  os = "linux"
`
	detectScript = "#!/bin/sh\nexit 0\n"
	helloMain    = "package main\n\nfunc main() { println(\"hello\") }\n"
)

// newBuildpack writes a buildpack whose bin/build is a small static
// linux/goarch executable (what `platform: auto` reads) and bin/detect a
// script, and returns its directory, which holds package.toml.
func newBuildpack(t *testing.T, goarch string) string {
	t.Helper()
	src := t.TempDir()
	write(t, filepath.Join(src, "go.mod"), "module hello\n\ngo 1.22\n", 0o644)
	write(t, filepath.Join(src, "main.go"), helloMain, 0o644)
	dir := t.TempDir()
	must(t, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch, "GOWORK=off", "GOFLAGS=-trimpath"},
		"go", "-C", src, "build", "-o", filepath.Join(dir, "bin", "build"), ".")
	write(t, filepath.Join(dir, "bin", "detect"), detectScript, 0o755)
	write(t, filepath.Join(dir, "buildpack.toml"), buildpackTOML, 0o644)
	write(t, filepath.Join(dir, "package.toml"), packageTOML, 0o644)
	return dir
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// packer runs pack with a home of its own and no Docker engine: a buildpack
// package published to a registry needs none.
type packer struct {
	path string
	env  []string
}

func newPacker(t *testing.T, path string) packer {
	home := t.TempDir()
	return packer{path: path, env: []string{
		"PACK_HOME=" + home, "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"DOCKER_HOST=unix://" + filepath.Join(home, "no-engine.sock"),
	}}
}

// publish runs `pack buildpack package ref --config package.toml --publish`
// in dir, with extra flags such as --target.
func (p packer) publish(t *testing.T, dir, ref string, flags ...string) {
	t.Helper()
	args := append([]string{"buildpack", "package", ref, "--config", filepath.Join(dir, "package.toml"), "--publish"}, flags...)
	must(t, p.env, p.path, args...)
}
