package referrers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/referrers"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

const (
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
	ociIndex    = "application/vnd.oci.image.index.v1+json"
	emptyConfig = `{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}`
)

// newSource serves go-containerregistry's registry (with the referrers API
// when api), with fault answering in its stead when it returns true.
func newSource(t *testing.T, api bool, fault func(w http.ResponseWriter, r *http.Request) bool) referrers.Target {
	t.Helper()
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(api))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fault != nil && fault(w, r) {
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host, err := name.NewRegistry(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	noSleep := func(context.Context, time.Duration) error { return nil }
	c, err := registry.Open(context.Background(), host, []registry.Scope{{Repository: "o/r", Push: true}},
		registry.Options{Keychain: authn.NewMultiKeychain(), Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	return referrers.Of(c.Repo("o/r"))
}

func put(t *testing.T, dst referrers.Target, ref string, body []byte, mediaType string) v1.Hash {
	t.Helper()
	d := hash(t, body)
	if ref == "" {
		ref = d.String()
	}
	if err := dst.PutManifest(context.Background(), ref, body, mediaType); err != nil {
		t.Fatalf("PutManifest(%s) = %v", ref, err)
	}
	return d
}

func hash(t *testing.T, b []byte) v1.Hash {
	t.Helper()
	d, _, err := v1.SHA256(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// artifact is an OCI 1.1 artifact manifest of artifactType with one layer
// of layerType, referring to subject (none when size is 0).
func artifact(artifactType, layerType, layerAnnotations string, subject v1.Hash, size int) []byte {
	s := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":%q,"config":%s,"layers":[{"mediaType":%q,"digest":"sha256:%064x","size":3%s}]`,
		ociManifest, artifactType, emptyConfig, layerType, size, layerAnnotations)
	if size > 0 {
		s += fmt.Sprintf(`,"subject":{"mediaType":%q,"digest":%q,"size":%d}`, ociManifest, subject, size)
	}
	return []byte(s + "}")
}

// cosignTagManifest is a manifest as cosign pushes to its tags: an image
// manifest whose layers carry the payload.
func cosignTagManifest(layerType string) []byte {
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%064x","size":3},"layers":[{"mediaType":%q,"digest":"sha256:%064x","size":3}]}`,
		ociManifest, 7, layerType, 8))
}

var subjectImage = []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000001","size":3},"layers":[]}`)

type found struct {
	Digest       v1.Hash
	FoundBy      string
	ArtifactType string
}

func summarize(rs []referrers.Referrer) []found {
	var out []found
	for _, r := range rs {
		out = append(out, found{r.Digest, r.FoundBy, r.ArtifactType})
	}
	return out
}

const (
	sigType  = "application/vnd.dev.cosign.artifact.sig.v1+json"
	spdxType = "application/spdx+json"
)

func TestFind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		api      bool
		fallback bool     // a fallback tag lists the signature and the SBOM
		failPath string   // answered 500, %s the subject's hex
		failed   []string // the lookups that could not be made, %s the subject's hex
		drop     string   // the cosign tag the fault hides
	}{
		{name: "referrers API", api: true},
		{name: "fallback tag", fallback: true},
		{name: "API and fallback tag name each once", api: true, fallback: true},
		{name: "a cosign tag answering 500 keeps the rest", api: true, failPath: "/manifests/sha256-%s.att", failed: []string{"cosign tag sha256-%s.att"}, drop: ".att"},
		{name: "the API answering 500 keeps the rest", api: true, fallback: true, failPath: "/referrers/sha256:%s", failed: []string{"referrers API"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			subject := hash(t, subjectImage)
			src := newSource(t, tc.api, func(w http.ResponseWriter, r *http.Request) bool {
				if tc.failPath != "" && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, fmt.Sprintf(tc.failPath, subject.Hex)) {
					w.WriteHeader(http.StatusInternalServerError)
					return true
				}
				return false
			})
			put(t, src, "", subjectImage, ociManifest)
			sig := artifact(sigType, "application/vnd.dev.sigstore.bundle.v0.3+json", "", subject, len(subjectImage))
			sbom := artifact(spdxType, spdxType, "", subject, len(subjectImage))
			sigD, sbomD := put(t, src, "", sig, ociManifest), put(t, src, "", sbom, ociManifest)
			tag := referrers.FallbackTag(subject)
			sigTagD := put(t, src, tag+".sig", cosignTagManifest("application/vnd.dev.cosign.simplesigning.v1+json"), ociManifest)
			attTagD := put(t, src, tag+".att", cosignTagManifest("application/vnd.dsse.envelope.v1+json"), ociManifest)
			by := referrers.ByReferrersAPI
			if tc.fallback {
				idx, err := referrers.AddToFallback(nil, ociManifest, sig)
				if err == nil {
					idx, err = referrers.AddToFallback(idx, ociManifest, sbom)
				}
				if err != nil {
					t.Fatal(err)
				}
				put(t, src, tag, idx, ociIndex)
				if !tc.api || tc.failed != nil && tc.failed[0] == "referrers API" {
					by = referrers.ByFallbackTag
				}
			}
			want := []found{{sigD, by, sigType}, {sbomD, by, spdxType}}
			if want[1].Digest.String() < want[0].Digest.String() {
				want[0], want[1] = want[1], want[0]
			}
			cosign := []found{{sigTagD, referrers.ByCosignTag, "application/vnd.oci.image.config.v1+json"}}
			if tc.drop != ".att" {
				cosign = append(cosign, found{attTagD, referrers.ByCosignTag, "application/vnd.oci.image.config.v1+json"})
			}
			if cosign[len(cosign)-1].Digest.String() < cosign[0].Digest.String() {
				cosign[0], cosign[len(cosign)-1] = cosign[len(cosign)-1], cosign[0]
			}
			want = append(want, cosign...)

			got, err := referrers.Find(context.Background(), src, subject)
			if diff := cmp.Diff(want, summarize(got.Referrers)); diff != "" {
				t.Errorf("Find(%s) referrers (-want +got):\n%s", subject, diff)
			}
			var failed []string
			var ie *referrers.IncompleteError
			if errors.As(err, &ie) {
				for _, l := range ie.Lookups {
					failed = append(failed, l.What)
				}
			} else if err != nil {
				t.Fatalf("Find(%s) = %v, want an *IncompleteError or nil", subject, err)
			}
			var wantFailed []string
			for _, f := range tc.failed {
				wantFailed = append(wantFailed, strings.ReplaceAll(f, "%s", subject.Hex))
			}
			if diff := cmp.Diff(wantFailed, failed); diff != "" {
				t.Errorf("Find(%s) failed lookups (-want +got):\n%s", subject, diff)
			}
			if wantAPI := tc.api && tc.failed == nil || tc.api && tc.failed[0] != "referrers API"; got.API != wantAPI {
				t.Errorf("Find(%s).API = %t, want %t", subject, got.API, wantAPI)
			}
		})
	}
}
