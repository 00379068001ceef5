// Package imageref parses an image line into a reference that carries where
// the image lives: a registry, an OCI image layout directory, a tar of one
// (an oci-archive, such as a buildpack .cnb), a docker save tar, or the
// Docker engine. The prefixes are those of containers/image (skopeo,
// podman), so that a line a person already uses with those tools means the
// same here.
//
// A line without a known prefix is a registry reference, parsed by
// go-containerregistry's name package as before; "docker://" may precede
// one. A registry line ending in a tag pattern is parsed here too
// (ParsePattern), and RefOf turns a parsed name into the store.Ref the
// engine carries. For the local kinds PATH is split from REF at the first
// colon (oci:out:v1.* is PATH out, REF v1.*), and a relative PATH is resolved
// against the working directory the caller gives (the workspace, in the
// action), never the process's own.
package imageref
