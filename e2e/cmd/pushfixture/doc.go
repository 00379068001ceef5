// Command pushfixture pushes a small Docker v2 image shaped like the output
// of `pack buildpack package`, with "architecture":"" in its config, to the
// tag given as its only argument, and prints the manifest digest.
//
// CI pushes it into a registry service container before running the action
// on it:
//
//	go -C e2e run ./cmd/pushfixture localhost:5000/demo/app:1
//
// The image is the same on every run (fixed layer content and times), so
// its digest is too. Registries on loopback are reached over plain HTTP.
package main
