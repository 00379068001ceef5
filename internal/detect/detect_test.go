package detect

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

var (
	linuxAMD64   = platform.Platform{OS: "linux", Architecture: "amd64"}
	linuxARM64   = platform.Platform{OS: "linux", Architecture: "arm64"}
	windowsAMD64 = platform.Platform{OS: "windows", Architecture: "amd64"}
)

// compareEvidence compares everything but the bytes read, which depend on
// the compression.
var compareEvidence = []cmp.Option{
	cmpopts.IgnoreFields(Evidence{}, "BytesRead"),
	cmpopts.IgnoreUnexported(Evidence{}),
	cmpopts.EquateEmpty(),
}

func TestDetect(t *testing.T) {
	t.Parallel()
	amd64, arm64 := bin(t, "linux-amd64"), bin(t, "linux-arm64")
	arm, riscv64, win := bin(t, "linux-arm"), bin(t, "linux-riscv64"), bin(t, "windows-amd64.exe")
	certs := []byte("-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n")

	tests := []struct {
		name    string
		layers  [][]entry // base first
		opts    Options
		want    Evidence
		wantErr error // a *NoExecutablesError or *ConflictError to match by type
	}{{
		name: "buildpack image",
		layers: [][]entry{
			{dir("etc/"), file("etc/os-release", 0o644, []byte("ID=ubuntu\n")), exe("bin/bash", amd64)},
			{dir("cnb/"), exe("cnb/lifecycle/launcher", amd64)},
			{
				exe("cnb/buildpacks/paketo-buildpacks_go-dist/1.2.3/bin/build", amd64),
				exe("cnb/buildpacks/paketo-buildpacks_go-dist/1.2.3/bin/detect", script),
				exe("cnb/buildpacks/paketo-buildpacks_procfile/5.6.7/bin/build", amd64),
				exe("cnb/buildpacks/paketo-buildpacks_procfile/5.6.7/bin/detect", script),
				symlink("cnb/buildpacks/paketo-buildpacks_procfile/5.6.7/bin/run", "build"),
				// pip's Windows launchers: PE files, not executable here.
				file("usr/lib/python3/dist-packages/pip/_vendor/distlib/t64.exe", 0o644, win),
			},
		},
		want: Evidence{
			Platform: linuxAMD64,
			Counts:   map[string]int{"linux/amd64": 4},
			Examples: map[string][]string{"linux/amd64": {
				"/cnb/buildpacks/paketo-buildpacks_go-dist/1.2.3/bin/build",
				"/cnb/buildpacks/paketo-buildpacks_procfile/5.6.7/bin/build",
				"/cnb/lifecycle/launcher",
			}},
			Ignored: []string{
				"2 scripts (#!), e.g. /cnb/buildpacks/paketo-buildpacks_go-dist/1.2.3/bin/detect, /cnb/buildpacks/paketo-buildpacks_procfile/5.6.7/bin/detect",
				"/cnb/buildpacks/paketo-buildpacks_procfile/5.6.7/bin/run (symbolic link, not followed)",
			},
			Files:      4,
			LayersRead: 3,
		},
	}, {
		name: "file names with line breaks and escapes",
		layers: [][]entry{{
			exe("bin/app\n::error::evil", amd64),
			exe("bin/run\r## passed\x1b[2K", script),
			symlink("bin/\u202elink", "app"),
		}},
		want: Evidence{
			Platform:   linuxAMD64,
			Counts:     map[string]int{"linux/amd64": 1},
			Examples:   map[string][]string{"linux/amd64": {`/bin/app\n::error::evil`}},
			Ignored:    []string{`/bin/run\r## passed\x1b[2K (script, #!)`, `/bin/\u202elink (symbolic link, not followed)`},
			Files:      1,
			LayersRead: 1,
		},
	}, {
		name: "distroless image",
		layers: [][]entry{
			{file("etc/ssl/certs/ca-certificates.crt", 0o644, certs), file("etc/passwd", 0o644, []byte("nonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"))},
			{exe("app", amd64)},
		},
		want: Evidence{
			Platform:   linuxAMD64,
			Counts:     map[string]int{"linux/amd64": 1},
			Examples:   map[string][]string{"linux/amd64": {"/app"}},
			Files:      1,
			LayersRead: 2,
		},
	}, {
		name: "upper layers delete and replace the amd64 files",
		layers: [][]entry{
			{
				exe("usr/bin/a", amd64), exe("usr/bin/b", amd64),
				exe("opt/tools/c", amd64), exe("opt/tools/sub/d", amd64),
				exe("srv/bin/e", amd64),
				exe("var/lib/f", amd64),
				exe("usr/local/bin/tool", amd64),
				exe("usr/local/bin/keep", arm64),
			},
			{
				whiteout("usr/bin/.wh.a"),
				whiteout("opt/tools/.wh..wh..opq"),
				file("srv", 0o644, []byte("a file where a directory was")),
				dir("var/lib/f/"),                // a directory where a file was
				exe("usr/local/bin/tool", arm64), // the later file wins
			},
			{whiteout("usr/bin/.wh.b")},
		},
		want: Evidence{
			Platform:   linuxARM64,
			Counts:     map[string]int{"linux/arm64": 2},
			Examples:   map[string][]string{"linux/arm64": {"/usr/local/bin/tool", "/usr/local/bin/keep"}},
			Files:      2,
			LayersRead: 3,
		},
	}, {
		name: "a whiteout applies to lower layers only",
		layers: [][]entry{
			{exe("usr/bin/old", arm64)},
			{whiteout("usr/bin/.wh.old"), whiteout("usr/lib/.wh..wh..opq"), exe("usr/bin/new", amd64), exe("usr/lib/x.so", amd64)},
		},
		want: Evidence{
			Platform:   linuxAMD64,
			Counts:     map[string]int{"linux/amd64": 2},
			Examples:   map[string][]string{"linux/amd64": {"/usr/bin/new", "/usr/lib/x.so"}},
			Files:      2,
			LayersRead: 2,
		},
	}, {
		name: "scripts only",
		layers: [][]entry{
			{exe("usr/local/bin/entrypoint.sh", script), file("app/main.py", 0o644, []byte("print('hi')\n"))},
			{exe("usr/local/bin/run", script)},
		},
		want: Evidence{
			Ignored:    []string{"2 scripts (#!), e.g. /usr/local/bin/run, /usr/local/bin/entrypoint.sh"},
			LayersRead: 2,
		},
		wantErr: &NoExecutablesError{},
	}, {
		name: "qemu emulator ignored",
		layers: [][]entry{
			{exe("bin/sh", amd64), exe("usr/bin/qemu-aarch64-static", arm64)},
			{exe("usr/libexec/qemu-binfmt/aarch64-binfmt-P", arm64), exe("app", amd64)},
		},
		want: Evidence{
			Platform: linuxAMD64,
			Counts:   map[string]int{"linux/amd64": 2},
			Examples: map[string][]string{"linux/amd64": {"/app", "/bin/sh"}},
			Ignored: []string{
				"/usr/libexec/qemu-binfmt/aarch64-binfmt-P (emulator, linux/arm64)",
				"/usr/bin/qemu-aarch64-static (emulator, linux/arm64)",
			},
			Files:      2,
			LayersRead: 2,
		},
	}, {
		name: "conflicting binaries",
		layers: [][]entry{
			{exe("usr/bin/a", amd64), exe("usr/bin/b", arm64)},
			{exe("app/x", amd64), exe("app/y", arm64)},
		},
		want: Evidence{
			Counts: map[string]int{"linux/amd64": 2, "linux/arm64": 2},
			Examples: map[string][]string{
				"linux/amd64": {"/app/x", "/usr/bin/a"},
				"linux/arm64": {"/app/y", "/usr/bin/b"},
			},
			Files:      4,
			LayersRead: 2,
		},
		wantErr: &ConflictError{},
	}, {
		name: "windows image",
		layers: [][]entry{
			{dir("Files/"), file("Files/Windows/System32/hello.exe", 0o644, win), file("Hives/SOFTWARE", 0o644, []byte("regf"))},
			{file("Files/app/hello.exe", 0o644, win)},
		},
		want: Evidence{
			Platform: windowsAMD64,
			Counts:   map[string]int{"windows/amd64": 2},
			Examples: map[string][]string{"windows/amd64": {"/Files/app/hello.exe", "/Files/Windows/System32/hello.exe"}},
			Files:    2, LayersRead: 2,
		},
	}, {
		name:   "go arm binary records no variant",
		layers: [][]entry{{exe("app", arm)}},
		want: Evidence{
			Platform:   platform.Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			Counts:     map[string]int{"linux/arm/v7": 1},
			Examples:   map[string][]string{"linux/arm/v7": {"/app"}},
			Notes:      []string{"arm variant not recorded in 1 files; assumed v7"},
			Files:      1,
			LayersRead: 1,
		},
	}, {
		name: "arm variant from .ARM.attributes beyond the head",
		layers: [][]entry{{
			exe("usr/bin/v6", armELF(t, 6, 300<<10, 100)),
			exe("usr/bin/v7", arm), // assumed v7; the recorded v6 decides
		}},
		want: Evidence{
			Platform:   platform.Platform{OS: "linux", Architecture: "arm", Variant: "v6"},
			Counts:     map[string]int{"linux/arm/v6": 1, "linux/arm/v7": 1},
			Examples:   map[string][]string{"linux/arm/v6": {"/usr/bin/v6"}, "linux/arm/v7": {"/usr/bin/v7"}},
			Notes:      []string{"arm variant not recorded in 1 files; assumed v7"},
			Files:      2,
			LayersRead: 1,
		},
	}, {
		name: "arm attributes beyond the kept bytes",
		// 100 KiB between the section and the section headers.
		layers: [][]entry{{exe("usr/bin/x", armELF(t, 6, 300<<10, 100<<10))}},
		want: Evidence{
			Platform:   platform.Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			Counts:     map[string]int{"linux/arm/v7": 1},
			Examples:   map[string][]string{"linux/arm/v7": {"/usr/bin/x"}},
			Notes:      []string{"arm variant not recorded in 1 files; assumed v7"},
			Files:      1,
			LayersRead: 1,
		},
	}, {
		name: "unknown machine ignored",
		layers: [][]entry{{
			exe("usr/bin/sparc", withELFMachine(amd64, elf.EM_SPARCV9)),
			exe("usr/bin/freebsd", withELFOSABI(amd64, elf.ELFOSABI_FREEBSD)),
		}},
		want: Evidence{
			Platform: platform.Platform{OS: "freebsd", Architecture: "amd64"},
			Counts:   map[string]int{"freebsd/amd64": 1},
			Examples: map[string][]string{"freebsd/amd64": {"/usr/bin/freebsd"}},
			Ignored:  []string{"/usr/bin/sparc (unknown ELF machine EM_SPARCV9, ELFCLASS64)"},
			Files:    1, LayersRead: 1,
		},
	}, {
		name:   "riscv64",
		layers: [][]entry{{exe("app", riscv64)}},
		want: Evidence{
			Platform:   platform.Platform{OS: "linux", Architecture: "riscv64"},
			Counts:     map[string]int{"linux/riscv64": 1},
			Examples:   map[string][]string{"linux/riscv64": {"/app"}},
			Files:      1,
			LayersRead: 1,
		},
	}, {
		name: "shared libraries and hard links",
		layers: [][]entry{{
			file("usr/lib/libfoo.so.1.2", 0o644, withELFType(arm64, elf.ET_DYN)),
			file("usr/lib/libbar.so", 0o644, withELFType(arm64, elf.ET_DYN)),
			file("usr/lib/notalib.so", 0o644, arm64), // ET_EXEC without an x bit
			file("usr/share/data.bin", 0o644, amd64), // not executable, not a library name
			exe("usr/lib/crt1.o", withELFType(amd64, elf.ET_REL)),
			exe("usr/bin/tool", arm64),
			hardlink("usr/bin/tool2", "usr/bin/tool"),
		}},
		want: Evidence{
			Platform: linuxARM64,
			Counts:   map[string]int{"linux/arm64": 4},
			Examples: map[string][]string{"linux/arm64": {"/usr/lib/libfoo.so.1.2", "/usr/lib/libbar.so", "/usr/bin/tool"}},
			Files:    4, LayersRead: 1,
		},
	}, {
		name: "stops early, from the top layer",
		layers: [][]entry{
			{exe("base/a", arm64), exe("base/b", arm64)},
			{exe("mid/a", amd64), exe("mid/b", amd64)},
			{exe("top/a", amd64), exe("top/b", amd64), exe("top/c", amd64)},
		},
		opts: Options{MaxExecutables: 4},
		want: Evidence{
			Platform:   linuxAMD64,
			Counts:     map[string]int{"linux/amd64": 4},
			Examples:   map[string][]string{"linux/amd64": {"/top/a", "/top/b", "/top/c"}},
			Notes:      []string{"stopped after 4 executables, having read 2 of 3 layers"},
			Files:      4,
			LayersRead: 2,
		},
	}, {
		name: "stops in the middle of a layer",
		layers: [][]entry{
			{exe("base/a", arm64)},
			{exe("top/a", amd64), exe("top/b", amd64), exe("top/c", amd64)},
		},
		opts: Options{MaxExecutables: 2},
		want: Evidence{
			Platform:   linuxAMD64,
			Counts:     map[string]int{"linux/amd64": 2},
			Examples:   map[string][]string{"linux/amd64": {"/top/a", "/top/b"}},
			Notes:      []string{"stopped after 2 executables, having read 1 of 2 layers"},
			Files:      2,
			LayersRead: 1,
		},
	}}
	for _, tc := range tests {
		for _, mt := range compressions {
			t.Run(tc.name+"/"+mt[strings.LastIndex(mt, ".")+1:], func(t *testing.T) {
				t.Parallel()
				img := build(t, mt, tc.layers...)
				got, err := Detect(t.Context(), img.layers, tc.opts)
				img.checkOpens(t)
				switch want := tc.wantErr.(type) {
				case nil:
					if err != nil {
						t.Fatalf("Detect() error = %v, want nil", err)
					}
				case *NoExecutablesError:
					if !errors.As(err, &want) {
						t.Fatalf("Detect() error = %v, want a *NoExecutablesError", err)
					}
				case *ConflictError:
					if !errors.As(err, &want) {
						t.Fatalf("Detect() error = %v, want a *ConflictError", err)
					}
					if diff := cmp.Diff(tc.want.Counts, want.Counts); diff != "" {
						t.Errorf("ConflictError.Counts mismatch (-want +got):\n%s", diff)
					}
				}
				if diff := cmp.Diff(&tc.want, got, compareEvidence...); diff != "" {
					t.Errorf("Detect() evidence mismatch (-want +got):\n%s", diff)
				}
				if got.BytesRead <= 0 || got.BytesRead > img.size {
					t.Errorf("Detect() BytesRead = %d, want in (0, %d]", got.BytesRead, img.size)
				}
				if len(tc.want.Notes) > 0 && strings.HasPrefix(tc.want.Notes[0], "stopped") && got.BytesRead >= img.size {
					t.Errorf("Detect() BytesRead = %d after stopping early, want less than the image's %d", got.BytesRead, img.size)
				}
			})
		}
	}
}

