package layout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// dockerItem is one image of docker save's manifest.json.
type dockerItem struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// dockerImage is an image of a docker-archive, with the manifest the
// engine reads for it: docker save writes none, so one is made from the
// config and layer files (Docker schema 2, layers uncompressed; a layer
// named blobs/sha256/<hex> has that digest, one named <id>/layer.tar its
// diff ID, checked when read). The same archive always gives the same
// manifest bytes.
type dockerImage struct {
	pos      int // in manifest.json
	item     dockerItem
	manifest []byte
	digest   v1.Hash            // of manifest
	config   v1.Hash            // the image ID
	blobs    map[v1.Hash]string // config and layers, to their names
}

// entries are the image's names as index.json entries would be.
func (im dockerImage) entries() []indexEntry {
	e := indexEntry{MediaType: types.DockerManifestSchema2, Digest: im.digest, Size: int64(len(im.manifest))}
	if len(im.item.RepoTags) == 0 {
		return []indexEntry{e}
	}
	var out []indexEntry
	for _, t := range im.item.RepoTags {
		e.Annotations = map[string]string{RefNameAnnotation: t}
		out = append(out, e)
	}
	return out
}

// cleanName is a name manifest.json gives, as entries are named.
func cleanName(n string) (string, error) {
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return "", fmt.Errorf("manifest.json names %q, which climbs out with \"..\"", n)
		}
	}
	c := strings.TrimLeft(path.Clean("/"+n), "/")
	if c == "" {
		return "", fmt.Errorf("manifest.json names %q, which is no file", n)
	}
	return c, nil
}

// readItems reads manifest.json, checked as the patch package checks what
// it edits.
func readItems(b []byte) ([]dockerItem, error) {
	if err := patch.Validate(wrapArray(b)); err != nil {
		return nil, fmt.Errorf("reading %s: %w", manifestFile, err)
	}
	var items []dockerItem
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("reading %s: %w", manifestFile, err)
	}
	return items, nil
}

func (l *Layout) readDocker() ([]dockerImage, error) {
	items, err := readItems(l.manifest)
	if err != nil {
		return nil, err
	}
	var out []dockerImage
	for i, it := range items {
		im, err := l.dockerImage(i, it)
		if err != nil {
			return nil, fmt.Errorf("reading image %d of %s: %w", i, manifestFile, err)
		}
		out = append(out, im)
	}
	return out, nil
}

