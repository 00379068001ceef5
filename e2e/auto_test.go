package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// ociZstdLayer is the media type of a zstd-compressed OCI layer.
const ociZstdLayer = "application/vnd.oci.image.layer.v1.tar+zstd"

// testBinary returns one of the executables in testdata/binaries of the
// repository: hello-linux-{amd64,arm64,arm,riscv64} or
// hello-windows-amd64.exe.
func testBinary(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "binaries", name))
	if err != nil {
		tb.Fatalf("reading test binary: %v", err)
	}
	return b
}

// layerFile is one tar entry of a layer built by binLayer.
type layerFile struct {
	name     string
	typeflag byte
	mode     int64
	data     []byte
	linkname string
}

// executable is a regular file with x bits.
func executable(name string, data []byte) layerFile {
	return layerFile{name: name, typeflag: tar.TypeReg, mode: 0o755, data: data}
}

// dataFile is a regular file without x bits.
func dataFile(name string, data []byte) layerFile {
	return layerFile{name: name, typeflag: tar.TypeReg, mode: 0o644, data: data}
}

// shellScript is an executable script as buildpacks ship bin/detect.
func shellScript(name string) layerFile {
	return executable(name, []byte("#!/usr/bin/env bash\nset -euo pipefail\n\n# "+name+"\nexit 0\n"))
}

// whiteout deletes name from the layers below, as overlay tar layers do.
func whiteout(name string) layerFile {
	dir, base := path.Split(name)
	return dataFile(dir+".wh."+base, nil)
}

// opaque hides everything the layers below hold under dir.
func opaque(dir string) layerFile {
	return dataFile(strings.TrimSuffix(dir, "/")+"/.wh..wh..opq", nil)
}

// hardLink is a tar hard link to an earlier entry of the same layer.
func hardLink(name, target string) layerFile {
	return layerFile{name: name, typeflag: tar.TypeLink, mode: 0o755, linkname: target}
}

// symLink is a symbolic link.
func symLink(name, target string) layerFile {
	return layerFile{name: name, typeflag: tar.TypeSymlink, mode: 0o777, linkname: target}
}

// directory is a directory entry.
func directory(name string) layerFile {
	return layerFile{name: strings.TrimSuffix(name, "/") + "/", typeflag: tar.TypeDir, mode: 0o755}
}

