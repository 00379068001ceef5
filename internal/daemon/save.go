package daemon

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/detect"
	"github.com/set-image-platform/set-image-platform/internal/oci"
)

// MaxConfigSize bounds a config read from a save, as a registry's is.
const MaxConfigSize int64 = 8 << 20

// Kind is what a file of a save archive is.
type Kind int

const (
	// Other is anything not read here: VERSION, the v1 json of a layer
	// directory, repositories, oci-layout.
	Other Kind = iota
	// Config is the image's config.
	Config
	// Layer is a layer's tar (uncompressed in a classic store's save).
	Layer
	// Manifest is the docker save manifest.json.
	Manifest
	// Index is the index.json of an Engine 25+ save.
	Index
	// JSONBlob is a blob of an OCI layout that holds JSON: a manifest, an
	// index, or (in the containerd store, whose IDs are not config
	// digests) the config.
	JSONBlob
)

// Part is one regular file of a save archive.
type Part struct {
	Name string
	Kind Kind
	Size int64
	// DiffID is a layer's digest (uncompressed, so its blob's digest
	// too), known before a byte of it is read: an Engine 25+ blob is
	// named by it, and an Engine 20.10 layer directory's json, which
	// comes before its layer.tar, names the directory by a v1 ID that
	// only one of the image's layers gives (see position). Zero when the
	// archive does not tell.
	DiffID v1.Hash
	// Digest is the digest an OCI layout's blob is named by
	// (blobs/sha256/<hex>): in the containerd store a compressed layer's
	// digest, which its manifest names and a registry takes it by. Zero
	// for any other file.
	Digest v1.Hash
}

// Save is the stream of GET /images/{id}/get, read once, in order, with
// nothing kept beyond a tar header and a small read buffer. docker save
// writes its files in the order of their names (a 20.10 engine tars a
// directory it filled), so the config and the layers come in no order the
// image gives: Config skips every layer before it, and layers come in the
// order of the archive, not base first.
type Save struct {
	op      string
	body    io.ReadCloser
	counted *countingReader
	tr      *tar.Reader
	// cur reads the current part; peeked through when a blob's kind is
	// told by its first byte.
	cur *bufio.Reader
	// config is the expected config digest (the image ID in the classic
	// store); zero in the containerd store, whose config is found by
	// shape.
	config  v1.Hash
	diffIDs map[string]bool
	// order is the image's diff IDs, base first, and chain their chain
	// IDs, which an Engine 20.10 save's v1 IDs are made of.
	order, chain []v1.Hash
	// v1dirs are the diff IDs of the layer directories whose json was
	// read, by directory.
	v1dirs map[string]v1.Hash
	// configSeen is the config when a layer's search passed it, checked:
	// the config and the layers come in the archive's order.
	configSeen []byte
	layers     int
	seen       int // layers handed out
	// kept are the JSON blobs of a containerd store's save passed so far
	// (manifests, indexes, configs), by digest, each checked against it:
	// they come among the layers in the order of their digests, so one
	// read of the stream gives layers and the JSON that names them.
	kept       map[v1.Hash][]byte
	keptBytes  int64
	containerd bool
	// ended says the archive was read to its end.
	ended bool
}

