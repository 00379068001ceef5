package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/detect"
)

// benchImageMBEnv sets the size of BenchmarkDaemon's image (500 MB
// unless set).
const benchImageMBEnv = "SET_IMAGE_PLATFORM_DAEMON_BENCH_MB"

// loadBigImage loads an image of one uncompressed layer of mb MiB of
// random bytes (architecture empty) as tag, streamed into docker load
// without holding the layer in memory, and returns its config.
func (d *dockerEngine) loadBigImage(b *testing.B, tag string, mb int) []byte {
	b.Helper()
	size := int64(mb) << 20
	h := sha256.New()
	layer := func(tw *tar.Writer, _ int) error {
		// The layer's tar: one header block, the file, two zero blocks.
		if err := tw.WriteHeader(&tar.Header{Name: "0/layer.tar", Typeflag: tar.TypeReg, Mode: 0o644, Size: 512 + size + 1024}); err != nil {
			return err
		}
		inner := tar.NewWriter(io.MultiWriter(tw, h))
		hdr := &tar.Header{Name: "data.bin", Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: time.Unix(0, 0), Format: tar.FormatUSTAR}
		if err := inner.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.CopyN(inner, rand.NewChaCha8([32]byte{24}), size); err != nil {
			return err
		}
		return inner.Close()
	}
	configs := make(chan []byte, 1)
	configOf := func() []byte {
		c := []byte(`{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:` + hex.EncodeToString(h.Sum(nil)) + `"]}}`)
		configs <- c
		return c
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeSave(pw, tag, 1, layer, configOf)) }()
	res := d.run(b, nil, pr, "load", "--quiet")
	pr.Close()
	if res.ExitCode != 0 {
		b.Fatalf("docker load of %s: %s", tag, res)
	}
	return <-configs
}

// benchImageMB is the size of the benchmarks' image: 500 MiB, unless
// SET_IMAGE_PLATFORM_DAEMON_BENCH_MB says.
func benchImageMB(b *testing.B) int {
	b.Helper()
	v := os.Getenv(benchImageMBEnv)
	if v == "" {
		return 500
	}
	mb, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("reading %s %q: %v", benchImageMBEnv, v, err)
	}
	return mb
}

// BenchmarkDaemon sets a check of an image in the engine (one inspect)
// beside what a shell step does (docker save | tar -xO manifest.json),
// and measures what a set in place reads and posts.
func BenchmarkDaemon(b *testing.B) {
	d, c := daemonClient(b)
	tag := daemonTag(b, d, "daemon-bench")
	config := d.loadBigImage(b, tag, benchImageMB(b))
	ctx := context.Background()
	b.Run("inspect", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Inspect(ctx, tag); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("docker-save-tar-manifest", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command("sh", "-c", `docker save "$1" | tar -xO manifest.json`, "sh", tag)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("docker save %s | tar -xO manifest.json: %v\n%s", tag, err, out)
			}
		}
	})
	info, err := c.Inspect(ctx, tag)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("save-config", func(b *testing.B) {
		for b.Loop() {
			s, err := c.Save(ctx, info, daemon.Classic)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Config(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(s.BytesRead()), "bytes-read/op")
			s.Close()
		}
	})
	b.Run("save-detect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := c.Save(ctx, info, daemon.Classic)
			if err != nil {
				b.Fatal(err)
			}
			// Random bytes hold no executable: Detect reads the whole
			// layer, through the bounded buffers alone.
			_, err = detect.Detect(ctx, s.DetectLayers(), detect.Options{})
			var none *detect.NoExecutablesError
			if !errors.As(err, &none) {
				b.Fatalf("Detect(the save of %s) = %v, want no executable found", tag, err)
			}
			b.ReportMetric(float64(s.BytesRead()), "bytes-read/op")
			s.Close()
		}
	})
	fixed := bytes.Replace(config, []byte(`"architecture":""`), []byte(`"architecture":"amd64"`), 1)
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			ld, err := c.Load(ctx, tag, fixed, 1)
			if err != nil {
				b.Fatal(err)
			}
			if ld.Posted > maxPosted {
				b.Fatalf("Load(%s).Posted = %d, want under %d", tag, ld.Posted, maxPosted)
			}
			b.ReportMetric(float64(ld.Posted), "bytes-posted/op")
		}
	})
	b.Cleanup(func() { d.run(b, nil, nil, "image", "rm", "--force", sha256Digest(config), sha256Digest(fixed)) })
}