// binLayer builds a tar layer of files, compressed with zstd when
// mediaType says so, else gzip.
func binLayer(tb testing.TB, mediaType string, files ...layerFile) layer {
	tb.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Typeflag: f.typeflag, Mode: f.mode, Linkname: f.linkname, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if f.typeflag == tar.TypeReg {
			hdr.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatalf("writing tar header %s: %v", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			tb.Fatalf("writing tar entry %s: %v", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	var zw io.WriteCloser
	var err error
	if strings.HasSuffix(mediaType, "zstd") {
		zw, err = zstd.NewWriter(&out)
	} else {
		zw, err = gzip.NewWriterLevel(&out, gzip.BestSpeed)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return layer{blob: newBlob(mediaType, out.Bytes()), diffID: sha256Digest(tarBuf.Bytes())}
}

// binConfig is an image config like the lifecycle of Cloud Native
// Buildpacks writes: compact, platformKeys first (e.g.
// `"architecture":"","os":"linux"`), labels with escaped JSON.
func binConfig(ls []layer, platformKeys string) []byte {
	var hist []string
	for range ls {
		hist = append(hist, `{"created":"1980-01-01T00:00:01Z","created_by":"Buildpacks Application Launcher"}`)
	}
	return []byte(`{` + platformKeys + `,"config":{"Env":["CNB_STACK_ID=io.buildpacks.stacks.jammy","PATH=/cnb/process:/cnb/lifecycle:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],` +
		`"Entrypoint":["/cnb/lifecycle/launcher"],"Labels":{"io.buildpacks.lifecycle.metadata":"{\"app\":[{\"sha\":\"sha256:0\"}],\"runImage\":{\"reference\":\"index.docker.io/paketobuildpacks/run-jammy-tiny@sha256:0\"}}","io.buildpacks.stack.id":"io.buildpacks.stacks.jammy"}},` +
		`"created":"1980-01-01T00:00:01Z","history":[` + strings.Join(hist, ",") + `],"rootfs":{"type":"layers","diff_ids":[` + diffIDsJSON(ls) + `]}}`)
}

// renderDockerManifest renders a compact Docker v2 manifest as pack
// pushes it.
func renderDockerManifest(d string, size int, ls []layer) []byte {
	var descs []string
	for _, l := range ls {
		descs = append(descs, fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q}`, l.mediaType, len(l.data), l.digest))
	}
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"size":%d,"digest":%q},"layers":[%s]}`,
		dockerManifest, dockerConfig, size, d, strings.Join(descs, ",")))
}

// binImage is an image of layers (base first) with a binConfig: Docker v2
// when every layer is a Docker layer, else OCI.
func binImage(platformKeys string, ls ...layer) image {
	docker := true
	for _, l := range ls {
		docker = docker && l.mediaType == dockerLayer
	}
	if docker {
		return image{manifestType: dockerManifest, config: newBlob(dockerConfig, binConfig(ls, platformKeys)), layers: ls, render: renderDockerManifest}
	}
	return image{manifestType: ociManifest, config: newBlob(ociConfig, binConfig(ls, platformKeys)), layers: ls, render: renderOCIManifest(ociConfig, "")}
}

// buildpackImage is shaped like a `pack build` image: two buildpack layers
// with a Go binary (bin/build) and a shell script (bin/detect) each, one
// layer of amd64 launcher binaries, all gzip, Docker v2.
func buildpackImage(tb testing.TB, platformKeys string) image {
	tb.Helper()
	amd := testBinary(tb, "hello-linux-amd64")
	lifecycle := binLayer(tb, dockerLayer,
		directory("/cnb"), directory("/cnb/lifecycle"),
		executable("cnb/lifecycle/launcher", amd),
		symLink("cnb/process/web", "../lifecycle/launcher"))
	var bps []layer
	for _, bp := range []string{"paketo-buildpacks_go-dist/1.5.3", "paketo-buildpacks_go-build/2.2.0"} {
		dir := "cnb/buildpacks/" + bp + "/bin/"
		bps = append(bps, binLayer(tb, dockerLayer,
			directory(dir),
			executable(dir+"build", amd),
			shellScript(dir+"detect"),
			dataFile("cnb/buildpacks/"+bp+"/buildpack.toml", []byte("api = \"0.8\"\n"))))
	}
	return binImage(platformKeys, append([]layer{lifecycle}, bps...)...)
}

// distrolessImage is shaped like a distroless static image with one arm64
// Go binary: a base layer of CA certificates and passwd, an app layer; both
// zstd, OCI.
func distrolessImage(tb testing.TB) image {
	tb.Helper()
	base := binLayer(tb, ociZstdLayer,
		directory("etc"), directory("etc/ssl/certs"),
		dataFile("etc/ssl/certs/ca-certificates.crt", []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")),
		dataFile("etc/passwd", []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")),
		dataFile("etc/nsswitch.conf", []byte("hosts: files dns\n")))
	app := binLayer(tb, ociZstdLayer, directory("app"), executable("app/server", testBinary(tb, "hello-linux-arm64")))
	return binImage(`"architecture":"","os":"linux"`, base, app)
}

// singleBinaryImage holds one binary at /usr/local/bin/hello in a gzip
// Docker layer.
func singleBinaryImage(tb testing.TB, binary, platformKeys string) image {
	tb.Helper()
	return binImage(platformKeys, helloLayer(tb, binary))
}

// helloLayer is a gzip Docker layer with one test binary at
// /usr/local/bin/hello.
func helloLayer(tb testing.TB, binary string) layer {
	tb.Helper()
	return binLayer(tb, dockerLayer, executable("usr/local/bin/hello", testBinary(tb, binary)))
}

// serverLayer is a zstd OCI layer with one test binary at /app/server.
func serverLayer(tb testing.TB, binary string) layer {
	tb.Helper()
	return binLayer(tb, ociZstdLayer, executable("app/server", testBinary(tb, binary)))
}

// expectLayersReadOnce fails t when one of layers was requested more
// than once, or named by a write.
func expectLayersReadOnce(t *testing.T, p *recordingProxy, layers []string) {
	t.Helper()
	for _, d := range layers {
		gets := 0
		for _, r := range p.naming(d) {
			switch {
			case r.isWrite():
				t.Errorf("write request names layer %s: %s", d, r)
			case r.Method == "GET" && strings.HasSuffix(r.Path, "/blobs/"+d):
				gets++
			}
		}
		if gets > 1 {
			t.Errorf("layer %s requested %d times, want at most once:\n%s", d, gets, formatRequests(p.naming(d)))
		}
	}
}

// expectLogMatch fails t unless, for each of patterns, some log line
// matches it.
func expectLogMatch(t *testing.T, res Result, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		found := false
		for _, l := range res.logLines() {
			found = found || re.MatchString(l)
		}
		if !found {
			t.Errorf("no log line matches %q", p)
		}
	}
}

// evidence is a pattern for the log line that says what auto found in ref,
// e.g. "<ref>: 3 ELF files: linux/amd64 (read 1.2 MiB of 3 layers)".
func evidence(ref, found string, layers int) string {
	return regexp.QuoteMeta(ref+": "+found+" (read ") + `[0-9.]+ (B|KiB|MiB) of ` + fmt.Sprint(layers) + ` layers\)`
}

func TestAutoSet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		image     func(*testing.T) image
		overwrite bool
		// wantPlatform is the platform output and config on success;
		// empty when the run must fail.
		wantPlatform string
		wantChanged  bool
		// evidence is what the evidence line must say was found in
		// layersRead layers, e.g. "3 ELF files: linux/amd64".
		evidence   string
		layersRead int
		// wantLog are patterns some log line must match.
		wantLog []string
		// wantError are substrings of the one ::error:: besides the
		// reference.
		wantError []string
	}{{
		name:         "buildpack image",
		image:        func(t *testing.T) image { return buildpackImage(t, `"architecture":"","os":"linux"`) },
		wantPlatform: "linux/amd64", wantChanged: true,
		evidence: "3 ELF files: linux/amd64", layersRead: 3,
		wantLog: []string{
			`; ignored .*2 scripts \(#!\), e\.g\. /cnb/buildpacks/paketo-buildpacks_go-build/2\.2\.0/bin/detect, /cnb/buildpacks/paketo-buildpacks_go-dist/1\.5\.3/bin/detect`,
			`ignored .*/cnb/process/web \(symbolic link`,
		},
	}, {
		name:         "distroless image, zstd layers",
		image:        func(t *testing.T) image { return distrolessImage(t) },
		wantPlatform: "linux/arm64", wantChanged: true,
		evidence: "1 ELF file: linux/arm64", layersRead: 2,
	}, {
		name: "top layer deletes the amd64 binaries",
		image: func(t *testing.T) image {
			amd, arm := testBinary(t, "hello-linux-amd64"), testBinary(t, "hello-linux-arm64")
			base := binLayer(t, dockerLayer,
				executable("usr/bin/app", amd),
				executable("usr/lib/app/helper", amd),
				executable("opt/old/bin/tool", amd),
				executable("opt/old/bin/tool2", amd))
			top := binLayer(t, dockerLayer,
				whiteout("usr/bin/app"),
				whiteout("usr/lib/app"),
				opaque("opt/old"),
				executable("usr/local/bin/app", arm))
			return binImage(`"architecture":"","os":"linux"`, base, top)
		},
		wantPlatform: "linux/arm64", wantChanged: true,
		evidence: "1 ELF file: linux/arm64", layersRead: 2,
	}, {
		name: "emulator ignored",
		image: func(t *testing.T) image {
			amd := testBinary(t, "hello-linux-amd64")
			return binImage(`"architecture":"","os":"linux"`, binLayer(t, dockerLayer,
				executable("usr/bin/app", amd),
				executable("usr/libexec/app/helper", amd),
				executable("usr/bin/qemu-aarch64-static", testBinary(t, "hello-linux-arm64"))))
		},
		wantPlatform: "linux/amd64", wantChanged: true,
		evidence: "2 ELF files: linux/amd64", layersRead: 1,
		wantLog: []string{
			`ignored .*/usr/bin/qemu-aarch64-static \(emulator, linux/arm64\)`,
		},
	}, {
		name: "riscv64",
		image: func(t *testing.T) image {
			return singleBinaryImage(t, "hello-linux-riscv64", `"architecture":"","os":"linux"`)
		},
		wantPlatform: "linux/riscv64", wantChanged: true,
		evidence: "1 ELF file: linux/riscv64", layersRead: 1,
	}, {
		name: "arm, variant assumed",
		image: func(t *testing.T) image {
			return singleBinaryImage(t, "hello-linux-arm", `"architecture":"","os":"linux"`)
		},
		wantPlatform: "linux/arm/v7", wantChanged: true,
		evidence: "1 ELF file: linux/arm/v7", layersRead: 1, wantLog: []string{`assumed v7`},
	}, {
		name: "windows layer",
		image: func(t *testing.T) image {
			exe := testBinary(t, "hello-windows-amd64.exe")
			return binImage(`"architecture":"","os":"windows"`, binLayer(t, dockerLayer,
				directory("Files"), directory("Files/app"), directory("Hives"),
				// Windows layers carry no x bits under Files/.
				dataFile("Files/app/hello.exe", exe),
				dataFile("Hives/Software_Delta", []byte("regf")),
				executable("tools/hello.exe", exe)))
		},
		wantPlatform: "windows/amd64", wantChanged: true,
		evidence: "2 PE files: windows/amd64", layersRead: 1,
	}, {
		name: "windows layer, os.version declared",
		image: func(t *testing.T) image {
			return binImage(`"architecture":"","os":"windows","os.version":"10.0.20348.2849"`, binLayer(t, dockerLayer,
				directory("Files"), dataFile("Files/app/hello.exe", testBinary(t, "hello-windows-amd64.exe"))))
		},
		// The binaries tell no os.version: the declared one stays.
		wantPlatform: "windows/amd64:10.0.20348.2849", wantChanged: true,
		evidence: "1 PE file: windows/amd64", layersRead: 1,
	}, {
		name: "scripts only",
		image: func(t *testing.T) image {
			return binImage(`"architecture":"","os":"linux"`, binLayer(t, dockerLayer,
				shellScript("usr/local/bin/entrypoint.sh"), shellScript("app/run"),
				dataFile("app/main.py", []byte("print('hello')\n"))))
		},
		wantError: []string{"no ELF or PE executable", `"platform" explicitly`},
	}, {
		name: "conflicting binaries",
		image: func(t *testing.T) image {
			amd, arm := testBinary(t, "hello-linux-amd64"), testBinary(t, "hello-linux-arm64")
			return binImage(`"architecture":"","os":"linux"`, binLayer(t, dockerLayer,
				executable("opt/amd/a", amd), executable("opt/amd/b", amd),
				executable("opt/arm/a", arm), executable("opt/arm/b", arm)))
		},
		wantError: []string{
			"linux/amd64: 2 (/opt/amd/a, /opt/amd/b)",
			"linux/arm64: 2 (/opt/arm/a, /opt/arm/b)",
			`"platform" explicitly`,
		},
	}, {
		name:         "already the detected platform",
		image:        func(t *testing.T) image { return buildpackImage(t, `"architecture":"amd64","os":"linux"`) },
		wantPlatform: "linux/amd64", wantChanged: false,
		evidence: "3 ELF files: linux/amd64", layersRead: 3,
	}, {
		name: "another platform declared",
		image: func(t *testing.T) image {
			return buildpackImage(t, `"architecture":"arm64","os":"linux","variant":"v8"`)
		},
		wantError: []string{"arm64", "amd64", "overwrite"},
	}, {
		name: "another platform declared, overwrite",
		image: func(t *testing.T) image {
			return buildpackImage(t, `"architecture":"arm64","os":"linux","variant":"v8"`)
		},
		overwrite:    true,
		wantPlatform: "linux/amd64", wantChanged: true,
		evidence: "3 ELF files: linux/amd64", layersRead: 3,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := tc.image(t)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": "auto", "overwrite": fmt.Sprint(tc.overwrite)})
			reg.proxy.log(t, "requests of the run")
			expectLayersReadOnce(t, reg.proxy, im.layerDigests())
			if tc.evidence != "" {
				expectLogMatch(t, res, evidence(ref, tc.evidence, tc.layersRead))
			}
			expectLogMatch(t, res, tc.wantLog...)

			if tc.wantPlatform == "" {
				expectRefused(t, res, reg, "app:1.0", old, append([]string{ref}, tc.wantError...)...)
				return
			}
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			newDigest := reg.digestOf(t, "app:1.0")
			if changed := newDigest != old; changed != tc.wantChanged {
				t.Errorf("app:1.0 %s -> %s: changed = %v, want %v", old, newDigest, changed, tc.wantChanged)
			}
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, newDigest, tc.wantChanged, tc.wantPlatform))
			if !tc.wantChanged {
				expectNoWrites(t, reg.proxy)
				return
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers(tc.wantPlatform), nil)
			expectPushOrder(t, reg, "app", "1.0")
		})
	}
}