// Save starts streaming the image im, named by its ID so that a tag moved
// meanwhile cannot give another image's files. store says what the ID is.
func (c *Client) Save(ctx context.Context, im *Image, store Store) (*Save, error) {
	op := fmt.Sprintf("saving image %s", im.ID)
	resp, err := c.do(ctx, http.MethodGet, "/images/"+im.ID.String()+"/get", nil, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := c.statusError(resp, op, im.ID.String()); err != nil {
		drain(resp.Body)
		return nil, err
	}
	counted := &countingReader{r: resp.Body}
	s := &Save{
		op: op, body: resp.Body, counted: counted, tr: tar.NewReader(counted),
		diffIDs: map[string]bool{}, layers: len(im.DiffIDs),
		order: im.DiffIDs, chain: chainIDs(im.DiffIDs), v1dirs: map[string]v1.Hash{},
		kept: map[v1.Hash][]byte{},
	}
	if store == Classic {
		s.config = im.ID
	}
	s.containerd = store == Containerd
	for _, d := range im.DiffIDs {
		s.diffIDs[d.Hex] = true
	}
	return s, nil
}

// Close ends the stream; what was not read is never sent.
func (s *Save) Close() error { return s.body.Close() }

// BytesRead is how much of the archive has come over the socket.
func (s *Save) BytesRead() int64 { return s.counted.n }

// Next moves to the next regular file of the archive and says what it is;
// io.EOF at the end.
func (s *Save) Next() (Part, error) {
	for {
		hdr, err := s.tr.Next()
		if errors.Is(err, io.EOF) {
			s.ended = true
			return Part{}, io.EOF
		}
		if err != nil {
			return Part{}, fmt.Errorf("%s: reading the archive: %w", s.op, err)
		}
		// Links (an Engine 25+ save links <dir>/layer.tar to its blob)
		// and directories carry no bytes of their own.
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		s.cur = bufio.NewReaderSize(s.tr, 512)
		p := Part{Name: path.Clean(strings.TrimPrefix(hdr.Name, "/")), Size: hdr.Size}
		p.Kind, err = s.kind(p.Name)
		if err != nil {
			return Part{}, err
		}
		if p.DiffID, err = s.diffID(p); err != nil {
			return Part{}, err
		}
		if dir, base := path.Split(p.Name); dir == "blobs/sha256/" {
			p.Digest, _ = v1.NewHash("sha256:" + base)
		}
		return p, nil
	}
}

func (s *Save) kind(name string) (Kind, error) {
	dir, base := path.Split(name)
	switch {
	case name == "manifest.json":
		return Manifest, nil
	case name == "index.json":
		return Index, nil
	case base == "layer.tar":
		return Layer, nil
	case dir == "" && s.config.Hex != "" && base == s.config.Hex+".json":
		return Config, nil
	case dir != "blobs/sha256/":
		return Other, nil
	case s.config.Hex != "" && base == s.config.Hex:
		return Config, nil
	case s.diffIDs[base]:
		return Layer, nil
	}
	// A compressed layer of the containerd store, or JSON.
	b, err := s.cur.Peek(1)
	if err != nil && !errors.Is(err, io.EOF) {
		return Other, fmt.Errorf("%s: reading %s: %w", s.op, name, err)
	}
	if bytes.Equal(b, []byte("{")) {
		return JSONBlob, nil
	}
	return Layer, nil
}

// diffID is what layer p holds, when the archive has said so; reading a
// layer directory's json (Engine 20.10), it notes what the directory's
// layer.tar holds.
func (s *Save) diffID(p Part) (v1.Hash, error) {
	dir, base := path.Split(p.Name)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case p.Kind == Layer && dir == "blobs/sha256" && s.diffIDs[base]:
		return v1.Hash{Algorithm: "sha256", Hex: base}, nil
	case p.Kind == Layer:
		return s.v1dirs[dir], nil
	case p.Kind != Other || base != "json" || dir == "" || strings.Contains(dir, "/"):
		return v1.Hash{}, nil
	}
	b, err := s.readPart(p)
	if err != nil {
		return v1.Hash{}, err
	}
	if i := v1Position(b, s.chain); i >= 0 {
		s.v1dirs[dir] = s.order[i]
	}
	return v1.Hash{}, nil
}

