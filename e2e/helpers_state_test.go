package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// manifestAt is a manifest as stored in the registry.
type manifestAt struct {
	body      []byte
	mediaType string
	digest    string
}

// parsedManifest is enough of a manifest to follow it.
type parsedManifest struct {
	MediaType string `json:"mediaType"`
	Config    struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int    `json:"size"`
	} `json:"config"`
	Layers []struct {
		Digest string `json:"digest"`
	} `json:"layers"`
	// Manifests are the entries of an index.
	Manifests []struct {
		Digest string `json:"digest"`
	} `json:"manifests"`
}

// parse parses ref ("repo:tag" or "repo@digest") as a reference straight
// at the registry.
func (r *testRegistry) parse(tb testing.TB, ref string) name.Reference {
	tb.Helper()
	parsed, err := name.ParseReference(r.direct(ref))
	if err != nil {
		tb.Fatalf("parsing %q: %v", ref, err)
	}
	return parsed
}

// get reads the manifest at ref ("repo:tag" or "repo@digest") straight
// from the registry.
func (r *testRegistry) get(tb testing.TB, ref string) manifestAt {
	tb.Helper()
	parsed := r.parse(tb, ref)
	desc, err := remote.Get(parsed, remote.WithAuth(r.auth))
	if err != nil {
		tb.Fatalf("reading manifest %s: %v", ref, err)
	}
	return manifestAt{body: desc.Manifest, mediaType: string(desc.MediaType), digest: desc.Digest.String()}
}

// exists reports whether a manifest exists at ref.
func (r *testRegistry) exists(tb testing.TB, ref string) bool {
	tb.Helper()
	_, err := remote.Head(r.parse(tb, ref), remote.WithAuth(r.auth))
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return false
	}
	if err != nil {
		tb.Fatalf("checking manifest %s: %v", ref, err)
	}
	return true
}

// digestOf returns the digest a tag resolves to.
func (r *testRegistry) digestOf(tb testing.TB, ref string) string {
	tb.Helper()
	return r.get(tb, ref).digest
}

// parse decodes m.
func (m manifestAt) parse(tb testing.TB) parsedManifest {
	tb.Helper()
	var p parsedManifest
	if err := json.Unmarshal(m.body, &p); err != nil {
		tb.Fatalf("decoding manifest %s: %v\n%s", m.digest, err, m.body)
	}
	return p
}

// blob reads a blob of repo straight from the registry.
func (r *testRegistry) blob(tb testing.TB, repo, digest string) []byte {
	tb.Helper()
	d, err := name.NewDigest(r.direct(repo) + "@" + digest)
	if err != nil {
		tb.Fatalf("parsing digest %q: %v", digest, err)
	}
	l, err := remote.Layer(d, remote.WithAuth(r.auth))
	if err != nil {
		tb.Fatalf("reading blob %s@%s: %v", repo, digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		tb.Fatalf("reading blob %s@%s: %v", repo, digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("reading blob %s@%s: %v", repo, digest, err)
	}
	return b
}

// config reads the config blob of the manifest at ref.
func (r *testRegistry) config(tb testing.TB, repo string, m manifestAt) []byte {
	tb.Helper()
	p := m.parse(tb)
	b := r.blob(tb, repo, p.Config.Digest)
	if got := sha256Digest(b); got != p.Config.Digest {
		tb.Fatalf("config blob digest = %s, want %s", got, p.Config.Digest)
	}
	if len(b) != p.Config.Size {
		tb.Errorf("config blob size = %d, manifest says %d", len(b), p.Config.Size)
	}
	return b
}

// tags returns tag -> digest for every tag of repo.
func (r *testRegistry) tags(tb testing.TB, repo string) map[string]string {
	tb.Helper()
	rp, err := name.NewRepository(r.direct(repo))
	if err != nil {
		tb.Fatal(err)
	}
	list, err := remote.List(rp, remote.WithAuth(r.auth))
	if err != nil {
		tb.Fatalf("listing tags of %s: %v", repo, err)
	}
	sort.Strings(list)
	got := map[string]string{}
	for _, tag := range list {
		got[tag] = r.digestOf(tb, repo+":"+tag)
	}
	return got
}

// validateImage fails t unless ref is a complete, readable image in the
// registry: every blob present with the right digest.
func (r *testRegistry) validateImage(tb testing.TB, ref string) {
	tb.Helper()
	parsed := r.parse(tb, ref)
	img, err := remote.Image(parsed, remote.WithAuth(r.auth))
	if err != nil {
		tb.Fatalf("reading image %s: %v", ref, err)
	}
	if err := validate.Image(img); err != nil {
		tb.Errorf("image %s is not complete: %v", ref, err)
	}
}
