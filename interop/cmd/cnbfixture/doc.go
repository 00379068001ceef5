// Command cnbfixture writes a small buildpack package as `pack buildpack
// package FILE --format file` (pack v0.40.3) writes it: an OCI image layout
// in a tar whose entries are named from the archive's root ("/oci-layout",
// "/index.json", "/blobs/sha256/…"), one image, OCI media types. Without
// -target its config says "architecture": "", as pack's does when the
// buildpack declares no targets; with -target linux/amd64 it says "amd64"
// in the same place, which is what the tool's byte-faithful fix of the
// first must produce.
//
// The act runs' stand-in for pack calls it:
//
//	cnbfixture [-target OS/ARCH] FILE
//
// The file is the same on every run (fixed content and times).
package main
