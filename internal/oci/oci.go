package oci

import (
	"bytes"
	"encoding/json"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Digest is the sha256 digest of b; reading from memory cannot fail.
func Digest(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// Descriptor is what a manifest says of another blob or manifest, read
// as strings: a reader that needs a digest checks it itself.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType"`
	Annotations  map[string]string `json:"annotations"`
}

// Manifest is what any manifest, index or artifact manifest says at its
// top level, as far as this tool reads it.
type Manifest struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Config       Descriptor        `json:"config"`
	Layers       []Descriptor      `json:"layers"`
	Manifests    []Descriptor      `json:"manifests"`
	Subject      *Descriptor       `json:"subject"`
	Annotations  map[string]string `json:"annotations"`
}

// Parse reads b as a Manifest.
func Parse(b []byte) (Manifest, error) {
	var m Manifest
	err := json.Unmarshal(b, &m)
	return m, err
}

// Declared is the mediaType b declares itself; "" when it declares none
// or is not JSON.
func Declared(b []byte) types.MediaType {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return ""
	}
	return probe.MediaType
}

// Shape is what b says it is: its declared mediaType or, when it declares
// none, what its fields make it (schema 1, an index's manifests, an
// image's config); "" when nothing says, or b is not JSON.
func Shape(b []byte) types.MediaType {
	// Raw, so that a field's presence counts whatever it holds.
	var probe struct {
		MediaType     types.MediaType `json:"mediaType"`
		SchemaVersion int             `json:"schemaVersion"`
		Manifests     json.RawMessage
		Config        json.RawMessage
	}
	if json.Unmarshal(b, &probe) != nil {
		return ""
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.SchemaVersion == 1:
		return types.DockerManifestSchema1
	case probe.Manifests != nil:
		return types.OCIImageIndex
	case probe.Config != nil:
		return types.OCIManifestSchema1
	}
	return ""
}
