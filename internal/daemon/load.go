package daemon

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Loaded is what a load did.
type Loaded struct {
	// ID is the image ID the engine reports for the tag after the load:
	// the new config's digest in the classic store, the new manifest's in
	// the containerd store.
	ID v1.Hash
	// Posted is the size of the archive sent: the config and manifest
	// bytes and the tar framing, never a layer.
	Posted int64
	// Said is what the engine said, e.g. "Loaded image: app:1".
	Said string
}

// Load loads config into a classic store as tag (NAME:TAG, as docker
// load's RepoTags take it) and moves the tag to it. The archive holds
// manifest.json and the config only: the engine finds each of the
// config's layers by its chain ID among those it holds and reads no layer
// file (Engine 20.10 and later), which layers counts for manifest.json.
// The image the tag left stays as docker leaves it (untagged, or under
// its other tags). With tag "" (an image named by its ID) the new image
// is loaded untagged.
func (c *Client) Load(ctx context.Context, tag string, config []byte, layers int) (*Loaded, error) {
	d := digestOf(config)
	repoTags := []string{}
	if tag != "" {
		repoTags = append(repoTags, tag)
	}
	names := make([]string, layers)
	for i := range names {
		// Never opened: named only because manifest.json must list one
		// per diff ID.
		names[i] = fmt.Sprintf("%d/layer.tar", i)
	}
	mj, err := json.Marshal([]struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{{Config: d.Hex + ".json", RepoTags: repoTags, Layers: names}})
	if err != nil {
		return nil, err
	}
	archive, err := tarOf(file{d.Hex + ".json", config}, file{"manifest.json", mj})
	if err != nil {
		return nil, err
	}
	ld, err := c.load(ctx, cmp.Or(tag, d.String()), archive)
	if err != nil {
		return nil, err
	}
	if ld.ID != d {
		return nil, fmt.Errorf("loading image %q: the engine reports %s for it after the load, not the config's digest %s", tag, ld.ID, d)
	}
	return ld, nil
}

// LoadOCI loads top (a manifest, or an index) and the blobs it needs
// that the engine may lack (configs, child manifests) into a containerd
// image store as tag: an OCI layout whose index.json names the tag as
// containerd does (io.containerd.image.name); the engine holds the layers'
// blobs, and the attestations of an index, already, and Engine 26.1
// takes the archive without them (see docs/daemon.md). With tag "" (an
// image named by its ID) the image is loaded unnamed, and found after the
// load by top's digest.
func (c *Client) LoadOCI(ctx context.Context, tag string, top []byte, mediaType types.MediaType, blobs ...[]byte) (*Loaded, error) {
	md := digestOf(top)
	entry := v1.Descriptor{MediaType: mediaType, Digest: md, Size: int64(len(top))}
	if tag != "" {
		full, short, err := containerdNames(tag)
		if err != nil {
			return nil, err
		}
		entry.Annotations = map[string]string{"io.containerd.image.name": full, "org.opencontainers.image.ref.name": short}
	}
	index, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{entry}})
	if err != nil {
		return nil, err
	}
	files := []file{{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {"index.json", index}}
	for _, b := range append(blobs, top) {
		files = append(files, file{"blobs/sha256/" + digestOf(b).Hex, b})
	}
	archive, err := tarOf(files...)
	if err != nil {
		return nil, err
	}
	return c.load(ctx, cmp.Or(tag, md.String()), archive)
}

// containerdNames is the full name containerd keeps (docker.io/library/app:1)
// and the tag alone.
func containerdNames(tag string) (full, short string, err error) {
	t, err := name.NewTag(tag)
	if err != nil {
		return "", "", fmt.Errorf("naming image %q for the Docker engine: %w", tag, err)
	}
	reg := t.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + t.RepositoryStr() + ":" + t.TagStr(), t.TagStr(), nil
}

// load posts archive and reads the engine's answer, whose status is 200
// even when the load failed: the failure is a message of the stream. ref
// (the tag, or the ID of an untagged load) is inspected after it.
func (c *Client) load(ctx context.Context, ref string, archive []byte) (*Loaded, error) {
	op := fmt.Sprintf("loading image %q", ref)
	q := url.Values{"quiet": {"1"}}
	resp, err := c.do(ctx, http.MethodPost, "/images/load", q, bytes.NewReader(archive), http.Header{"Content-Type": {"application/x-tar"}})
	if err != nil {
		return nil, err
	}
	defer drain(resp.Body)
	if err := c.statusError(resp, op, ""); err != nil {
		return nil, err
	}
	said, err := loadMessages(resp.Body, op)
	if err != nil {
		return nil, err
	}
	im, err := c.Inspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: inspecting it after the load: %w", op, err)
	}
	return &Loaded{ID: im.ID, Posted: int64(len(archive)), Said: said}, nil
}

// loadMessages reads the JSON messages of a load ({"stream": …} or
// {"error": …}) and returns the text said, or the first error as an
// *APIError.
func loadMessages(r io.Reader, op string) (string, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxErrorBody))
	var said []string
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return strings.Join(said, "; "), nil
		}
		if err != nil {
			return "", fmt.Errorf("%s: reading the engine's answer: %w", op, err)
		}
		if msg := cmp.Or(m.ErrorDetail.Message, m.Error); msg != "" {
			return "", &APIError{Op: op, Status: http.StatusOK, Message: msg}
		}
		if s := strings.TrimSpace(m.Stream); s != "" {
			said = append(said, s)
		}
	}
}

type file struct {
	name string
	data []byte
}

// tarOf is an archive of files, small enough to build in memory: configs
// and manifests are bounded.
func tarOf(files ...file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("writing %s into an archive: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("writing %s into an archive: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digestOf(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}
