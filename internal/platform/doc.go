// Package platform parses, normalizes, validates and formats the platform an
// image runs on, written "os/arch[/variant][:os.version]".
//
// Valid operating systems and architectures are Go's GOOS and GOARCH names,
// and the pair must be one Go supports; the table of pairs in known.go is
// generated from "go tool dist list". Common aliases (x86_64, aarch64, armhf,
// armv7l, ppc64el, macos, ...) and variants (arm "7" is "v7") are
// normalized, each with a notice for the caller to print. Anything else
// unknown is a *ParseError naming the closest valid value of the same
// family, word size and byte order, or none: no suggestion beats a wrong
// one.
//
// A Platform read from a registry may hold anything; String and Display
// quote the fields that are not valid names (see ValidField).
//
// The value "auto" is not a platform and is left to the caller.
package platform

//go:generate go run gen.go
