package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// maxInspect bounds an inspect answer: an image with thousands of tags
// and a long history stays far below it.
const maxInspect = 8 << 20

// Image is what the engine says of an image, from one inspect.
type Image struct {
	// ID is the engine's image ID (docker image inspect's Id): the config
	// digest in the classic store, the manifest or index digest in the
	// containerd image store.
	ID           v1.Hash
	OS           string
	Architecture string
	Variant      string
	OSVersion    string
	RepoTags     []string
	RepoDigests  []string
	// DiffIDs are the layers' uncompressed digests, base first.
	DiffIDs []v1.Hash
	Size    int64
}

// inspectJSON is the part of GET /images/{name}/json read here.
type inspectJSON struct {
	ID           string   `json:"Id"`
	RepoTags     []string `json:"RepoTags"`
	RepoDigests  []string `json:"RepoDigests"`
	OS           string   `json:"Os"`
	Architecture string   `json:"Architecture"`
	Variant      string   `json:"Variant"`
	OSVersion    string   `json:"OsVersion"`
	Size         int64    `json:"Size"`
	RootFS       struct {
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

// Inspect asks the engine about the image name (NAME[:TAG], or an image ID
// sha256:…): one request, no layer read.
func (c *Client) Inspect(ctx context.Context, name string) (*Image, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodGet, "/images/"+name+"/json", nil, nil, nil)
	if err != nil {
		return nil, err
	}
	defer drain(resp.Body)
	op := fmt.Sprintf("inspecting image %q", name)
	if err := c.statusError(resp, op, name); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxInspect+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if len(b) > maxInspect {
		return nil, fmt.Errorf("%s: the engine's answer exceeds %d bytes", op, maxInspect)
	}
	var in inspectJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("%s: reading the engine's answer: %w", op, err)
	}
	return in.image(op)
}

func (in *inspectJSON) image(op string) (*Image, error) {
	id, err := v1.NewHash(in.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: reading its Id %q: %w", op, in.ID, err)
	}
	im := &Image{
		ID: id, OS: in.OS, Architecture: in.Architecture, Variant: in.Variant, OSVersion: in.OSVersion,
		RepoTags: in.RepoTags, RepoDigests: in.RepoDigests, Size: in.Size,
	}
	for _, l := range in.RootFS.Layers {
		d, err := v1.NewHash(l)
		if err != nil {
			return nil, fmt.Errorf("%s: reading layer %q: %w", op, l, err)
		}
		im.DiffIDs = append(im.DiffIDs, d)
	}
	return im, nil
}

// checkName refuses what would change the request's path or query: the
// caller has parsed the name already (imageref), this keeps the package
// safe on its own.
func checkName(name string) error {
	if name == "" || strings.ContainsAny(name, "?#% \t\r\n") || strings.Contains(name, "..") {
		return fmt.Errorf("naming image %q in the Docker engine: not an image name or ID", name)
	}
	return nil
}

// Store is the engine's image store: it decides what an image ID is and
// what a load takes.
type Store int

const (
	// Classic is the graph-driver store (overlay2…): no manifests kept,
	// the image ID is the config digest, a load takes manifest.json and
	// the config.
	Classic Store = iota
	// Containerd is the containerd image store (Engine 25+ with the
	// containerd snapshotter, the default of fresh Docker 29 installs):
	// manifests kept, the image ID is the manifest or index digest, a
	// load takes an OCI layout.
	Containerd
)

func (s Store) String() string {
	if s == Containerd {
		return "containerd"
	}
	return "classic"
}

// Store asks the engine (GET /info) which image store it uses: the
// containerd store shows as DriverStatus driver-type
// io.containerd.snapshotter.v1. It is asked once per Client.
func (c *Client) Store(ctx context.Context) (Store, error) {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	if c.store == nil {
		st, err := c.askStore(ctx)
		if err != nil {
			return Classic, err
		}
		c.store = &st
	}
	return *c.store, nil
}

// askStore is GET /info, read for the image store.
func (c *Client) askStore(ctx context.Context) (Store, error) {
	resp, err := c.do(ctx, http.MethodGet, "/info", nil, nil, nil)
	if err != nil {
		return Classic, err
	}
	defer drain(resp.Body)
	const op = "asking the Docker engine its image store"
	if err := c.statusError(resp, op, ""); err != nil {
		return Classic, err
	}
	var info struct {
		DriverStatus [][]string `json:"DriverStatus"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxInspect)).Decode(&info); err != nil {
		return Classic, fmt.Errorf("%s: %w", op, err)
	}
	for _, kv := range info.DriverStatus {
		if len(kv) == 2 && kv[0] == "driver-type" && kv[1] == "io.containerd.snapshotter.v1" {
			return Containerd, nil
		}
	}
	return Classic, nil
}
