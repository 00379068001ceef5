package detect

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchMB is the size of the benchmark image. The default keeps
// "go test -bench" quick; the figure that matters for large images is
// taken with: go test -bench Detect ./internal/detect/ -args -detect.bench-mb=300
var benchMB = flag.Int("detect.bench-mb", 30, "size of the BenchmarkDetect image in MB")

// BenchmarkDetect measures the bytes read and the time taken for an image of
// incompressible data (10 gzip layers of 1 MiB files) holding one linux/amd64
// binary near its start (first entry of the base layer), in its middle, or at
// its end (last entry of the top layer), with the default MaxExecutables and
// with MaxExecutables 1, where the scan can stop at the first binary.
func BenchmarkDetect(b *testing.B) {
	const layers = 10
	filesPerLayer := max(*benchMB/layers, 1)
	amd64 := bin(b, "linux-amd64")
	layerEntries := func(i, binaryAt int) []entry {
		rng := rand.New(rand.NewChaCha8([32]byte{byte(i)}))
		var es []entry
		for j := range filesPerLayer {
			if j == binaryAt {
				es = append(es, exe("usr/bin/app", amd64))
			}
			data := make([]byte, 1<<20)
			for k := 0; k < len(data); k += 8 {
				v := rng.Uint64()
				for n := range 8 {
					data[k+n] = byte(v >> (8 * n))
				}
			}
			es = append(es, file(fmt.Sprintf("data/%d/%d.bin", i, j), 0o644, data))
		}
		if binaryAt >= filesPerLayer {
			es = append(es, exe("usr/bin/app", amd64))
		}
		return es
	}
	blobs := make([][]byte, layers)
	for i := range blobs {
		blobs[i] = compress(b, gz, tarOf(b, layerEntries(i, -1)))
	}
	types := make([]string, layers)
	for i := range types {
		types[i] = gz
	}
	for _, pos := range []struct {
		name            string
		layer, binaryAt int
	}{
		{"start", 0, 0},
		{"middle", layers / 2, filesPerLayer / 2},
		{"end", layers - 1, filesPerLayer},
	} {
		img := make([][]byte, layers)
		copy(img, blobs)
		img[pos.layer] = compress(b, gz, tarOf(b, layerEntries(pos.layer, pos.binaryAt)))
		for _, maxExec := range []int{0, 1} {
			b.Run(fmt.Sprintf("binary=%s/max=%d", pos.name, maxExec), func(b *testing.B) {
				var ev *Evidence
				var size int64
				for b.Loop() {
					im := newImage(img, types)
					size = im.size
					var err error
					ev, err = Detect(b.Context(), im.layers, Options{MaxExecutables: maxExec})
					if err != nil {
						b.Fatalf("Detect() error = %v", err)
					}
				}
				if ev.Platform != linuxAMD64 || ev.Files != 1 {
					b.Fatalf("Detect() = %v, want 1 file of linux/amd64", ev)
				}
				b.ReportMetric(float64(size)/1e6, "MB-image")
				b.ReportMetric(float64(ev.BytesRead)/1e6, "MB-read/op")
				b.ReportMetric(float64(ev.LayersRead), "layers-read/op")
			})
		}
	}
}
