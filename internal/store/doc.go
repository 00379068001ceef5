// Package store is what the engine asks of a place that holds an image: a
// registry's repository (package registry) or an OCI layout or archive
// (package layout). Repository is what every place does; what only some
// do (copy a blob in by mounting it, list referrers, commit writes at the
// end, count a registry's throttling) are small interfaces of their own, found by type assertion, as
// oras-go finds a registry.Mounter. CopyBlob copies a blob between any
// two, mounting where the destination can. Ref and RepoRef name an image
// and a repository of a place, with its scheme: what the engine and the
// sweep carry instead of a registry package's names (imageref makes them
// from image lines). The manifest, limits and errors both sides share live
// here, so that neither imports the other, and Section: a blob in a local
// file, which an upload may send unread.
package store
