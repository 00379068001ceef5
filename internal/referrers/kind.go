package referrers

import (
	"regexp"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
)

// Kind is what a referrer is, in words.
type Kind string

// The kinds of referrer.
const (
	Signature   Kind = "signature"
	Attestation Kind = "attestation"
	SBOM        Kind = "SBOM"
	Other       Kind = "other"
)

// Tool is the producer whose command makes a referrer again.
type Tool string

// The tools Remake writes commands for.
const (
	Cosign   Tool = "cosign"
	Notation Tool = "notation"
)

// Class is what Classify makes of a referrer.
type Class struct {
	Kind Kind
	// Tool made it, when known: "" for anything but cosign and notation.
	Tool Tool
	// PredicateType is an attestation's in-toto predicate type, when its
	// manifest says.
	PredicateType string
	// SBOMType is cosign's --type for an SBOM (spdx, cyclonedx, syft),
	// when the media type says.
	SBOMType string
}

// Media types that say what an artifact is.
const (
	cosignSig         = "application/vnd.dev.cosign.artifact.sig.v1+json"
	cosignSimpleSign  = "application/vnd.dev.cosign.simplesigning.v1+json"
	dsseEnvelope      = "application/vnd.dsse.envelope.v1+json"
	inToto            = "application/vnd.in-toto+json"
	sigstoreBundle    = "application/vnd.dev.sigstore.bundle" // v0.1+json … v0.3+json
	notarySignature   = "application/vnd.cncf.notary.signature"
	cosignSignPredica = "https://sigstore.dev/cosign/sign/v1"
)

// sbomTypes maps SBOM media types to cosign's --type ("" when cosign has
// no name for it).
var sbomTypes = map[string]string{
	"application/spdx+json":          "",
	"text/spdx":                      "spdx",
	"text/spdx+json":                 "",
	"application/vnd.cyclonedx+json": "cyclonedx",
	"application/vnd.cyclonedx+xml":  "cyclonedx",
	"application/vnd.cyclonedx":      "cyclonedx",
	"application/vnd.syft+json":      "syft",
}

// parseManifest reads what it can; a manifest that is not JSON reads as
// empty (it then classifies as other and is never carried).
func parseManifest(b []byte) oci.Manifest {
	m, err := oci.Parse(b)
	if err != nil {
		return oci.Manifest{}
	}
	return m
}

// mediaTypes returns every media type that says what m is: its artifactType,
// its config's and its layers'.
func mediaTypes(m oci.Manifest, artifactType string) []string {
	ts := []string{artifactType, m.ArtifactType, m.Config.MediaType}
	for _, l := range m.Layers {
		ts = append(ts, l.MediaType)
	}
	return ts
}

// predicateType is the in-toto predicate type the manifest's annotations
// name: cosign's on a layer, a sigstore bundle's on the manifest.
func predicateType(m oci.Manifest) string {
	if p := m.Annotations["dev.sigstore.bundle.predicateType"]; p != "" {
		return p
	}
	for _, l := range m.Layers {
		if p := l.Annotations["predicateType"]; p != "" {
			return p
		}
	}
	return ""
}

// Classify says what r is, from its artifactType and its manifest's
// artifactType, config and layer media types, and, for cosign's tags, the
// tag. A signature outranks an attestation, an attestation an SBOM: an SBOM
// in an in-toto statement is an attestation.
func Classify(r Referrer) Class {
	m := parseManifest(r.Manifest)
	ts := mediaTypes(m, r.ArtifactType)
	has := func(want ...string) bool {
		return slices.ContainsFunc(ts, func(t string) bool { return slices.Contains(want, t) })
	}
	hasPrefix := func(p string) bool {
		return slices.ContainsFunc(ts, func(t string) bool { return strings.HasPrefix(t, p) })
	}
	pred := predicateType(m)
	switch {
	case has(cosignSig, cosignSimpleSign) || strings.HasSuffix(r.Tag, ".sig"):
		return Class{Kind: Signature, Tool: Cosign}
	case has(notarySignature):
		return Class{Kind: Signature, Tool: Notation}
	case hasPrefix(sigstoreBundle) && pred == cosignSignPredica:
		return Class{Kind: Signature, Tool: Cosign}
	case has(dsseEnvelope) || hasPrefix(sigstoreBundle) || strings.HasSuffix(r.Tag, ".att"):
		return Class{Kind: Attestation, Tool: Cosign, PredicateType: pred}
	case has(inToto):
		return Class{Kind: Attestation, PredicateType: pred}
	}
	for _, t := range ts {
		if st, ok := sbomTypes[t]; ok {
			c := Class{Kind: SBOM, SBOMType: st}
			if r.FoundBy == ByCosignTag {
				c.Tool = Cosign
			}
			return c
		}
	}
	if strings.HasSuffix(r.Tag, ".sbom") {
		return Class{Kind: SBOM, Tool: Cosign}
	}
	return Class{Kind: Other}
}

// CanCarry reports whether r may be re-pointed to a new digest: an OCI
// manifest (or index) found through the referrers API or the fallback tag,
// whose subject is r.Subject, that is not a signature or attestation (they
// would not verify for other content), and that has no referrers of its own
// (they would be orphaned in turn).
func CanCarry(r Referrer, hasOwnReferrers bool) bool {
	if hasOwnReferrers || r.Manifest == nil || r.FoundBy == ByCosignTag {
		return false
	}
	if r.MediaType != string(types.OCIManifestSchema1) && r.MediaType != string(types.OCIImageIndex) {
		return false
	}
	m := parseManifest(r.Manifest)
	if m.Subject == nil || m.Subject.Digest != r.Subject.String() {
		return false
	}
	k := Classify(r).Kind
	return k != Signature && k != Attestation
}

// safeArg is what may go unquoted into a shell command; anything else from
// a registry is left as a placeholder.
var safeArg = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~:/%+=@-]{0,255}$`)

// Remake returns the command that makes an artifact of class c again for
// ref (repository@digest of the new content), with <key>, <file> and, when
// the manifest does not say, <type> as placeholders; "" for an artifact no
// cosign or notation command makes.
func Remake(c Class, ref string) string {
	switch {
	case c.Tool == Notation && c.Kind == Signature:
		return "notation sign --key <key> " + ref
	case c.Tool != Cosign:
		return ""
	case c.Kind == Signature:
		return "cosign sign --key <key> " + ref
	case c.Kind == Attestation:
		typ := "<type>"
		if safeArg.MatchString(c.PredicateType) {
			typ = c.PredicateType
		}
		return "cosign attest --key <key> --predicate <file> --type " + typ + " " + ref
	case c.Kind == SBOM:
		cmd := "cosign attach sbom --sbom <file> "
		if c.SBOMType != "" {
			cmd += "--type " + c.SBOMType + " "
		}
		return cmd + ref
	}
	return ""
}

// NewRef is repository@d, the reference Remake is given.
func NewRef(repository string, d v1.Hash) string { return repository + "@" + d.String() }
