package detect

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// binaries are the executables that testdata/binaries/gen.go builds.
var binaries = sync.OnceValues(func() (map[string][]byte, error) {
	m := map[string][]byte{}
	for _, name := range []string{"linux-amd64", "linux-arm64", "linux-arm", "linux-riscv64", "windows-amd64.exe"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "binaries", "hello-"+name))
		if err != nil {
			return nil, err
		}
		m[name] = b
	}
	return m, nil
})

func bin(t testing.TB, name string) []byte {
	t.Helper()
	m, err := binaries()
	if err != nil {
		t.Fatalf("reading test binaries (go run testdata/binaries/gen.go): %v", err)
	}
	return m[name]
}

// entry is one tar entry of a test layer.
type entry struct {
	name string
	mode int64
	typ  byte // tar.TypeReg when 0
	link string
	body []byte
}

func file(name string, mode int64, body []byte) entry {
	return entry{name: name, mode: mode, body: body}
}

func exe(name string, body []byte) entry { return file(name, 0o755, body) }

func dir(name string) entry { return entry{name: name, mode: 0o755, typ: tar.TypeDir} }

func symlink(name, target string) entry {
	return entry{name: name, mode: 0o777, typ: tar.TypeSymlink, link: target}
}

func hardlink(name, target string) entry {
	return entry{name: name, mode: 0o755, typ: tar.TypeLink, link: target}
}

func whiteout(name string) entry { return file(name, 0o644, nil) }

var script = []byte("#!/bin/sh\nexec /cnb/lifecycle/launcher \"$@\"\n")

func tarOf(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typ, Linkname: e.link, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("writing tar header %q: %v", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatalf("writing tar entry %q: %v", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Compressions and the media types that go with them.
const (
	plain = "application/vnd.oci.image.layer.v1.tar"
	gz    = "application/vnd.oci.image.layer.v1.tar+gzip"
	zst   = "application/vnd.oci.image.layer.v1.tar+zstd"
)

var compressions = []string{plain, gz, zst}

func compress(t testing.TB, mediaType string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch mediaType {
	case plain:
		return data
	case gz:
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	case zst:
		zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown media type %q", mediaType)
	}
	return buf.Bytes()
}

// image is a set of test layers that counts the calls of each Open.
type image struct {
	layers []Layer
	opens  []atomic.Int32
	size   int64
}

// newImage makes layers (base first) of blobs with the given media types.
func newImage(blobs [][]byte, mediaTypes []string) *image {
	img := &image{opens: make([]atomic.Int32, len(blobs))}
	for i, b := range blobs {
		img.size += int64(len(b))
		img.layers = append(img.layers, Layer{
			Digest:    "sha256:layer" + string(rune('0'+i)),
			MediaType: mediaTypes[i],
			Open: func() (io.ReadCloser, error) {
				img.opens[i].Add(1)
				return io.NopCloser(bytes.NewReader(b)), nil
			},
		})
	}
	return img
}

// build makes an image whose layers (base first) all use mediaType.
func build(t testing.TB, mediaType string, layers ...[]entry) *image {
	t.Helper()
	var blobs [][]byte
	var types []string
	for _, l := range layers {
		blobs = append(blobs, compress(t, mediaType, tarOf(t, l)))
		types = append(types, mediaType)
	}
	return newImage(blobs, types)
}

// checkOpens fails t when a layer was opened more than once.
func (img *image) checkOpens(t testing.TB) {
	t.Helper()
	for i := range img.opens {
		if n := img.opens[i].Load(); n > 1 {
			t.Errorf("layer %d opened %d times, want at most once", i, n)
		}
	}
}

// armELF makes a minimal 32-bit little-endian ARM executable of size bytes
// or more: ELF header, zeros, an .ARM.attributes section with Tag_CPU_arch
// cpuArch, trailing zeros (after bytes after the section), .shstrtab and the
// section headers at the end, as GNU ld lays them out.
func armELF(t testing.TB, cpuArch byte, gap, after int) []byte {
	t.Helper()
	attrs := armAttributes(cpuArch)
	shstrtab := []byte("\x00.ARM.attributes\x00.shstrtab\x00")
	const ehsize, shentsize = 52, 40
	attrOff := ehsize + gap
	strOff := attrOff + len(attrs) + after
	shoff := strOff + len(shstrtab)
	hdr := elf.Header32{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_ARM), Version: uint32(elf.EV_CURRENT),
		Shoff: uint32(shoff), Flags: 0x05000400, Ehsize: ehsize, Shentsize: shentsize, Shnum: 3, Shstrndx: 2,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS32)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var buf bytes.Buffer
	write := func(v any) {
		if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
			t.Fatal(err)
		}
	}
	write(hdr)
	buf.Write(make([]byte, gap))
	buf.Write(attrs)
	buf.Write(make([]byte, after))
	buf.Write(shstrtab)
	write(elf.Section32{})
	write(elf.Section32{Name: 1, Type: 0x70000003 /* SHT_ARM_ATTRIBUTES */, Off: uint32(attrOff), Size: uint32(len(attrs)), Addralign: 1})
	write(elf.Section32{Name: 17, Type: uint32(elf.SHT_STRTAB), Off: uint32(strOff), Size: uint32(len(shstrtab)), Addralign: 1})
	return buf.Bytes()
}

// armAttributes makes an .ARM.attributes section as GCC writes it for the
// given Tag_CPU_arch, with string and numeric attributes around it.
func armAttributes(cpuArch byte) []byte {
	attrs := []byte{5}
	attrs = append(attrs, "ARM1176JZF-S\x00"...) // Tag_CPU_name
	attrs = append(attrs, 6, cpuArch)            // Tag_CPU_arch
	attrs = append(attrs, 8, 1, 9, 1)            // Tag_ARM_ISA_use, Tag_THUMB_ISA_use
	attrs = append(attrs, 32, 1)                 // Tag_compatibility: flag, vendor
	attrs = append(attrs, "gnu\x00"...)
	attrs = append(attrs, 34, 1) // Tag_CPU_unaligned_access
	file := append([]byte{1, 0, 0, 0, 0}, attrs...)
	binary.LittleEndian.PutUint32(file[1:], uint32(len(file)))
	sub := append([]byte{0, 0, 0, 0}, "aeabi\x00"...)
	sub = append(sub, file...)
	binary.LittleEndian.PutUint32(sub, uint32(len(sub)))
	return append([]byte{'A'}, sub...)
}

// withELFType returns a copy of an ELF file with another e_type.
func withELFType(b []byte, typ elf.Type) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint16(c[16:], uint16(typ))
	return c
}

// withELFMachine returns a copy of an ELF file with another e_machine.
func withELFMachine(b []byte, m elf.Machine) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint16(c[18:], uint16(m))
	return c
}

// withELFOSABI returns a copy of an ELF file with another EI_OSABI.
func withELFOSABI(b []byte, abi elf.OSABI) []byte {
	c := bytes.Clone(b)
	c[elf.EI_OSABI] = byte(abi)
	return c
}
