// Package e2e holds the end-to-end tests of set-image-platform: they build
// the binary, start CNCF Distribution registries in process, put a
// recording proxy between the binary and each registry, and drive the binary
// exactly as the GitHub runner does (INPUT_* variables, GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY) or as a person does on the command line.
//
// Run with:
//
//	cd e2e && go test ./...
package e2e