func (l *Layout) dockerImage(pos int, it dockerItem) (dockerImage, error) {
	im := dockerImage{pos: pos, item: it, blobs: map[v1.Hash]string{}}
	cname, err := cleanName(it.Config)
	if err != nil {
		return im, err
	}
	config, err := l.readFile(cname, registry.MaxConfigSize, "config")
	if err != nil {
		return im, err
	}
	im.config = oci.Digest(config)
	im.blobs[im.config] = cname
	var cfg struct {
		RootFS struct {
			DiffIDs []v1.Hash `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return im, fmt.Errorf("reading config %s: %w", it.Config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(it.Layers) {
		return im, fmt.Errorf("config %s lists %d layers, manifest.json %d", it.Config, len(cfg.RootFS.DiffIDs), len(it.Layers))
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(config)), Digest: im.config},
	}
	for j, ln := range it.Layers {
		name, err := cleanName(ln)
		if err != nil {
			return im, err
		}
		size, err := l.stat(name)
		if err != nil {
			return im, err
		}
		d := cfg.RootFS.DiffIDs[j]
		if hex, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && hexRE.MatchString(hex) {
			d = v1.Hash{Algorithm: "sha256", Hex: hex}
		}
		im.blobs[d] = name
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.DockerUncompressedLayer, Size: size, Digest: d})
	}
	if m.Layers == nil {
		m.Layers = []v1.Descriptor{}
	}
	if im.manifest, err = json.Marshal(m); err != nil {
		return im, err
	}
	im.digest = oci.Digest(im.manifest)
	return im, nil
}

// dockerManifest is the made manifest of digest d.
func (l *Layout) dockerManifest(d v1.Hash) (*registry.Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, im := range l.docker {
		if im.digest == d {
			return &registry.Manifest{MediaType: types.DockerManifestSchema2, Bytes: bytes.Clone(im.manifest), Digest: d}, nil
		}
	}
	return nil, &NotFoundError{Layout: l.name, What: "manifest " + d.String()}
}

// dockerBlob is the file of blob d in a docker-archive: a config or layer
// manifest.json names, else a config a push staged.
func (l *Layout) dockerBlob(d v1.Hash) (string, error) {
	if _, err := blobName(d); err != nil {
		return "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, im := range l.docker {
		if n, ok := im.blobs[d]; ok {
			return n, nil
		}
	}
	return l.configName(d), nil
}

// configName is where a new config of a docker-archive goes, in the
// archive's style: blobs/sha256/<hex> (Engine 25 and later) or <hex>.json.
func (l *Layout) configName(d v1.Hash) string {
	for _, im := range l.docker {
		if strings.HasPrefix(im.blobs[im.config], "blobs/") {
			return "blobs/sha256/" + d.Hex
		}
	}
	return d.Hex + ".json"
}

// OutputDigest is the digest a run reports for manifest m written here:
// the manifest's, except in a docker-archive, which holds no manifest,
// where it is the config's (Docker's image ID).
func (l *Layout) OutputDigest(m *registry.Manifest) (v1.Hash, error) {
	if l.kind != imageref.DockerArchive {
		return m.Digest, nil
	}
	var mf v1.Manifest
	if err := json.Unmarshal(m.Bytes, &mf); err != nil {
		return v1.Hash{}, fmt.Errorf("reading manifest %s: %w", m.Digest, err)
	}
	return mf.Config.Digest, nil
}

// putDocker points ref of a docker-archive at the image manifest body
// describes: its config (pushed before) becomes the Config of the
// manifest.json item ref names, or of a new item for a new tag. Only the
// config may differ from an image the archive holds.
func (l *Layout) putDocker(ref string, body []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.index != nil {
		return fmt.Errorf("writing to %q: it holds index.json as well: name it oci-archive:%s, which keeps manifest.json in step", l.name, l.name)
	}
	var m v1.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("writing to %q: reading manifest: %w", l.name, err)
	}
	if _, isDigest := digestRef(ref); isDigest || m.Config.Digest == (v1.Hash{}) {
		return fmt.Errorf("writing to %q: a docker-archive holds one image manifest per name, not manifests by digest or indexes", l.name)
	}
	if _, err := l.stat(l.configName(m.Config.Digest)); err != nil {
		if _, ok := l.findBlob(m.Config.Digest); !ok {
			return fmt.Errorf("writing to %q: config %s was not pushed first", l.name, m.Config.Digest)
		}
	}
	es, _ := l.list()
	hits, err := l.find(es, ref)
	var nf *NotFoundError
	var src *dockerImage
	switch {
	case err == nil:
		src = l.imageOf(es[hits[0]].Digest)
	case errors.As(err, &nf) && ref != "":
		src = l.sameLayers(m.Layers)
	default:
		return err
	}
	if src == nil || !sameDigests(src, m.Layers) {
		return fmt.Errorf("writing to %q: only the config of an image it holds can change in a docker-archive, not its layers", l.name)
	}
	cname, _ := l.findBlob(m.Config.Digest)
	var out []byte
	if err == nil {
		out, err = setItem(l.manifest, src.pos, cname, nil)
	} else {
		out, err = addItem(l.manifest, src, cname, dockerTag(src.item.RepoTags, ref))
	}
	if err != nil {
		return fmt.Errorf("writing %s of %q: %w", manifestFile, l.name, err)
	}
	return l.setManifestJSON(out)
}

// findBlob is the name of d in the docker-archive, known or staged. The
// caller holds mu.
func (l *Layout) findBlob(d v1.Hash) (string, bool) {
	for _, im := range l.docker {
		if n, ok := im.blobs[d]; ok {
			return n, true
		}
	}
	n := l.configName(d)
	_, err := l.stat(n)
	return n, err == nil
}

func (l *Layout) imageOf(d v1.Hash) *dockerImage {
	for i := range l.docker {
		if l.docker[i].digest == d {
			return &l.docker[i]
		}
	}
	return nil
}

func (l *Layout) sameLayers(layers []v1.Descriptor) *dockerImage {
	for i := range l.docker {
		if sameDigests(&l.docker[i], layers) {
			return &l.docker[i]
		}
	}
	return nil
}

func sameDigests(im *dockerImage, layers []v1.Descriptor) bool {
	var m v1.Manifest
	if json.Unmarshal(im.manifest, &m) != nil || len(m.Layers) != len(layers) {
		return false
	}
	for i := range layers {
		if m.Layers[i].Digest != layers[i].Digest {
			return false
		}
	}
	return true
}

// dockerTag is the RepoTags name of a new tag: the repository of the
// image it was made from with tag, or tag as given when it is a full name.
func dockerTag(from []string, tag string) string {
	if strings.Contains(tag, ":") || len(from) == 0 {
		return tag
	}
	n := from[0]
	if i := strings.LastIndexByte(n, ':'); i > strings.LastIndexByte(n, '/') {
		n = n[:i]
	}
	return n + ":" + tag
}

// setManifestJSON makes b the archive's manifest.json and reads its
// images again. The caller holds mu.
func (l *Layout) setManifestJSON(b []byte) error {
	if l.root != nil {
		// A docker save extracted into a directory: written at once, as
		// its index.json is.
		if err := l.writeFile(manifestFile, bytes.NewReader(b), int64(len(b)), nil); err != nil {
			return fmt.Errorf("writing %s of %q: %w", manifestFile, l.name, err)
		}
	}
	old, oldImages := l.manifest, l.docker
	l.manifest = b
	if l.kind == imageref.DockerArchive {
		images, err := l.readDocker()
		if err != nil {
			l.manifest, l.docker = old, oldImages
			return err
		}
		l.docker = images
	}
	l.dirty = true
	return nil
}

// keepManifestJSON keeps docker save's manifest.json in step with an
// index.json entry of an oci-archive moved from manifest old (zero for a
// new tag) to body: the item whose Config was old's config takes body's;
// for a new tag, an item like the one with body's layers is added, named
// for the tag. A manifest without a config (an index) changes nothing.
// The caller holds mu.
func (l *Layout) keepManifestJSON(ctx context.Context, old v1.Hash, body []byte, ref string) error {
	var m v1.Manifest
	if json.Unmarshal(body, &m) != nil || m.Config.Digest == (v1.Hash{}) {
		return nil
	}
	items, err := readItems(l.manifest)
	if err != nil {
		return err
	}
	var out []byte
	if old != (v1.Hash{}) {
		out, err = l.repointItem(ctx, items, old, m)
	} else {
		out, err = l.addItemFor(items, m, ref)
	}
	if err != nil || out == nil {
		return err
	}
	return l.setManifestJSON(out)
}

// repointItem returns manifest.json with the item whose Config is the
// config of manifest old given m's config, or nil when no item is (old
// is an index, or an image manifest.json does not list).
func (l *Layout) repointItem(ctx context.Context, items []dockerItem, old v1.Hash, m v1.Manifest) ([]byte, error) {
	// GetBlob, not GetManifest: the caller holds mu.
	prev, err := l.GetBlob(ctx, old, registry.MaxManifestSize, "manifest")
	if err != nil {
		return nil, err
	}
	var pm v1.Manifest
	if json.Unmarshal(prev, &pm) != nil || pm.Config.Digest == (v1.Hash{}) {
		return nil, nil
	}
	var out []byte
	for i, it := range items {
		if n, err := cleanName(it.Config); err == nil && n == "blobs/sha256/"+pm.Config.Digest.Hex {
			out, err = setItem(l.manifest, i, strings.Replace(it.Config, pm.Config.Digest.Hex, m.Config.Digest.Hex, 1), nil)
			if err != nil {
				return nil, fmt.Errorf("writing %s of %q: %w", manifestFile, l.name, err)
			}
		}
	}
	return out, nil
}

// addItemFor returns manifest.json with an item for a new tag ref of the
// image m: made like the first item with m's layers, or nil when none
// has them.
func (l *Layout) addItemFor(items []dockerItem, m v1.Manifest, ref string) ([]byte, error) {
	for i, it := range items {
		if !layerNames(it.Layers, m.Layers) {
			continue
		}
		src := &dockerImage{pos: i, item: it}
		out, err := addItem(l.manifest, src, "blobs/sha256/"+m.Config.Digest.Hex, dockerTag(it.RepoTags, ref))
		if err != nil {
			return nil, fmt.Errorf("writing %s of %q: %w", manifestFile, l.name, err)
		}
		return out, nil
	}
	return nil, nil
}

// layerNames reports whether names are the blobs of layers, in order.
func layerNames(names []string, layers []v1.Descriptor) bool {
	want := make([]string, len(layers))
	for i, d := range layers {
		want[i] = "blobs/sha256/" + d.Digest.Hex
	}
	got := make([]string, len(names))
	for i, n := range names {
		got[i], _ = cleanName(n)
	}
	return slices.Equal(got, want)
}

// manifest.json is a JSON array, and the patch package edits objects: it
// is edited as the member "a" of a wrapping object, whose bytes are then
// taken off again, so that every other byte of it stays as it was.
const wrapOpen, wrapClose = `{"a":`, `}`

func wrapArray(b []byte) []byte {
	return slices.Concat([]byte(wrapOpen), b, []byte(wrapClose))
}

func editArray(b []byte, edits ...patch.Edit) ([]byte, error) {
	for i := range edits {
		edits[i].Path = append(patch.Path{"a"}, edits[i].Path...)
	}
	out, err := patch.Apply(wrapArray(b), edits...)
	if err != nil {
		return nil, err
	}
	return out[len(wrapOpen) : len(out)-len(wrapClose)], nil
}

// setItem sets the Config of item i, and its RepoTags when tags is not nil.
func setItem(doc []byte, i int, config string, tags []string) ([]byte, error) {
	c, _ := json.Marshal(config)
	edits := []patch.Edit{{Path: patch.Path{i, "Config"}, Value: c}}
	if tags != nil {
		t, _ := json.Marshal(tags)
		edits = append(edits, patch.Edit{Path: patch.Path{i, "RepoTags"}, Value: t})
	}
	return editArray(doc, edits...)
}

// addItem appends a copy of src's item with config and the one name tag.
func addItem(doc []byte, src *dockerImage, config, tag string) ([]byte, error) {
	raw, ok, err := patch.Get(wrapArray(doc), patch.Path{"a", src.pos})
	if err != nil || !ok {
		return nil, fmt.Errorf("reading item %d: %v", src.pos, err)
	}
	item, err := setItem(slices.Concat([]byte("["), raw, []byte("]")), 0, config, []string{tag})
	if err != nil {
		return nil, err
	}
	items, _ := readItems(doc)
	return editArray(doc, patch.Edit{Path: patch.Path{len(items)}, Value: item[1 : len(item)-1]})
}
