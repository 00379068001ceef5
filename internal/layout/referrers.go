package layout

import (
	"context"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// maxReferrerScan bounds the manifests read when looking for referrers,
// against a layout whose indexes list more than any image has.
const maxReferrerScan = 10000

// Referrers lists the manifests of the layout whose subject is d: those
// index.json lists and the children of the indexes among them (where
// oras and the OCI referrers tag schema leave them), each once, in that
// order. A docker-archive holds none.
func (l *Layout) Referrers(ctx context.Context, d v1.Hash) ([]v1.Descriptor, error) {
	if l.Kind() == imageref.DockerArchive {
		return nil, nil
	}
	l.mu.Lock()
	es, err := l.list()
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	queue := make([]v1.Descriptor, 0, len(es))
	for _, e := range es {
		queue = append(queue, v1.Descriptor{MediaType: e.MediaType, Digest: e.Digest, Size: e.Size})
	}
	seen := map[v1.Hash]bool{}
	var out []v1.Descriptor
	for len(queue) > 0 && len(seen) < maxReferrerScan {
		desc := queue[0]
		queue = queue[1:]
		if seen[desc.Digest] {
			continue
		}
		seen[desc.Digest] = true
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		body, err := l.GetBlob(ctx, desc.Digest, registry.MaxManifestSize, "manifest")
		if err != nil {
			return nil, fmt.Errorf("looking for referrers of %s: %w", d, err)
		}
		var m struct {
			MediaType    types.MediaType   `json:"mediaType"`
			ArtifactType string            `json:"artifactType"`
			Config       v1.Descriptor     `json:"config"`
			Subject      *v1.Descriptor    `json:"subject"`
			Manifests    []v1.Descriptor   `json:"manifests"`
			Annotations  map[string]string `json:"annotations"`
		}
		if json.Unmarshal(body, &m) != nil {
			continue
		}
		queue = append(queue, m.Manifests...)
		if m.Subject == nil || m.Subject.Digest != d {
			continue
		}
		// As the distribution spec fills a referrers list: the
		// artifactType, else the config's media type.
		at := m.ArtifactType
		if at == "" && m.Manifests == nil {
			at = string(m.Config.MediaType)
		}
		mt := m.MediaType
		if mt == "" {
			mt = oci.Declared(body)
		}
		out = append(out, v1.Descriptor{MediaType: mt, Digest: desc.Digest, Size: int64(len(body)), ArtifactType: at, Annotations: m.Annotations})
	}
	return out, nil
}

// ReferrersPage answers as the OCI referrers API would: one page, an
// image index listing Referrers(d).
func (l *Layout) ReferrersPage(ctx context.Context, d v1.Hash, page string) (body []byte, next string, err error) {
	rs, err := l.Referrers(ctx, d)
	if err != nil {
		return nil, "", err
	}
	if rs == nil {
		rs = []v1.Descriptor{}
	}
	body, err = json.Marshal(struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     types.MediaType `json:"mediaType"`
		Manifests     []v1.Descriptor `json:"manifests"`
	}{2, types.OCIImageIndex, rs})
	return body, "", err
}
