package detect

import (
	"bytes"
	"debug/elf"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// headSize and tailSize bound what is kept of one file: its first bytes,
// which hold the ELF or PE header (and, for Go binaries, the ELF section
// headers), and its last bytes, which hold the section headers and the small
// non-allocated sections such as .ARM.attributes in binaries linked by GNU
// ld. The bytes in between are read from the stream and dropped.
const (
	headSize = 64 << 10
	tailSize = 64 << 10
)

// binaryInfo is what the header of one file says.
type binaryInfo struct {
	format   string // "ELF" or "PE"
	platform platform.Platform
	// variantKnown is false for arm binaries whose variant was not recorded
	// and is assumed.
	variantKnown bool
	// skip, when set, says why the file is not evidence although it is a
	// binary, e.g. "unknown ELF machine EM_SPARC".
	skip string
}

// window is an io.ReaderAt over the parts of a file that were kept: head at
// offset 0 and tail at tailOff. Reads elsewhere fail with errOutside, which
// makes debug/elf give up on what it cannot see.
type window struct {
	head, tail []byte
	tailOff    int64
	size       int64
}

var errOutside = errors.New("outside the bytes kept of the file")

func (w *window) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if off < 0 {
		return 0, errOutside
	}
	for _, part := range []struct {
		b   []byte
		off int64
	}{{w.head, 0}, {w.tail, w.tailOff}} {
		partEnd := part.off + int64(len(part.b))
		if off < part.off || off > partEnd {
			continue
		}
		n := copy(p, part.b[off-part.off:])
		switch {
		case n == len(p):
			return n, nil
		case partEnd == w.size:
			return n, io.EOF
		}
	}
	if off >= w.size && end > off {
		return 0, io.EOF
	}
	return 0, errOutside
}

// isELF and isPE tell the format from the first bytes of a file.
func isELF(head []byte) bool { return bytes.HasPrefix(head, []byte(elf.ELFMAG)) }
func isPE(head []byte) bool  { return bytes.HasPrefix(head, []byte("MZ")) }

