// Package detect reads the platform of an image from the headers of the
// executables in its layers, for "platform: auto".
//
// # What counts
//
// A regular file counts as one executable when its header is ELF or PE and
//   - an ELF file is an executable (ET_EXEC) or shared object (ET_DYN) with
//     an x bit in its mode, or a shared object (ET_DYN) named *.so or *.so.*;
//   - a PE file is an image (IMAGE_FILE_EXECUTABLE_IMAGE) with an x bit, or
//     any PE image under Files/ or UtilityVM/Files/, where Windows layers
//     keep their files (their tar entries carry no x bits). PE files
//     elsewhere without an x bit, such as the .exe launchers that pip and
//     setuptools ship in Linux images, do not count.
//
// The ELF machine, class and byte order give the GOARCH (386, amd64, arm,
// arm64, ppc64, ppc64le, s390x, riscv64, loong64, mips, mipsle, mips64,
// mips64le) and EI_OSABI the GOOS (linux, or freebsd, netbsd, openbsd,
// solaris). The variant of arm comes from Tag_CPU_arch in .ARM.attributes
// (v5, v6, v7, v8). Go's linker writes no such section, and in other files
// it may lie outside the bytes kept (below): a file without it is taken as
// v7, with a note in Evidence.Notes. The PE machine gives windows/386, amd64,
// arm64 or arm/v7; .NET assemblies marked i386 run on any architecture and
// are ignored.
//
// Ignored, and said so in Evidence.Ignored: scripts (#!), symbolic links,
// emulators and binfmt helpers (qemu-*, anything under a qemu-binfmt
// directory) and binaries of unknown machines. Hard links count as the file
// they link to.
//
// # Reading
//
// Layers are streamed, never buffered: of each candidate file only the first
// 64 KiB are kept (the ELF or PE header; Go also puts its ELF section headers
// there) and, for arm ELF files, the last 64 KiB (GNU ld's section headers
// and .ARM.attributes); the bytes between pass through and are dropped. A
// layer's compression is told by its magic bytes (gzip, zstd, else plain
// tar), whatever its media type says. Each layer's Open is called at most
// once; cancelling the context stops the scan between reads.
//
// # Order and early stop
//
// Layers are read from the top one down. A file in a lower layer is counted
// only when no upper layer deleted it (a .wh.<name> whiteout of it or of a
// parent, or an opaque directory .wh..wh..opq above it) or replaced it (an
// entry at the same path, or a non-directory at a parent path); within a
// layer the later entry for a path wins. So each file counted is in the
// final image for good, and the scan can stop as soon as
// Options.MaxExecutables (default 64) files are counted: later layers
// could only add files. Stopping in the middle of a layer assumes that the
// rest of that layer does not replace a file already counted, which tar
// writers do not do in practice.
//
// # Decision
//
// The os/arch with the most files wins when it holds at least 90% of the
// files counted; otherwise Detect returns a *ConflictError with the counts
// and example paths. arm variants are merged for the majority; the decided
// variant is the newest one recorded in any file (a v7 image may hold v6
// code, not the reverse), else the assumed v7. amd64 and arm64 get no
// variant. No file counted is a *NoExecutablesError: the image holds only
// scripts or data, and needs an explicit platform.
package detect
