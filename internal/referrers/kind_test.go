package referrers_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/referrers"
)

var (
	oldDigest = v1.Hash{Algorithm: "sha256", Hex: "1111111111111111111111111111111111111111111111111111111111111111"}
	newDigest = v1.Hash{Algorithm: "sha256", Hex: "2222222222222222222222222222222222222222222222222222222222222222"}
)

func ref(manifest []byte, by, tag string) referrers.Referrer {
	return referrers.Referrer{Subject: oldDigest, MediaType: ociManifest, FoundBy: by, Tag: tag, Manifest: manifest}
}

func TestClassifyCanCarryRemake(t *testing.T) {
	t.Parallel()
	const newRef = "ghcr.io/o/r@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	api, tag := referrers.ByReferrersAPI, referrers.FallbackTag(oldDigest)
	for _, tc := range []struct {
		name   string
		r      referrers.Referrer
		own    bool
		want   referrers.Class
		carry  bool
		remake string
	}{
		{"cosign OCI 1.1 signature", ref(artifact(sigType, "application/vnd.dev.sigstore.bundle.v0.3+json", "", oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.Signature, Tool: referrers.Cosign}, false, "cosign sign --key <key> " + newRef},
		{"cosign .sig tag", ref(cosignTagManifest("application/vnd.dev.cosign.simplesigning.v1+json"), referrers.ByCosignTag, tag+".sig"),
			false, referrers.Class{Kind: referrers.Signature, Tool: referrers.Cosign}, false, "cosign sign --key <key> " + newRef},
		{"notation signature", ref(artifact("application/vnd.cncf.notary.signature", "application/jose+json", "", oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.Signature, Tool: referrers.Notation}, false, "notation sign --key <key> " + newRef},
		{"sigstore bundle without a predicate type", ref(artifact("application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle.v0.3+json", "", oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.Attestation, Tool: referrers.Cosign}, false, "cosign attest --key <key> --predicate <file> --type <type> " + newRef},
		{"sigstore bundle of a cosign signature", ref([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":`+emptyConfig+`,"layers":[],"annotations":{"dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1"}}`), api, ""),
			false, referrers.Class{Kind: referrers.Signature, Tool: referrers.Cosign}, false, "cosign sign --key <key> " + newRef},
		{"cosign .att tag", ref(cosignTagManifest("application/vnd.dsse.envelope.v1+json"), referrers.ByCosignTag, tag+".att"),
			false, referrers.Class{Kind: referrers.Attestation, Tool: referrers.Cosign}, false, "cosign attest --key <key> --predicate <file> --type <type> " + newRef},
		{"DSSE attestation names its predicate", ref(artifact("application/vnd.dsse.envelope.v1+json", "application/vnd.dsse.envelope.v1+json", `,"annotations":{"predicateType":"https://slsa.dev/provenance/v1"}`, oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.Attestation, Tool: referrers.Cosign, PredicateType: "https://slsa.dev/provenance/v1"}, false, "cosign attest --key <key> --predicate <file> --type https://slsa.dev/provenance/v1 " + newRef},
		{"a predicate type unsafe in a shell is a placeholder", ref(artifact("application/vnd.dsse.envelope.v1+json", "application/vnd.dsse.envelope.v1+json", `,"annotations":{"predicateType":"x; rm -rf /"}`, oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.Attestation, Tool: referrers.Cosign, PredicateType: "x; rm -rf /"}, false, "cosign attest --key <key> --predicate <file> --type <type> " + newRef},
		{"in-toto statement", ref(artifact("application/vnd.in-toto+json", "application/vnd.in-toto+json", "", oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.Attestation}, false, ""},
		{"an SBOM in an in-toto statement is an attestation", ref(artifact(spdxType, "application/vnd.in-toto+json", "", oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.Attestation}, false, ""},
		{"SPDX SBOM artifact", ref(artifact(spdxType, spdxType, "", oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.SBOM}, true, ""},
		{"SBOM with a referrer of its own", ref(artifact(spdxType, spdxType, "", oldDigest, 10), api, ""),
			true, referrers.Class{Kind: referrers.SBOM}, false, ""},
		{"SBOM whose subject is another digest", ref(artifact(spdxType, spdxType, "", newDigest, 10), referrers.ByFallbackTag, ""),
			false, referrers.Class{Kind: referrers.SBOM}, false, ""},
		{"CycloneDX by layer media type", ref(artifact("application/vnd.example.sbom", "application/vnd.cyclonedx+json", "", oldDigest, 10), referrers.ByFallbackTag, ""),
			false, referrers.Class{Kind: referrers.SBOM, SBOMType: "cyclonedx"}, true, ""},
		{"cosign .sbom tag", ref(cosignTagManifest("text/spdx"), referrers.ByCosignTag, tag+".sbom"),
			false, referrers.Class{Kind: referrers.SBOM, Tool: referrers.Cosign, SBOMType: "spdx"}, false, "cosign attach sbom --sbom <file> --type spdx " + newRef},
		{"other artifact", ref(artifact("application/vnd.example.readme", "text/markdown", "", oldDigest, 10), api, ""),
			false, referrers.Class{Kind: referrers.Other}, true, ""},
		{"manifest that could not be read", referrers.Referrer{Subject: oldDigest, MediaType: ociManifest, ArtifactType: spdxType, FoundBy: api},
			false, referrers.Class{Kind: referrers.SBOM}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := referrers.Classify(tc.r)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Classify() (-want +got):\n%s", diff)
			}
			if got := referrers.CanCarry(tc.r, tc.own); got != tc.carry {
				t.Errorf("CanCarry(r, %t) = %t, want %t", tc.own, got, tc.carry)
			}
			if got := referrers.Remake(referrers.Classify(tc.r), newRef); got != tc.remake {
				t.Errorf("Remake() = %q, want %q", got, tc.remake)
			}
		})
	}
}
