// Package platform parses, normalizes, validates and formats the platform an
// image runs on, written "os/arch[/variant][:os.version]".
//
// Valid operating systems and architectures are Go's GOOS and GOARCH names,
// and the pair must be one Go supports; the table of pairs in known.go is
// generated from "go tool dist list". Common aliases (x86_64, aarch64, armhf,
// macos, ...) are normalized, each with a notice for the caller to print.
// Anything else unknown is a *ParseError naming the closest valid value.
//
// The value "auto" is not a platform and is left to the caller.
package platform

//go:generate go run gen.go
