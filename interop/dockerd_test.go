package interop

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dockerEnv returns the environment that points the docker CLI at an engine.
// INTEROP_DOCKER_HOST names one that runs already (as on a GitHub runner,
// whose engine is the runner's); otherwise the suite starts its own, isolated
// from any other engine on the machine, which needs root and dockerd. An
// engine pulls from a registry on 127.0.0.0/8 over plain HTTP by default.
func dockerEnv(t *testing.T) []string {
	t.Helper()
	if host := os.Getenv("INTEROP_DOCKER_HOST"); host != "" {
		return []string{"DOCKER_HOST=" + host}
	}
	if os.Geteuid() != 0 {
		t.Fatal("starting dockerd needs root; set INTEROP_DOCKER_HOST to use a running engine")
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		t.Fatalf("finding dockerd: %v (set INTEROP_DOCKER_HOST to use a running engine)", err)
	}
	// Not t.TempDir: an engine may leave mounts behind that make its
	// removal fail; short paths keep the socket under the length limit.
	root, err := os.MkdirTemp("", "interop-docker-")
	if err != nil {
		t.Fatal(err)
	}
	execRoot, err := os.MkdirTemp("", "interop-docker-exec-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(root, "docker.sock")
	cmd := exec.Command(dockerd,
		"--data-root", filepath.Join(root, "data"), "--exec-root", execRoot,
		"--pidfile", filepath.Join(root, "pid"), "--host", "unix://"+sock,
		"--bridge="+ownBridge(t), "--iptables=false", "--ip6tables=false")
	logFile, err := os.Create(filepath.Join(root, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dockerd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		_ = os.RemoveAll(execRoot)
		_ = os.RemoveAll(root)
	})
	env := []string{"DOCKER_HOST=unix://" + sock}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := exec.Command("docker", "-H", "unix://"+sock, "version").Output(); err == nil {
			return env
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(root, "dockerd.log"))
			t.Fatalf("dockerd did not answer within 60s; its log:\n%s", log)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// ownBridge makes a network bridge for one engine, removed at the end of
// the test. With --bridge=none, dockerd deletes the machine's docker0 as it
// starts, cutting every other engine's containers (a person's own among
// them) off their network. Its name and subnet are drawn at random, so
// that engines started at once do not share them.
func ownBridge(t *testing.T) string {
	t.Helper()
	var n int
	var name string
	for try := 0; ; try++ {
		n = rand.IntN(250) + 1
		name = fmt.Sprintf("sipit%d", n)
		out, err := exec.Command("ip", "link", "add", "name", name, "type", "bridge").CombinedOutput()
		if err == nil {
			break
		}
		if try == 4 {
			t.Fatalf("making a bridge for the engine: ip link add %s: %v\n%s", name, err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "delete", name, "type", "bridge").Run() })
	for _, args := range [][]string{
		{"addr", "add", fmt.Sprintf("10.254.%d.1/24", n), "dev", name},
		{"link", "set", name, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("making a bridge for the engine: ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return name
}

// TestOwnEngineLeavesDocker0: the engine the suite starts leaves the
// machine's docker0, which another engine's containers use, in place.
func TestOwnEngineLeavesDocker0(t *testing.T) {
	if os.Getenv("INTEROP_DOCKER_HOST") != "" {
		t.Skip("the suite uses an engine it did not start")
	}
	if _, err := net.InterfaceByName("docker0"); err != nil {
		t.Skip("this machine has no docker0 to keep")
	}
	dockerEnv(t)
	if _, err := net.InterfaceByName("docker0"); err != nil {
		t.Errorf("after the suite's engine started, docker0: %v, want it still there", err)
	}
}
