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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/detect"
)

// benchImageMBEnv sets the size of BenchmarkDaemon's image (500 MB
// unless set).
const benchImageMBEnv = "SET_IMAGE_PLATFORM_DAEMON_BENCH_MB"

// loadBigImage loads an image of one uncompressed layer of mb MiB of
// random bytes (architecture empty) as tag, streamed into docker load
// without holding the layer in memory, and returns its config.
func (d *dockerEngine) loadBigImage(b testing.TB, tag string, mb int) []byte {
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

// benchImageMB is the size of the benchmark's image: the variable's, else
// full (500 MiB) or, for a quick variant, quick.
func benchImageMB(tb testing.TB, full, quick int) int {
	tb.Helper()
	v := os.Getenv(benchImageMBEnv)
	if v == "" {
		if testing.Short() || !*benchTable && quick > 0 {
			return quick
		}
		return full
	}
	mb, err := strconv.Atoi(v)
	if err != nil {
		tb.Fatalf("reading %s %q: %v", benchImageMBEnv, v, err)
	}
	return mb
}

// BenchmarkDaemon sets a check of an image in the engine (one inspect)
// beside what a shell step does (docker save | tar -xO manifest.json),
// and measures what a set in place reads and posts.
func BenchmarkDaemon(b *testing.B) {
	d, c := daemonClient(b)
	mb := benchImageMB(b, 500, 0)
	tag := daemonTag(b, d, "daemon-bench")
	config := d.loadBigImage(b, tag, mb)
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

// TestDaemonSpeed runs the built binary on a big image in the engine, as
// a PR check runs it, side by side with what a shell step does: rounds of
// a check (one Engine API request after the version ping) then docker
// save IMAGE | tar -xO manifest.json, and rounds of a set in place through
// the recording socket proxy (what it posts: config, manifest and tar
// framing, under maxPosted). With -bench-table the image is 500 MiB
// (SET_IMAGE_PLATFORM_DAEMON_BENCH_MB changes it), -bench-reps rounds,
// and the check's median must be at least 20 times faster; without, it is
// the quick variant on 8 MiB that asserts the requests and bytes only.
// The engines are DOCKER_HOST's and, when SET_IMAGE_PLATFORM_CONTAINERD_HOST
// names one, an engine with the containerd image store.
func TestDaemonSpeed(t *testing.T) {
	t.Parallel()
	d0, _ := daemonClient(t)
	engines := []*dockerEngine{d0}
	if host := os.Getenv(containerdHostEnv); host != "" {
		engines = append(engines, &dockerEngine{cli: d0.cli, socket: strings.TrimPrefix(host, "unix://"), host: host})
	}
	mb, reps := benchImageMB(t, 500, 8), 2
	if *benchTable {
		reps = max(1, *benchReps)
	}
	for _, d := range engines {
		version := d.must(t, "version", "--format", "{{.Server.Version}}")
		t.Run(version, func(t *testing.T) {
			tag := daemonTag(t, d, "daemon-speed")
			d.loadBigImage(t, tag, mb)
			// A second tag keeps the unfixed image for the next round: the
			// containerd store drops an image its last tag leaves.
			keep := tag + "-unfixed"
			d.must(t, "tag", tag, keep)
			t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", keep) })
			line := "docker-daemon:" + tag
			var check, save, set []time.Duration
			var posted []int64
			for range reps {
				p := newEngineProxy(t, d)
				env := append(shellEnv(t.TempDir()), "DOCKER_HOST="+p.host)
				t0 := time.Now()
				res := execBinary(t, []string{"--check", line}, env, nil)
				check = append(check, time.Since(t0))
				expectExit(t, res, 1)
				expectOneCLIError(t, res, line, "architecture")
				if diff := cmp.Diff([]string{"GET /_ping", "GET /images/" + tag + "/json"}, p.requests()); diff != "" {
					t.Errorf("requests of a check (-want +got):\n%s", diff)
				}

				t0 = time.Now()
				cmd := exec.Command("sh", "-c", `docker save "$1" | tar -xO manifest.json`, "sh", tag)
				if d.host != "" {
					cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.host)
				}
				if out, err := cmd.CombinedOutput(); err != nil || !bytes.Contains(out, []byte(`"Layers"`)) {
					t.Fatalf("docker save %s | tar -xO manifest.json = %v\n%s", tag, err, out)
				}
				save = append(save, time.Since(t0))

				p = newEngineProxy(t, d)
				env = append(shellEnv(t.TempDir()), "DOCKER_HOST="+p.host)
				t0 = time.Now()
				res = execBinary(t, []string{"--platform", "linux/amd64", line}, env, nil)
				set = append(set, time.Since(t0))
				expectExit(t, res, 0)
				posted = append(posted, p.postedBytes())
				if p.postedBytes() > maxPosted {
					t.Errorf("a set of a %d MiB image posted %d bytes, want at most %d", mb, p.postedBytes(), maxPosted)
				}
				newID := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag)
				t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", newID) })
				// Back to the unfixed image for the next round.
				d.must(t, "tag", keep, tag)
			}
			mc, ms, mset := medianOf(check), medianOf(save), medianOf(set)
			t.Logf("engine %s, image of %d MiB, median of %d rounds: check %v, docker save | tar -xO manifest.json %v (%.0fx), set in place %v, bytes posted by each set %v",
				version, mb, reps, mc.Round(time.Millisecond), ms.Round(time.Millisecond), float64(ms)/float64(mc), mset.Round(time.Millisecond), posted)
			if *benchTable && ms < 20*mc {
				t.Errorf("check median %v, docker save | tar median %v: %.1fx, want at least 20x", mc, ms, float64(ms)/float64(mc))
			}
		})
	}
}

// medianOf is the median of ds (the upper one of an even count).
func medianOf(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
