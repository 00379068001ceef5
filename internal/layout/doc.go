// Package layout reads and writes images where builders leave them before
// a registry sees them: an OCI image layout directory (oci:), a tar of one
// (oci-archive:, which a buildpack .cnb, buildx --output type=oci and the
// docker save of Engine 25 and later are), and a docker save tar that holds
// only manifest.json (docker-archive:).
//
// A *Layout holds one repository's manifests and blobs with the method set
// of *registry.Repository (GetManifest, HeadManifest, PutManifest, GetBlob,
// OpenBlob, PushBlob, Tags, Name, ReferrersPage), so that one interface
// fits both, plus Commit and Close for what only a file needs: an archive
// is rewritten once, at the end. Manifests are *registry.Manifest values
// and the errors callers branch on are the registry's (ErrDigestMismatch,
// *TooLargeError) or have a NotFound method as its *Error has.
//
// Archives are untrusted input. They are read where they lie, never
// extracted: the tar's headers are indexed once (name, offset, size) and a
// file is read through an io.SectionReader, so checking a 1 GiB .cnb reads
// its headers, index.json, manifests and configs. entryName is the one
// place an entry is judged. Every blob read is checked against its digest.
//
// Writes keep every byte that does not have to change: index.json is
// edited by the patch package (the entry re-pointed, or a tagged entry
// appended), never re-marshalled; a directory gets each blob and each
// index.json through a temporary file, fsync and rename; an archive stages
// new blobs in a temporary directory beside it and is rewritten once by
// Commit, beside itself, then renamed over the original, so that a run
// killed at any moment leaves the old file or the new one.
package layout