// v1Position is which layer of the image (base first) the v1 json of a
// layer directory of an Engine 20.10 save describes, from the chain IDs
// of the image's layers; -1 when none. The engine names the directory by
// a v1 ID it makes (image/v1.CreateID) from that same json: the json
// without "id", with "layer_id" the chain ID of the layer and "parent"
// the parent's v1 ID as a digest, marshalled with sorted keys; and
// without "os" below the top layer, which the engine adds to the json of
// every layer after making the ID (moby's tarexport). Trying each chain
// ID finds the one that gives the directory's ID back.
func v1Position(v1json []byte, chain []v1.Hash) int {
	var m map[string]json.RawMessage
	if json.Unmarshal(v1json, &m) != nil {
		return -1
	}
	var id, parent string
	if json.Unmarshal(m["id"], &id) != nil || len(id) != 64 {
		return -1
	}
	delete(m, "id")
	if len(m["parent"]) > 0 {
		if json.Unmarshal(m["parent"], &parent) != nil {
			return -1
		}
		m["parent"], _ = json.Marshal("sha256:" + parent)
	}
	noOS := maps.Clone(m)
	delete(noOS, "os")
	for i, c := range chain {
		for _, mm := range []map[string]json.RawMessage{m, noOS} {
			mm["layer_id"], _ = json.Marshal(c.String())
			b, err := json.Marshal(mm)
			if err != nil {
				return -1
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) == id {
				return i
			}
		}
	}
	return -1
}

// chainIDs are the chain IDs of layers (base first): the first layer's
// diff ID, then the digest of "<chain ID below> <diff ID>".
func chainIDs(diffIDs []v1.Hash) []v1.Hash {
	out := make([]v1.Hash, len(diffIDs))
	for i, d := range diffIDs {
		out[i] = d
		if i > 0 {
			out[i] = digestOf([]byte(out[i-1].String() + " " + d.String()))
		}
	}
	return out
}

// Read reads the current part.
func (s *Save) Read(p []byte) (int, error) {
	if s.cur == nil {
		return 0, io.EOF
	}
	return s.cur.Read(p)
}

// Config reads on to the config and returns its bytes as the engine holds
// them, checked against the image ID in the classic store; layers before
// it in the archive go by unread (read over the socket, not kept).
func (s *Save) Config() ([]byte, error) {
	if s.configSeen != nil {
		return s.configSeen, nil
	}
	for {
		p, err := s.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the archive holds no config", s.op)
		}
		if err != nil {
			return nil, err
		}
		if p.Kind != Config && (p.Kind != JSONBlob || s.config.Hex != "") {
			continue
		}
		b, err := s.readPart(p)
		if err != nil {
			return nil, err
		}
		switch {
		case p.Kind == Config:
			return b, s.checkConfig(b)
		case isConfig(b):
			return b, nil
		}
	}
}

func (s *Save) readPart(p Part) ([]byte, error) {
	if p.Size > MaxConfigSize {
		return nil, fmt.Errorf("%s: %s is %d bytes, more than the %d a config may have", s.op, p.Name, p.Size, MaxConfigSize)
	}
	b, err := io.ReadAll(io.LimitReader(s, MaxConfigSize))
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", s.op, p.Name, err)
	}
	return b, nil
}

func (s *Save) checkConfig(b []byte) error {
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != s.config.Hex {
		return fmt.Errorf("%s: the config has digest sha256:%s, not the image ID", s.op, got)
	}
	return nil
}

// isConfig tells an image config from a manifest or an index by shape.
func isConfig(b []byte) bool {
	var c struct {
		RootFS json.RawMessage `json:"rootfs"`
	}
	return json.Unmarshal(b, &c) == nil && len(c.RootFS) > 0
}

// ErrIndex is a containerd store's image whose ID is an index (an image
// of several platforms, or one with attestations), not a manifest.
var ErrIndex = errors.New("the image is an index (several platforms or attestations), not one manifest")

// maxJSONKept bounds the JSON blobs a containerd store's save keeps
// while it is read: the manifests and configs of the image, and of its
// attestations. A JSON blob larger than MaxConfigSize (an SBOM's layer,
// say) is passed by, not kept.
const maxJSONKept = 4 * MaxConfigSize

// keep reads the JSON blob p of a containerd store's save into s.kept,
// checked against the digest that names it.
func (s *Save) keep(p Part) error {
	if !s.containerd || p.Kind != JSONBlob || p.Digest.Hex == "" || p.Size > MaxConfigSize {
		return nil
	}
	if s.keptBytes += p.Size; s.keptBytes > maxJSONKept {
		return fmt.Errorf("%s: more than %d bytes of JSON blobs in the archive", s.op, maxJSONKept)
	}
	b, err := s.readPart(p)
	if err != nil {
		return err
	}
	if got := digestOf(b); got != p.Digest {
		return fmt.Errorf("%s: %s has digest %s", s.op, p.Name, got)
	}
	s.kept[p.Digest] = b
	return nil
}