func TestDetectSniffsCompression(t *testing.T) {
	t.Parallel()
	layer := tarOf(t, []entry{exe("app", bin(t, "linux-arm64"))})
	tests := []struct {
		name, content, mediaType string
	}{
		{"gzip content, tar media type", gz, plain},
		{"zstd content, docker gzip media type", zst, "application/vnd.docker.image.rootfs.diff.tar.gzip"},
		{"tar content, gzip media type", plain, gz},
		{"gzip content, .tar.gzip media type", gz, "application/vnd.oci.image.layer.v1.tar.gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := newImage([][]byte{compress(t, tc.content, layer)}, []string{tc.mediaType})
			got, err := Detect(t.Context(), img.layers, Options{})
			if err != nil {
				t.Fatalf("Detect() error = %v, want nil", err)
			}
			if !platform.Same(got.Platform, linuxARM64) {
				t.Errorf("Detect() platform = %v, want %v", got.Platform, linuxARM64)
			}
		})
	}
}

func TestDetectErrors(t *testing.T) {
	t.Parallel()
	amd64 := bin(t, "linux-amd64")
	openErr := errors.New("blob unknown")
	tests := []struct {
		name    string
		layers  func(cancel func()) []Layer
		wantErr error  // matched with errors.Is, when set
		wantMsg string // a part of the message
	}{{
		name: "open fails",
		layers: func(func()) []Layer {
			return []Layer{{Digest: "sha256:abc", MediaType: gz, Open: func() (io.ReadCloser, error) { return nil, openErr }}}
		},
		wantErr: openErr,
		wantMsg: "reading layer sha256:abc: opening blob: blob unknown",
	}, {
		name: "not a tar stream",
		layers: func(func()) []Layer {
			return []Layer{{Digest: "sha256:abc", MediaType: gz, Open: func() (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader(strings.Repeat("not a layer ", 100))), nil
			}}}
		},
		wantMsg: `media type "application/vnd.oci.image.layer.v1.tar+gzip", but no gzip or zstd magic`,
	}, {
		name: "truncated gzip",
		layers: func(func()) []Layer {
			blob := compress(t, gz, tarOf(t, []entry{exe("app", amd64)}))
			return []Layer{{Digest: "sha256:abc", MediaType: gz, Open: func() (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(blob[:len(blob)/2])), nil
			}}}
		},
		wantErr: io.ErrUnexpectedEOF,
	}, {
		name: "cancelled while reading",
		layers: func(cancel func()) []Layer {
			blob := tarOf(t, []entry{file("data", 0o644, make([]byte, 1<<20)), exe("app", amd64)})
			return []Layer{{Digest: "sha256:abc", MediaType: plain, Open: func() (io.ReadCloser, error) {
				return io.NopCloser(&cancelAfter{r: bytes.NewReader(blob), n: 64 << 10, cancel: cancel}), nil
			}}}
		},
		wantErr: context.Canceled,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			got, err := Detect(ctx, tc.layers(cancel), Options{})
			if err == nil {
				t.Fatalf("Detect() = %v, want an error", got)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Detect() error = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Detect() error = %q, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}

// cancelAfter cancels a context once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestDetectCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	img := build(t, plain, []entry{exe("app", bin(t, "linux-amd64"))})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Detect(ctx, img.layers, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Detect(cancelled) error = %v, want %v", err, context.Canceled)
	}
	if n := img.opens[0].Load(); n != 0 {
		t.Errorf("Detect(cancelled) opened the layer %d times, want 0", n)
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{{
		err: &ConflictError{
			Counts:   map[string]int{"linux/amd64": 2, "linux/arm64": 3},
			Examples: map[string][]string{"linux/amd64": {"/a", "/b"}, "linux/arm64": {"/c", "/d", "/e"}},
		},
		want: `detecting platform: executables disagree, linux/arm64: 3 (/c, /d, /e); linux/amd64: 2 (/a, /b); no platform has 90% of them: set "platform" explicitly`,
	}, {
		err:  &NoExecutablesError{LayersRead: 2, Ignored: []string{"3 scripts (#!), e.g. /a, /b, /c"}},
		want: `detecting platform: no ELF or PE executable found in 2 layers (ignored: 3 scripts (#!), e.g. /a, /b, /c); set "platform" explicitly, e.g. linux/amd64`,
	}}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestEvidenceString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   Evidence
		want string
	}{{
		name: "one platform",
		ev:   Evidence{Platform: linuxARM64, Counts: map[string]int{"linux/arm64": 23}, Files: 23, formats: map[string]int{"ELF": 23}},
		want: "23 ELF files: linux/arm64",
	}, {
		name: "a clear majority",
		ev: Evidence{
			Platform: linuxAMD64, Counts: map[string]int{"linux/amd64": 30, "windows/amd64": 1}, Files: 31,
			formats: map[string]int{"ELF": 30, "PE": 1},
		},
		want: "31 ELF and PE files: linux/amd64 (30), windows/amd64 (1)",
	}, {
		name: "nothing found",
		ev:   Evidence{LayersRead: 2},
		want: "no ELF or PE executable",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.ev.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClearMajority(t *testing.T) {
	t.Parallel()
	amd64, arm64 := bin(t, "linux-amd64"), bin(t, "linux-arm64")
	layer := func(nAMD64, nARM64 int) []entry {
		var l []entry
		for i := range nAMD64 {
			l = append(l, exe("amd64/"+string(rune('a'+i)), amd64))
		}
		for i := range nARM64 {
			l = append(l, exe("arm64/"+string(rune('a'+i)), arm64))
		}
		return l
	}
	tests := []struct {
		amd64, arm64 int
		wantConflict bool
	}{{9, 1, false}, {8, 1, true}, {1, 9, false}, {5, 0, false}}
	for _, tc := range tests {
		img := build(t, plain, layer(tc.amd64, tc.arm64))
		_, err := Detect(t.Context(), img.layers, Options{})
		var conflict *ConflictError
		if got := errors.As(err, &conflict); got != tc.wantConflict {
			t.Errorf("Detect(%d amd64, %d arm64) error = %v, want conflict %v", tc.amd64, tc.arm64, err, tc.wantConflict)
		}
	}
}

func TestARMVariant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cpuArch byte
		want    string
	}{{4, "v5"}, {6, "v6"}, {9, "v6"}, {10, "v7"}, {14, "v8"}}
	for _, tc := range tests {
		got, ok := armVariant(armAttributes(tc.cpuArch), binary.LittleEndian)
		if !ok || got != tc.want {
			t.Errorf("armVariant(Tag_CPU_arch %d) = %q, %v, want %q, true", tc.cpuArch, got, ok, tc.want)
		}
	}
	for _, bad := range [][]byte{nil, []byte("B"), armAttributes(10)[:12], armAttributes(0)} {
		if got, ok := armVariant(bad, binary.LittleEndian); ok {
			t.Errorf("armVariant(%q) = %q, true, want false", bad, got)
		}
	}
}

