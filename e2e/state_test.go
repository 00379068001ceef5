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
}

// get reads the manifest at ref ("repo:tag" or "repo@digest") straight
// from the registry.
func (r *testRegistry) get(t *testing.T, ref string) manifestAt {
	t.Helper()
	parsed, err := name.ParseReference(r.direct(ref))
	if err != nil {
		t.Fatalf("parsing %q: %v", ref, err)
	}
	desc, err := remote.Get(parsed, remote.WithAuth(r.auth))
	if err != nil {
		t.Fatalf("reading manifest %s: %v", ref, err)
	}
	return manifestAt{body: desc.Manifest, mediaType: string(desc.MediaType), digest: desc.Digest.String()}
}

// exists reports whether a manifest exists at ref.
func (r *testRegistry) exists(t *testing.T, ref string) bool {
	t.Helper()
	parsed, err := name.ParseReference(r.direct(ref))
	if err != nil {
		t.Fatalf("parsing %q: %v", ref, err)
	}
	_, err = remote.Head(parsed, remote.WithAuth(r.auth))
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return false
	}
	if err != nil {
		t.Fatalf("checking manifest %s: %v", ref, err)
	}
	return true
}

// digestOf returns the digest a tag resolves to.
func (r *testRegistry) digestOf(t *testing.T, ref string) string {
	t.Helper()
	return r.get(t, ref).digest
}

// parse decodes m.
func (m manifestAt) parse(t *testing.T) parsedManifest {
	t.Helper()
	var p parsedManifest
	if err := json.Unmarshal(m.body, &p); err != nil {
		t.Fatalf("decoding manifest %s: %v\n%s", m.digest, err, m.body)
	}
	return p
}

// blob reads a blob of repo straight from the registry.
func (r *testRegistry) blob(t *testing.T, repo, digest string) []byte {
	t.Helper()
	d, err := name.NewDigest(r.direct(repo) + "@" + digest)
	if err != nil {
		t.Fatalf("parsing digest %q: %v", digest, err)
	}
	l, err := remote.Layer(d, remote.WithAuth(r.auth))
	if err != nil {
		t.Fatalf("reading blob %s@%s: %v", repo, digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatalf("reading blob %s@%s: %v", repo, digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading blob %s@%s: %v", repo, digest, err)
	}
	return b
}

// config reads the config blob of the manifest at ref.
func (r *testRegistry) config(t *testing.T, repo string, m manifestAt) []byte {
	t.Helper()
	p := m.parse(t)
	b := r.blob(t, repo, p.Config.Digest)
	if got := sha256Digest(b); got != p.Config.Digest {
		t.Fatalf("config blob digest = %s, want %s", got, p.Config.Digest)
	}
	if len(b) != p.Config.Size {
		t.Errorf("config blob size = %d, manifest says %d", len(b), p.Config.Size)
	}
	return b
}

// tags returns tag -> digest for every tag of repo.
func (r *testRegistry) tags(t *testing.T, repo string) map[string]string {
	t.Helper()
	rp, err := name.NewRepository(r.direct(repo))
	if err != nil {
		t.Fatal(err)
	}
	list, err := remote.List(rp, remote.WithAuth(r.auth))
	if err != nil {
		t.Fatalf("listing tags of %s: %v", repo, err)
	}
	sort.Strings(list)
	got := map[string]string{}
	for _, tag := range list {
		got[tag] = r.digestOf(t, repo+":"+tag)
	}
	return got
}

// validateImage fails t unless ref is a complete, readable image in the
// registry: every blob present with the right digest.
func (r *testRegistry) validateImage(t *testing.T, ref string) {
	t.Helper()
	parsed, err := name.ParseReference(r.direct(ref))
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(parsed, remote.WithAuth(r.auth))
	if err != nil {
		t.Fatalf("reading image %s: %v", ref, err)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("image %s is not complete: %v", ref, err)
	}
}