// TestAutoStopsEarly: when the top layer holds 64 or more executables, the
// layers below are never requested.
func TestAutoStopsEarly(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	arm := testBinary(t, "hello-linux-arm64")
	lower := binLayer(t, dockerLayer, executable("usr/bin/other", arm), executable("usr/bin/other2", arm))
	// A busybox-like top layer: one binary and its applets as hard links.
	files := []layerFile{executable("bin/busybox", testBinary(t, "hello-linux-amd64"))}
	for i := range 79 {
		files = append(files, hardLink(fmt.Sprintf("bin/applet%02d", i), "bin/busybox"))
	}
	top := binLayer(t, dockerLayer, files...)
	im := binImage(`"architecture":"","os":"linux"`, lower, top)
	reg.push(t, "app:1.0", im)
	ref := reg.ref("app:1.0")

	res := runAction(t, map[string]string{"image": ref, "platform": "auto"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)
	expectNotNamed(t, reg.proxy, []string{lower.digest})
	expectLayersReadOnce(t, reg.proxy, im.layerDigests())
	expectLogMatch(t, res, evidence(ref, "64 ELF files: linux/amd64", 1), `stopped after 64 executables, having read 1 of 2 layers`)
	expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), nil)
}

// binIndexOf is a compact OCI index (as `crane index append` writes) of
// image children whose entries carry no platform.
func binIndexOf(children []indexChild) indexFixture {
	var entries []string
	for _, c := range children {
		entries = append(entries, fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q}`, c.im.manifestType, len(c.im.manifest()), c.im.manifestDigest()))
	}
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s]}`, ociIndex, strings.Join(entries, ","))
	return indexFixture{mediaType: ociIndex, children: children, body: []byte(body)}
}

