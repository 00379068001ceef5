package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/olareg/olareg"
	olaregconfig "github.com/olareg/olareg/config"

	"github.com/set-image-platform/set-image-platform/internal/referrers"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// Media types of the referrers the fixtures push, as their producers write
// them (cosign v2 with --registry-referrers-mode=oci-1-1, cosign's tags,
// oras attach).
const (
	emptyType        = "application/vnd.oci.empty.v1+json"
	cosignSigType    = "application/vnd.dev.cosign.artifact.sig.v1+json"
	sigstoreBundle   = "application/vnd.dev.sigstore.bundle.v0.3+json"
	simpleSigning    = "application/vnd.dev.cosign.simplesigning.v1+json"
	dsseType         = "application/vnd.dsse.envelope.v1+json"
	inTotoType       = "application/vnd.in-toto+json"
	spdxType         = "application/spdx+json"
	readmeType       = "application/vnd.example.readme.v1"
	markdownType     = "text/markdown"
	referrersPerPage = 700 // bytes of a referrers list page on olareg: forces Link pagination
)

// newOlaregRegistry starts olareg (which serves the OCI referrers API) in
// memory, with a recording proxy in front of it, as newRegistry does with
// Distribution. Its referrers lists are split into pages of a few entries.
func newOlaregRegistry(tb testing.TB) *testRegistry {
	tb.Helper()
	h := olareg.New(olaregconfig.Config{
		Storage: olaregconfig.ConfigStorage{StoreType: olaregconfig.StoreMem},
		API:     olaregconfig.ConfigAPI{Referrer: olaregconfig.ConfigAPIReferrer{Limit: referrersPerPage}},
	})
	srv := httptest.NewServer(h)
	tb.Cleanup(func() {
		srv.Close()
		_ = h.Close()
	})
	return &testRegistry{host: strings.TrimPrefix(srv.URL, "http://"), proxy: newRecordingProxy(tb, srv.URL), auth: authn.Anonymous}
}

