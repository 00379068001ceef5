package e2e

import (
	"os"
	"strings"
	"testing"
)

// BenchmarkDaemonBinary runs the built binary on an image in the engine of
// one layer of random bytes (benchImageMB): platform auto, which reads the
// whole save stream since random bytes hold no executable, and a push of
// the fixed image to a registry on disk (a fresh one each time: every
// layer is sent). It reports the binary's largest resident set beside the
// time: neither streams the layer through memory.
func BenchmarkDaemonBinary(b *testing.B) {
	d, _ := daemonClient(b)
	tag := daemonTag(b, d, "daemon-bench-binary")
	config := d.loadBigImage(b, tag, benchImageMB(b, 500, 0))
	b.Cleanup(func() { d.run(b, nil, nil, "image", "rm", "--force", sha256Digest(config)) })
	env := append(shellEnv(b.TempDir()), "DOCKER_HOST="+os.Getenv("DOCKER_HOST"))
	line := "docker-daemon:" + tag
	b.Run("auto", func(b *testing.B) {
		for b.Loop() {
			res, rss, err := execLong(b, binaryPath, []string{"--check", "--platform", "auto", line}, env)
			if err != nil || res.ExitCode != 1 || !strings.Contains(res.Stderr+res.Stdout, "no ELF or PE executable") {
				b.Fatalf("check auto of %s = %v, %s, want no executable found", line, err, res)
			}
			b.ReportMetric(float64(rss), "max-rss-bytes")
		}
	})
	b.Run("push", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			reg := newRegistry(b, registryOptions{onDisk: true})
			b.StartTimer()
			res, rss, err := execLong(b, binaryPath, []string{"--platform", "linux/amd64", "--tag", reg.ref("o/big:1"), line}, env)
			if err != nil || res.ExitCode != 0 {
				b.Fatalf("push of %s = %v, %s", line, err, res)
			}
			var sent int64
			for _, r := range reg.proxy.writes() {
				sent += r.ReqBytes
			}
			b.ReportMetric(float64(rss), "max-rss-bytes")
			b.ReportMetric(float64(sent), "bytes-sent/op")
		}
	})
	// What docker push of the image (unfixed: docker has no way to fix
	// it) costs beside it: gzip of every layer, here of random bytes.
	b.Run("docker-push", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			reg := newRegistry(b, registryOptions{onDisk: true})
			ref := reg.direct("o/big:1")
			d.must(b, "tag", tag, ref)
			b.StartTimer()
			d.must(b, "push", "--quiet", ref)
			b.StopTimer()
			d.must(b, "image", "rm", ref)
			b.StartTimer()
		}
	})
}
