package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/registry"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// verifier hashes what is read through it and turns the end of a blob
// whose bytes miss their digest into an error: a blob streamed from an
// untrusted archive is checked on the one pass that reads it.
type verifier struct {
	rc     io.ReadCloser
	h      hash.Hash
	want   v1.Hash
	layout string
}

func newVerifier(rc io.ReadCloser, d v1.Hash, layout string) *verifier {
	return &verifier{rc: rc, h: sha256.New(), want: d, layout: layout}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.Hex {
			return n, fmt.Errorf("reading blob %s of %q: content has digest sha256:%s: %w", v.want, v.layout, got, registry.ErrDigestMismatch)
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.rc.Close() }

// sectionVerifier is a verifier of a blob held as a store.Section, which
// an upload may send unread (store.Sectioned).
type sectionVerifier struct {
	*verifier
	sec *store.Section
}

func (v sectionVerifier) Section() *store.Section { return v.sec }
