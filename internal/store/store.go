package store

import (
	"context"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Limits on what is read into memory.
const (
	MaxManifestSize int64 = 4 << 20
	MaxConfigSize   int64 = 8 << 20
)

// Manifest is a manifest or index as the place holds it.
type Manifest struct {
	MediaType types.MediaType
	Bytes     []byte
	Digest    v1.Hash
}

// ErrDigestMismatch means content did not hash to the digest it was asked
// for or announced with.
var ErrDigestMismatch = errors.New("digest mismatch")

// ErrNoReferrersAPI is wrapped by ReferrersPage when the place does not
// serve the OCI referrers API.
var ErrNoReferrersAPI = errors.New("registry has no referrers API")

// TooLargeError is returned when a manifest or config is larger than the
// limit this tool reads into memory.
type TooLargeError struct {
	What  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %d MiB", e.What, e.Limit>>20)
}

// Repository is one repository of a place that holds images. A ref is a
// tag or a digest. A manifest or blob that is not there is an error with
// a NotFound() bool method that says so.
type Repository interface {
	// Name is the repository as messages name it.
	Name() string
	// GetManifest reads the manifest at ref, checked against its digest.
	GetManifest(ctx context.Context, ref string) (*Manifest, error)
	// HeadManifest is the digest ref names, asked for as mediaType.
	HeadManifest(ctx context.Context, ref string, mediaType types.MediaType) (v1.Hash, error)
	// Resolve is the digest ref names, whatever its media type.
	Resolve(ctx context.Context, ref string) (v1.Hash, error)
	// PutManifest writes body at ref.
	PutManifest(ctx context.Context, ref string, body []byte, mediaType types.MediaType) error
	// GetBlob reads blob d, at most limit bytes; what names it in errors.
	GetBlob(ctx context.Context, d v1.Hash, limit int64, what string) ([]byte, error)
	// OpenBlob streams blob d.
	OpenBlob(ctx context.Context, d v1.Hash) (io.ReadCloser, error)
	// BlobExists reports whether the repository holds blob d.
	BlobExists(ctx context.Context, d v1.Hash) (bool, error)
	// PushBlob stores blob d of size bytes, read from body, which may be
	// read again from its start.
	PushBlob(ctx context.Context, d v1.Hash, size int64, body io.ReadSeeker) error
	// Tags lists every tag.
	Tags(ctx context.Context) ([]string, error)
}

// NotFound reports whether err says that what was asked for is not there:
// an error of its chain has a NotFound() bool method that says so.
func NotFound(err error) bool {
	var nf interface{ NotFound() bool }
	return errors.As(err, &nf) && nf.NotFound()
}

// BlobCopier is a repository that copies a blob in from another itself:
// a registry mounts one of its own repositories' blobs.
type BlobCopier interface {
	CopyBlob(ctx context.Context, from Repository, desc v1.Descriptor) error
}

// ReferrersLister is a repository that lists referrers as the OCI
// referrers API does: one page of an image index for subject d, the first
// when page is "", and the next page ("" after the last). An error wraps
// ErrNoReferrersAPI when there is no such list.
type ReferrersLister interface {
	ReferrersPage(ctx context.Context, d v1.Hash, page string) (body []byte, next string, err error)
}

// BlobStreamer is a repository that takes a blob from a stream read once,
// start to end (a layer as it comes out of docker save): a registry.
type BlobStreamer interface {
	PushStream(ctx context.Context, d v1.Hash, size int64, body io.Reader) error
}

// Committer is a repository whose writes land only at Commit: an archive
// rewritten once after all of them.
type Committer interface {
	Commit(ctx context.Context) error
}

// Throttler is a place that counts the 429 Too Many Requests answers its
// registry gave, for the whole registry: a registry client, not each of
// its repositories.
type Throttler interface {
	Throttled() int
}

// CopyBlob makes blob desc of from present in to: to copies it itself
// when it can (a registry mounts across its repositories), else it is
// streamed from one to the other.
func CopyBlob(ctx context.Context, to, from Repository, desc v1.Descriptor) error {
	if c, ok := to.(BlobCopier); ok {
		return c.CopyBlob(ctx, from, desc)
	}
	rc, err := from.OpenBlob(ctx, desc.Digest)
	if err != nil {
		return fmt.Errorf("reading blob %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	body, ok := rc.(io.ReadSeeker)
	if !ok {
		body = &onePass{r: rc}
	}
	return to.PushBlob(ctx, desc.Digest, desc.Size, body)
}

// onePass is a stream read once: seeking to its start succeeds until the
// first read, so that a PushBlob that rewinds first takes it.
type onePass struct {
	r    io.Reader
	read bool
}

func (o *onePass) Read(p []byte) (int, error) {
	o.read = true
	return o.r.Read(p)
}

func (o *onePass) Seek(offset int64, whence int) (int64, error) {
	if offset == 0 && whence == io.SeekStart && !o.read {
		return 0, nil
	}
	return 0, errors.New("seeking a blob streamed from another place: it is read once")
}