// elfIdent reads the fields of an ELF header that name the platform. They
// sit at the same offsets in 32- and 64-bit files, so the first 20 bytes
// are enough, whatever else is missing.
func elfIdent(head []byte) (class elf.Class, order binary.ByteOrder, osabi elf.OSABI, typ elf.Type, machine elf.Machine, ok bool) {
	if len(head) < 20 || !isELF(head) {
		return 0, nil, 0, 0, 0, false
	}
	class = elf.Class(head[elf.EI_CLASS])
	switch elf.Data(head[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		order = binary.BigEndian
	default:
		return 0, nil, 0, 0, 0, false
	}
	osabi = elf.OSABI(head[elf.EI_OSABI])
	typ = elf.Type(order.Uint16(head[16:]))
	machine = elf.Machine(order.Uint16(head[18:]))
	return class, order, osabi, typ, machine, true
}

// elfArch maps an ELF machine, class and byte order to a GOARCH.
//
//nolint:gocyclo // one case per ELF machine Go supports, each with its class and byte-order rule: the switch is the table.
func elfArch(machine elf.Machine, class elf.Class, order binary.ByteOrder) string {
	is64 := class == elf.ELFCLASS64
	little := order == binary.LittleEndian
	switch machine {
	case elf.EM_386:
		if !is64 {
			return "386"
		}
	case elf.EM_X86_64:
		if is64 { // a 32-bit x86-64 file is the x32 ABI, which Go lacks
			return "amd64"
		}
	case elf.EM_ARM:
		if !is64 && little {
			return "arm"
		}
	case elf.EM_AARCH64:
		if is64 && little {
			return "arm64"
		}
	case elf.EM_PPC64:
		if is64 && little {
			return "ppc64le"
		}
		if is64 {
			return "ppc64"
		}
	case elf.EM_S390:
		if is64 {
			return "s390x"
		}
	case elf.EM_RISCV:
		if is64 {
			return "riscv64"
		}
	case elf.EM_LOONGARCH:
		if is64 {
			return "loong64"
		}
	case elf.EM_MIPS, elf.EM_MIPS_RS3_LE:
		switch {
		case is64 && little:
			return "mips64le"
		case is64:
			return "mips64"
		case little:
			return "mipsle"
		default:
			return "mips"
		}
	}
	return ""
}

// elfOS maps EI_OSABI to a GOOS. Linux binaries mostly leave it at 0
// (System V); the BSDs' linkers, Go's included, set it.
func elfOS(osabi elf.OSABI) string {
	switch osabi {
	case elf.ELFOSABI_NONE, elf.ELFOSABI_LINUX, elf.ELFOSABI_ARM:
		return "linux"
	case elf.ELFOSABI_FREEBSD:
		return "freebsd"
	case elf.ELFOSABI_NETBSD:
		return "netbsd"
	case elf.ELFOSABI_OPENBSD:
		return "openbsd"
	case elf.ELFOSABI_SOLARIS:
		return "solaris"
	}
	return ""
}

// parseELF reads the platform of an ELF file. w holds what was kept of it.
// It returns nil for ELF files that are neither executables nor shared
// objects (relocatable objects, core dumps), and for shared-library names
// whose file is not a shared object when the file is not marked executable.
func parseELF(w *window, executable bool) *binaryInfo {
	class, order, osabi, typ, machine, ok := elfIdent(w.head)
	if !ok {
		return nil
	}
	switch {
	case typ == elf.ET_DYN:
	case typ == elf.ET_EXEC && executable:
	default:
		return nil
	}
	info := &binaryInfo{format: "ELF", variantKnown: true}
	arch := elfArch(machine, class, order)
	if arch == "" {
		info.skip = fmt.Sprintf("unknown ELF machine %v, %v", machine, class)
		return info
	}
	goos := elfOS(osabi)
	if goos == "" {
		info.skip = fmt.Sprintf("unknown ELF OS ABI %v", osabi)
		return info
	}
	info.platform = platform.Platform{OS: goos, Architecture: arch}
	if arch == "arm" {
		v, ok := armVariantOf(w)
		if !ok {
			v = "v7"
		}
		info.platform.Variant, info.variantKnown = v, ok
	}
	return info
}

// armVariantOf reads Tag_CPU_arch from the .ARM.attributes section, when the
// section headers and the section are within the bytes kept.
func armVariantOf(w *window) (string, bool) {
	f, err := elf.NewFile(w)
	if err != nil {
		return "", false
	}
	defer f.Close()
	s := f.Section(".ARM.attributes")
	if s == nil {
		return "", false
	}
	data, err := s.Data()
	if err != nil {
		return "", false
	}
	return armVariant(data, f.ByteOrder)
}

// armVariant parses the contents of an .ARM.attributes section (ARM IHI 0045,
// "Addenda to, and Errata in, the ABI for the Arm Architecture", build
// attributes) and maps Tag_CPU_arch of the file to a variant.
func armVariant(data []byte, order binary.ByteOrder) (string, bool) {
	if len(data) < 1 || data[0] != 'A' {
		return "", false
	}
	data = data[1:]
	for len(data) >= 4 {
		n := order.Uint32(data)
		if n < 4 || uint64(n) > uint64(len(data)) {
			return "", false
		}
		sub := data[4:n]
		data = data[n:]
		vendor, rest, ok := bytes.Cut(sub, []byte{0})
		if !ok || string(vendor) != "aeabi" {
			continue
		}
		for len(rest) >= 5 {
			tag, size := rest[0], order.Uint32(rest[1:])
			if size < 5 || uint64(size) > uint64(len(rest)) {
				return "", false
			}
			body := rest[5:size]
			rest = rest[size:]
			const tagFile = 1
			if tag != tagFile {
				continue
			}
			if arch, ok := cpuArch(body); ok {
				return variantOfCPUArch(arch)
			}
		}
	}
	return "", false
}

// cpuArch finds Tag_CPU_arch (6) among the attributes of a Tag_File
// subsection. Attribute values are ULEB128 numbers or NUL-terminated
// strings, depending on the tag.
func cpuArch(attrs []byte) (uint64, bool) {
	for len(attrs) > 0 {
		tag, n := binary.Uvarint(attrs)
		if n <= 0 {
			return 0, false
		}
		attrs = attrs[n:]
		var isString bool
		switch {
		case tag == 4 || tag == 5 || tag == 65 || tag == 67: // CPU_raw_name, CPU_name, also_compatible_with, conformance
			isString = true
		case tag == 32: // compatibility: a number, then a string
			_, n := binary.Uvarint(attrs)
			if n <= 0 {
				return 0, false
			}
			attrs = attrs[n:]
			isString = true
		case tag > 32:
			isString = tag%2 == 1
		}
		if isString {
			_, rest, ok := bytes.Cut(attrs, []byte{0})
			if !ok {
				return 0, false
			}
			attrs = rest
			continue
		}
		v, n := binary.Uvarint(attrs)
		if n <= 0 {
			return 0, false
		}
		attrs = attrs[n:]
		const tagCPUArch = 6
		if tag == tagCPUArch {
			return v, true
		}
	}
	return 0, false
}

// variantOfCPUArch maps Tag_CPU_arch to the variants container images use
// (v5 to v8). v4 and v4T run wherever v5 does, so they count as v5.
func variantOfCPUArch(arch uint64) (string, bool) {
	switch arch {
	case 1, 2, 3, 4, 5: // v4, v4T, v5T, v5TE, v5TEJ
		return "v5", true
	case 6, 7, 8, 9, 11, 12: // v6, v6KZ, v6T2, v6K, v6-M, v6S-M
		return "v6", true
	case 10, 13: // v7, v7E-M
		return "v7", true
	}
	if arch >= 14 { // v8-A and later
		return "v8", true
	}
	return "", false
}

// parsePE reads the platform of a PE image from its COFF header. It returns
// nil for files that are not PE images (object files, or MZ files without a
// PE header within the first bytes).
func parsePE(head []byte) *binaryInfo {
	if len(head) < 0x40 || !isPE(head) {
		return nil
	}
	off := int(binary.LittleEndian.Uint32(head[0x3c:]))
	const fileHeaderSize = 20
	if off < 0 || off > len(head)-4-fileHeaderSize || string(head[off:off+4]) != "PE\x00\x00" {
		return nil
	}
	var fh pe.FileHeader
	if err := binary.Read(bytes.NewReader(head[off+4:]), binary.LittleEndian, &fh); err != nil {
		return nil
	}
	if fh.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
		return nil
	}
	info := &binaryInfo{format: "PE", variantKnown: true}
	opt := head[off+4+fileHeaderSize:]
	if int(fh.SizeOfOptionalHeader) <= len(opt) {
		opt = opt[:fh.SizeOfOptionalHeader]
	}
	if fh.Machine == pe.IMAGE_FILE_MACHINE_I386 && isManaged(opt) {
		// .NET "AnyCPU" assemblies are marked i386 but run on any
		// architecture; Windows images hold many of them.
		info.skip = "architecture-neutral .NET assembly"
		return info
	}
	arch := map[uint16]string{
		pe.IMAGE_FILE_MACHINE_I386:  "386",
		pe.IMAGE_FILE_MACHINE_AMD64: "amd64",
		pe.IMAGE_FILE_MACHINE_ARM64: "arm64",
		pe.IMAGE_FILE_MACHINE_ARMNT: "arm",
	}[fh.Machine]
	if arch == "" {
		info.skip = fmt.Sprintf("unknown PE machine %#x", fh.Machine)
		return info
	}
	info.platform = platform.Platform{OS: "windows", Architecture: arch}
	if arch == "arm" {
		info.platform.Variant = "v7" // Windows on ARM32 is Thumb-2 only
	}
	return info
}

// isManaged reports whether a PE optional header has a CLR runtime header,
// i.e. the file is a .NET assembly.
func isManaged(opt []byte) bool {
	var countOff int
	switch {
	case len(opt) < 2:
		return false
	case binary.LittleEndian.Uint16(opt) == 0x10b: // PE32
		countOff = 92
	case binary.LittleEndian.Uint16(opt) == 0x20b: // PE32+
		countOff = 108
	default:
		return false
	}
	if len(opt) < countOff+4 {
		return false
	}
	n := binary.LittleEndian.Uint32(opt[countOff:])
	dir := countOff + 4 + 8*pe.IMAGE_DIRECTORY_ENTRY_COM_DESCRIPTOR
	if n <= pe.IMAGE_DIRECTORY_ENTRY_COM_DESCRIPTOR || len(opt) < dir+8 {
		return false
	}
	return binary.LittleEndian.Uint32(opt[dir:]) != 0
}
