// Package oci holds the small OCI helpers every place that holds or reads
// an image needs alike: the digest of bytes in memory, what a manifest's
// JSON says it is (its declared mediaType, or its shape), and a lenient
// reading of the descriptors any manifest, index or referrer carries. It
// only reads: bytes are patched by package patch, never re-encoded, and
// package plan reads the manifests it patches strictly, with its own
// types.
package oci