// TestAutoIndex: children with a platform neither in config nor in entry
// get the one their binaries show, in both.
func TestAutoIndex(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	keys := `"architecture":"","os":""`
	fx := binIndexOf([]indexChild{
		{kind: imageChild, im: buildpackImage(t, keys), platform: "linux/amd64", configChanges: true},
		{kind: imageChild, im: binImage(keys, serverLayer(t, "hello-linux-arm64")), platform: "linux/arm64", configChanges: true},
		{kind: imageChild, im: singleBinaryImage(t, "hello-linux-riscv64", keys), platform: "linux/riscv64", configChanges: true},
	})
	old := reg.pushIndex(t, "app", "1.0", fx)
	ref := reg.ref("app:1.0")

	res := runAction(t, map[string]string{"image": ref, "platform": "auto"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)
	expectLayersReadOnce(t, reg.proxy, fx.layers())
	for _, c := range fx.children {
		expectLogMatch(t, res, regexp.QuoteMeta("child "+c.im.manifestDigest()+": ")+`\d+ ELF files?: `+regexp.QuoteMeta(c.platform))
	}
	idx, digests := expectIndexPatched(t, reg, "app", "app:1.0", fx)
	if idx.digest == old {
		t.Fatalf("app:1.0 still resolves to the old index %s", old)
	}
	expectIndexPushOrder(t, reg, "app", "1.0", idx, digests)
	expectOutputs(t, res, imageOutputs(reg.ref("app"), old, idx.digest, true, fx.platforms()))
}

// TestAutoIndexDisagreement: an index entry and its child's config that
// disagree are an error naming the child; with overwrite, auto settles it
// from the binaries, in the config, keeping the entry.
func TestAutoIndexDisagreement(t *testing.T) {
	t.Parallel()
	for _, overwrite := range []bool{false, true} {
		t.Run(fmt.Sprintf("overwrite=%v", overwrite), func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			amd, arm := helloLayer(t, "hello-linux-amd64"), serverLayer(t, "hello-linux-arm64")
			fx := buildxIndexOf(t, []indexChild{
				// The entry is right, the config wrong.
				{kind: imageChild, im: binImage(`"architecture":"arm64","os":"linux"`, amd), platform: "linux/amd64", configChanges: true},
				{kind: imageChild, im: binImage(`"architecture":"arm64","os":"linux"`, arm), platform: "linux/arm64"},
			})
			old := reg.pushIndex(t, "app", "1.0", fx)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": "auto", "overwrite": fmt.Sprint(overwrite)})
			reg.proxy.log(t, "requests of the run")
			expectLayersReadOnce(t, reg.proxy, fx.layers())
			if !overwrite {
				expectRefused(t, res, reg, "app:1.0", old, ref, fx.children[0].im.manifestDigest())
				return
			}
			expectExit(t, res, 0)
			expectLogMatch(t, res, regexp.QuoteMeta("child "+fx.children[0].im.manifestDigest()+": 1 ELF file: linux/amd64"))
			idx, digests := expectIndexPatched(t, reg, "app", "app:1.0", fx)
			expectIndexPushOrder(t, reg, "app", "1.0", idx, digests[:1])
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, idx.digest, true, "linux/amd64,linux/arm64"))
		})
	}
}