// referrerSource opens repo through reg's proxy as discovery reads it,
// with retries that do not sleep.
func referrerSource(tb testing.TB, reg *testRegistry, repo string) referrers.Target {
	tb.Helper()
	host, err := name.NewRegistry(reg.proxy.host)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := registry.Open(context.Background(), host, []registry.Scope{{Repository: repo, Push: true}}, registry.Options{
		Keychain: authn.NewMultiKeychain(),
		Sleep:    func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		tb.Fatalf("opening %s: %v", reg.proxy.host, err)
	}
	return referrers.Of(c.Repo(repo))
}

// ociArtifact is an OCI 1.1 artifact: an image manifest with an
// artifactType, the empty config, one layer of payload, and a subject
// (none when subject is ""). annotations are the layer's, as JSON members.
func ociArtifact(artifactType, layerType, payload, annotations, subject string, subjectSize int) image {
	return image{
		manifestType: ociManifest,
		config:       newBlob(emptyType, []byte("{}")),
		layers:       []layer{{blob: newBlob(layerType, []byte(payload))}},
		render: func(d string, size int, ls []layer) []byte {
			var b strings.Builder
			fmt.Fprintf(&b, `{"schemaVersion":2,"mediaType":%q,"artifactType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},`, ociManifest, artifactType, emptyType, d, size)
			fmt.Fprintf(&b, `"layers":[{"mediaType":%q,"digest":%q,"size":%d%s}]`, ls[0].mediaType, ls[0].digest, len(ls[0].data), annotations)
			if subject != "" {
				fmt.Fprintf(&b, `,"subject":{"mediaType":%q,"digest":%q,"size":%d}`, ociManifest, subject, subjectSize)
			}
			b.WriteString(`,"annotations":{"org.opencontainers.image.created":"2026-01-02T03:04:05Z"}}`)
			return []byte(b.String())
		},
	}
}

// cosignTagImage is a manifest as cosign pushes to its sha256-<hex>.sig
// and .att tags: an image manifest with an OCI config and the payload as
// a layer, no subject.
func cosignTagImage(layerType, payload string) image {
	return image{
		manifestType: ociManifest,
		config:       newBlob(ociConfig, []byte(`{"architecture":"","config":{},"created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":[]}}`)),
		layers:       []layer{{blob: newBlob(layerType, []byte(payload))}},
		render: func(d string, size int, ls []layer) []byte {
			return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"size":%d,"digest":%q},"layers":[{"mediaType":%q,"size":%d,"digest":%q,"annotations":{"dev.cosignproject.cosign/signature":"MEUCIQ"}}]}`,
				ociManifest, ociConfig, size, d, ls[0].mediaType, len(ls[0].data), ls[0].digest))
		},
	}
}

// referrerFixture is what pushReferrers pushed: digests of each referrer.
type referrerFixture struct {
	subject                   string
	sig, att, sbom, readme    string // OCI 1.1 artifacts whose subject is subject
	readmeSig                 string // an artifact whose subject is readme
	sigTag, attTag            string // at cosign's tags of subject
	sigTagName, attTagName    string
	readmeImage, sbomImage    image
	fallback                  bool // listed by fallback tags, not the API
	subjectSize, readmeSizeOf int
}

// pushReferrers pushes, for the manifest subject (of subjectSize bytes) in
// repo: a cosign signature, an in-toto attestation, an SPDX SBOM and a
// readme artifact that has a signature of its own, all OCI 1.1 artifacts
// with a subject; and cosign's .sig and .att tags. With fallback (for a
// registry without the referrers API) it lists the artifacts in the
// fallback tags sha256-<hex> of their subjects, as clients do per the OCI
// distribution spec.
func pushReferrers(tb testing.TB, reg *testRegistry, repo, subject string, subjectSize int, fallback bool) referrerFixture {
	tb.Helper()
	fx := referrerFixture{subject: subject, subjectSize: subjectSize, fallback: fallback}
	pushAt := func(im image) string { return reg.push(tb, repo+"@"+im.manifestDigest(), im) }
	sig := ociArtifact(cosignSigType, sigstoreBundle, `{"mediaType":"`+sigstoreBundle+`"}`, "", subject, subjectSize)
	att := ociArtifact(inTotoType, dsseType, `{"payloadType":"application/vnd.in-toto+json"}`, `,"annotations":{"predicateType":"https://slsa.dev/provenance/v1"}`, subject, subjectSize)
	fx.sbomImage = ociArtifact(spdxType, spdxType, `{"spdxVersion":"SPDX-2.3"}`, "", subject, subjectSize)
	fx.readmeImage = ociArtifact(readmeType, markdownType, "# app\n", "", subject, subjectSize)
	fx.sig, fx.att, fx.sbom, fx.readme = pushAt(sig), pushAt(att), pushAt(fx.sbomImage), pushAt(fx.readmeImage)
	readme := fx.readmeImage.manifest()
	fx.readmeSizeOf = len(readme)
	readmeSig := ociArtifact(cosignSigType, sigstoreBundle, `{"readme":true}`, "", fx.readme, len(readme))
	fx.readmeSig = pushAt(readmeSig)

	tag := strings.Replace(subject, ":", "-", 1)
	fx.sigTagName, fx.attTagName = tag+".sig", tag+".att"
	fx.sigTag = reg.push(tb, repo+":"+fx.sigTagName, cosignTagImage(simpleSigning, `{"critical":{}}`))
	fx.attTag = reg.push(tb, repo+":"+fx.attTagName, cosignTagImage(dsseType, `{"payloadType":"application/vnd.in-toto+json"}`))
	if fallback {
		reg.putManifest(tb, repo+":"+tag, fallbackIndex(sig, att, fx.sbomImage, fx.readmeImage), ociIndex)
		reg.putManifest(tb, repo+":"+strings.Replace(fx.readme, ":", "-", 1), fallbackIndex(readmeSig), ociIndex)
	}
	return fx
}

// fallbackIndex is the index a fallback tag holds per the OCI distribution
// spec's referrers tag schema: a descriptor of each referrer with its
// artifactType and annotations.
func fallbackIndex(ims ...image) []byte {
	var entries []string
	for _, im := range ims {
		m := im.manifest()
		at := strings.SplitN(strings.SplitN(string(m), `"artifactType":"`, 2)[1], `"`, 2)[0]
		entries = append(entries, fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d,"artifactType":%q,"annotations":{"org.opencontainers.image.created":"2026-01-02T03:04:05Z"}}`,
			ociManifest, sha256Digest(m), len(m), at))
	}
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s]}`, ociIndex, strings.Join(entries, ",")))
}

// hashOf parses a digest a fixture returned.
func hashOf(tb testing.TB, digest string) v1.Hash {
	tb.Helper()
	h, err := v1.NewHash(digest)
	if err != nil {
		tb.Fatalf("parsing digest %q: %v", digest, err)
	}
	return h
}
