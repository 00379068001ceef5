package layout

import (
	"context"
	"crypto/rand"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

var benchMiB = flag.Int("bench-archive-mib", 256, "size of the archive BenchmarkArchiveSet rewrites")

// BenchmarkArchiveSet sets the platform of an archive of -bench-archive-mib
// MiB in place (open, push the config and manifest, Commit) and reports
// its time against cp of the same file, in the same run:
//
//	go test -run '^$' -bench ArchiveSet -benchtime 3x ./internal/layout
func BenchmarkArchiveSet(b *testing.B) {
	layer := make([]byte, *benchMiB<<20)
	rand.Read(layer)
	a := newImageLayer("big", layer)
	files := ociFiles([]img{a}, []string{"v1"})
	src := writeArchive(b, "/", files)
	dir := b.TempDir()
	var set, cp time.Duration
	for b.Loop() {
		// Both read the same archive, written and synced before; the
		// rewrite's time includes its fsync, cp's has none.
		p, p2 := filepath.Join(dir, "image.tar"), filepath.Join(dir, "copy.tar")
		b.StopTimer()
		if out, err := exec.Command("cp", src, p).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v: %s", err, out)
		}
		exec.Command("sync").Run()
		b.StartTimer()
		start := time.Now()
		if out, err := exec.Command("cp", p, p2).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v: %s", err, out)
		}
		cp += time.Since(start)
		// cp's dirty pages are not the rewrite's to flush.
		b.StopTimer()
		exec.Command("sync").Run()
		b.StartTimer()
		start = time.Now()
		l := openRef(b, imageref.OCIArchive, p)
		push(b, l, "v1", a.fixed())
		if err := l.Commit(context.Background()); err != nil {
			b.Fatal(err)
		}
		l.Close()
		set += time.Since(start)
		os.Remove(p)
		os.Remove(p2)
	}
	b.ReportMetric(float64(set)/float64(cp), "set/cp")
	b.ReportMetric(float64(set.Milliseconds())/float64(b.N), "set-ms/op")
	b.ReportMetric(float64(cp.Milliseconds())/float64(b.N), "cp-ms/op")
}
