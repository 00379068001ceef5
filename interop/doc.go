// Package interop drives set-image-platform together with the clients its
// users run before and after it: pack publishes buildpack packages whose
// architecture is empty, the tool fixes them, crane, regctl and podman put
// them into indexes, and skopeo, regctl, docker and podman pick a platform
// from those indexes. And the workflows users read, the README's examples
// and CI's `action` job, run under nektos/act (TestActWorkflows), each
// checked by what its later steps saw and by what the registry holds.
// TestPackCNBFixed runs issue 23's story through the built binary, run as
// the runner runs the action: the .cnb pack writes without --target is
// checked (and refused), fixed in place into the config pack writes with
// --target, read by skopeo, podman and pack, and published to a registry
// with its own layers; the unfixed .cnb is fixed and published in one step,
// and nothing naming the unfixed image goes over the wire.
// TestLayoutsReadBySkopeo has skopeo and podman read every kind of layout
// and archive the binary fixes, and TestDockerLoadsFixedArchives has docker
// load what the binary fixed in docker save's own output.
// TestOrasDiscoversCarried builds oras from its module source, attaches an
// SBOM to a layout's image with it, fixes the image with referrers: carry,
// and has oras discover the SBOM from the new digest.
// TestPackBuildFixed builds an app with `pack build` into the Docker engine
// from local files (a lifecycle built from its source); the tool, run as
// the action on docker-daemon:APP, fails its check and fixes it in place,
// and `docker run --platform linux/amd64` starts it.
//
// It is its own module, outside the default test run (`go test ./...` at the
// root and in e2e/ do not reach it), because it builds pack, regctl, act and
// a registry, starts a Docker engine, and takes minutes. Run it with
//
//	go -C interop test -count=1 -timeout 30m ./...
//
// It needs skopeo, podman, dockerd and the docker CLI on PATH, and
// debootstrap (run as root, or through sudo) for the act runs' job image
// unless INTEROP_CACHE holds it; see docs/interop.md for what it measured.
package interop
