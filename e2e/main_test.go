package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
)

// Paths of the binaries built once by TestMain; read-only afterwards.
var (
	binaryPath string
	cranePath  string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// Distribution logs every request through logrus; the tests print
	// their own request lists instead.
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.PanicLevel)

	dir, err := os.MkdirTemp("", "set-image-platform-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating build directory:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binaryPath = filepath.Join(dir, "set-image-platform")
	cranePath = filepath.Join(dir, "crane")

	builds := []struct {
		what string
		cmd  *exec.Cmd
	}{
		// The binary from the repository root, as the Dockerfile builds it.
		{"set-image-platform", goBuild("..", binaryPath, ".")},
		// crane at the go-containerregistry version of this module.
		{"crane", goBuild(".", cranePath, "github.com/google/go-containerregistry/cmd/crane")},
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := b.cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("building %s: %w\n%s", b.what, err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

func goBuild(dir, out, pkg string) *exec.Cmd {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd
}