func TestParsePE(t *testing.T) {
	t.Parallel()
	win := bin(t, "windows-amd64.exe")
	peOff := int(binary.LittleEndian.Uint32(win[0x3c:]))
	// A .NET AnyCPU assembly: machine i386 and a CLR runtime header.
	managed := bytes.Clone(win)
	binary.LittleEndian.PutUint16(managed[peOff+4:], 0x14c)
	const pe32PlusDirs = 112
	binary.LittleEndian.PutUint32(managed[peOff+24+pe32PlusDirs+8*14:], 0x2000)
	// A plain i386 image.
	i386 := bytes.Clone(win)
	binary.LittleEndian.PutUint16(i386[peOff+4:], 0x14c)
	// An object file: not an executable image.
	object := bytes.Clone(win)
	binary.LittleEndian.PutUint16(object[peOff+4+18:], 0)

	tests := []struct {
		name     string
		file     []byte
		want     platform.Platform
		wantSkip string
		wantNil  bool
	}{
		{name: "amd64", file: win, want: windowsAMD64},
		{name: "386", file: i386, want: platform.Platform{OS: "windows", Architecture: "386"}},
		{name: ".NET", file: managed, wantSkip: "architecture-neutral .NET assembly"},
		{name: "object", file: object, wantNil: true},
		{name: "MZ only", file: append([]byte("MZ"), make([]byte, 100)...), wantNil: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := parsePE(tc.file[:min(len(tc.file), headSize)])
			if tc.wantNil {
				if got != nil {
					t.Fatalf("parsePE() = %+v, want nil", got)
				}
				return
			}
			if got == nil {
				t.Fatal("parsePE() = nil, want a result")
			}
			if got.platform != tc.want || got.skip != tc.wantSkip {
				t.Errorf("parsePE() = %v, %q, want %v, %q", got.platform, got.skip, tc.want, tc.wantSkip)
			}
		})
	}
}

