//go:build ignore

// gen cross-compiles hello/main.go into the executables that the tests of
// internal/detect read. Run it from the repository root:
//
//	go run testdata/binaries/gen.go
//
// The flags make the output reproducible for a given Go version: no cgo,
// no symbol tables or DWARF (-s -w), no file system paths (-trimpath) and no
// VCS stamp (-buildvcs=false).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

var targets = []struct{ goos, goarch, goarm string }{
	{"linux", "amd64", ""},
	{"linux", "arm64", ""},
	{"linux", "arm", "7"},
	{"linux", "riscv64", ""},
	{"windows", "amd64", ""},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := filepath.Join("testdata", "binaries")
	for _, t := range targets {
		out := fmt.Sprintf("hello-%s-%s", t.goos, t.goarch)
		if t.goos == "windows" {
			out += ".exe"
		}
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
			"-ldflags=-s -w", "-o", filepath.Join("..", out), ".")
		cmd.Dir = filepath.Join(dir, "hello")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.goos,
			"GOARCH="+t.goarch, "GOARM="+t.goarm, "GOFLAGS=")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s: %w", out, err)
		}
		fmt.Println("wrote", filepath.Join(dir, out))
	}
	return nil
}
