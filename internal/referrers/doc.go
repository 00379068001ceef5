// Package referrers finds what refers to a manifest digest (signatures,
// attestations, SBOMs and other OCI artifacts), says in words what each one
// is, and decides which of them may honestly follow the image to a new
// digest.
//
// Discovery reads one repository through Source: the OCI referrers API
// (with Link pagination), the OCI fallback tag sha256-<hex>, and cosign's
// sha256-<hex>.sig, .att and .sbom tags. Every referrer's manifest is read,
// so that its artifactType is the one it declares, not a registry's guess,
// and so that classification and carry see its layers and subject.
// Classification and the carry decision are pure.
package referrers