// ErrNoBlob is a JSON blob a save lacks: the store holds the index but
// not that child's manifest (a pull keeps one platform's).
var ErrNoBlob = errors.New("the archive holds no blob")

// Blob is the JSON blob d of a containerd store's save (a manifest, an
// index, a config), byte for byte: kept if the stream passed it, else
// read on to it, keeping the JSON blobs on the way and passing layers by;
// ErrNoBlob when the archive ends without it.
func (s *Save) Blob(d v1.Hash) ([]byte, error) {
	for {
		if b, ok := s.kept[d]; ok {
			return b, nil
		}
		if s.ended {
			return nil, fmt.Errorf("%s: %w %s (or it is larger than %d bytes)", s.op, ErrNoBlob, d, MaxConfigSize)
		}
		p, err := s.Next()
		if errors.Is(err, io.EOF) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := s.keep(p); err != nil {
			return nil, err
		}
	}
}

// Passed is the JSON blob d if the stream has passed it (Blob without
// reading on): whether a read can tell yet what the image is.
func (s *Save) Passed(d v1.Hash) ([]byte, bool) {
	b, ok := s.kept[d]
	return b, ok
}

// Manifest reads on to the manifest whose digest is id (the image ID in
// the containerd image store) and the config it names, and returns both
// byte for byte, each checked against the digest that names it (Blob).
// An index is ErrIndex.
func (s *Save) Manifest(id v1.Hash) (manifest, config []byte, err error) {
	if manifest, err = s.Blob(id); err != nil {
		return nil, nil, err
	}
	m, err := oci.Parse(manifest)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("%s: reading manifest %s: %w", s.op, id, err)
	case m.Manifests != nil:
		return nil, nil, fmt.Errorf("%s: %w", s.op, ErrIndex)
	}
	d, err := v1.NewHash(m.Config.Digest)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading manifest %s's config digest: %w", s.op, id, err)
	}
	config, err = s.Blob(d)
	return manifest, config, err
}

// NextLayer reads on to the next layer; io.EOF when there is none. A
// config it passes (classic store) is kept for Config, and the JSON blobs
// (containerd store) for Blob, so that one pass of the stream gives both.
func (s *Save) NextLayer() (Part, error) {
	for {
		p, err := s.Next()
		if err != nil {
			return Part{}, err
		}
		switch p.Kind {
		case Layer:
			s.seen++
			return p, nil
		case JSONBlob:
			if err := s.keep(p); err != nil {
				return Part{}, err
			}
		case Config:
			b, err := s.readPart(p)
			if err != nil {
				return Part{}, err
			}
			if err := s.checkConfig(b); err != nil {
				return Part{}, err
			}
			s.configSeen = b
		}
	}
}

// DetectLayers hands the layers to detect.Detect in the order the archive
// holds them: Detect opens layers from the last to the first, once each,
// so the i-th open takes the i-th layer of the stream. The order of a
// save is not the image's, which only matters for files one layer deletes
// from another (whiteouts), a rare case among executables. A layer the
// archive holds once for two places of the image (Engine 25+ writes a
// blob once) opens as empty the second time.
func (s *Save) DetectLayers() []detect.Layer {
	ls := make([]detect.Layer, s.layers)
	for i := range ls {
		ls[i] = detect.Layer{
			Digest: fmt.Sprintf("%d of %d in the engine's save", s.layers-i, s.layers),
			Open:   s.openNext,
		}
	}
	return ls
}

func (s *Save) openNext() (io.ReadCloser, error) {
	_, err := s.NextLayer()
	if errors.Is(err, io.EOF) {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if err != nil {
		return nil, err
	}
	return io.NopCloser(s), nil
}

// countingReader counts what is read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