func TestELFArch(t *testing.T) {
	t.Parallel()
	le, be := binary.ByteOrder(binary.LittleEndian), binary.ByteOrder(binary.BigEndian)
	tests := []struct {
		machine elf.Machine
		class   elf.Class
		order   binary.ByteOrder
		want    string
	}{
		{elf.EM_386, elf.ELFCLASS32, le, "386"},
		{elf.EM_X86_64, elf.ELFCLASS64, le, "amd64"},
		{elf.EM_X86_64, elf.ELFCLASS32, le, ""}, // x32
		{elf.EM_ARM, elf.ELFCLASS32, le, "arm"},
		{elf.EM_AARCH64, elf.ELFCLASS64, le, "arm64"},
		{elf.EM_PPC64, elf.ELFCLASS64, be, "ppc64"},
		{elf.EM_PPC64, elf.ELFCLASS64, le, "ppc64le"},
		{elf.EM_S390, elf.ELFCLASS64, be, "s390x"},
		{elf.EM_S390, elf.ELFCLASS32, be, ""},
		{elf.EM_RISCV, elf.ELFCLASS64, le, "riscv64"},
		{elf.EM_LOONGARCH, elf.ELFCLASS64, le, "loong64"},
		{elf.EM_MIPS, elf.ELFCLASS32, be, "mips"},
		{elf.EM_MIPS, elf.ELFCLASS32, le, "mipsle"},
		{elf.EM_MIPS, elf.ELFCLASS64, be, "mips64"},
		{elf.EM_MIPS, elf.ELFCLASS64, le, "mips64le"},
		{elf.EM_SPARCV9, elf.ELFCLASS64, be, ""},
	}
	for _, tc := range tests {
		if got := elfArch(tc.machine, tc.class, tc.order); got != tc.want {
			t.Errorf("elfArch(%v, %v, %v) = %q, want %q", tc.machine, tc.class, tc.order, got, tc.want)
		}
	}
}
