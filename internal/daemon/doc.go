// Package daemon reaches the Docker engine as a place that holds images
// (docker-daemon:NAME[:TAG] and docker-daemon:sha256:ID), with plain HTTP
// over the engine's socket and no Docker client library: the three calls
// the tool needs do not justify go-containerregistry's pkg/v1/daemon and
// the seventeen modules it brings.
//
// A Client speaks Engine API 1.41 and later on versioned paths, the
// version negotiated once with GET /_ping. What the doors branch on are
// typed errors: *NoEngineError (nothing listens at DOCKER_HOST),
// *PermissionError (the socket or the engine refuses us), *NotFoundError
// (no such image) and *TooOldError (an engine older than API 1.41).
//
// Three calls serve every mode:
//
//   - Inspect (GET /images/{name}/json) gives os, architecture, variant,
//     os.version, the image ID, its tags and diff IDs in one request with
//     no layer read: check and plan need nothing more.
//   - Save (GET /images/{id}/get) is read as a stream, never buffered: the
//     raw config bytes (whose sha256 is the image ID in the classic store)
//     and the layers one at a time, in the order the archive holds them,
//     so that auto stops reading as soon as the platform is settled. In
//     the containerd store the save is an OCI layout in digest order: its
//     layer blobs come with their digests, and the JSON blobs passed
//     (manifests, indexes, configs) are kept, bounded, for Blob.
//   - Load (POST /images/load) posts an archive of manifest.json and the
//     new config alone: the engine has every layer, finds each by its
//     chain ID and never asks for its bytes, and moves the tag to the new
//     image ID. LoadOCI is the same for the containerd image store, whose
//     engine keeps manifests, with an OCI layout of the new manifest or
//     index and the new blobs it needs (configs, child manifests).
//
// The engine is trusted no more than an archive is: sizes of what is kept
// in memory are bounded, the config read is checked against its digest.
package daemon
