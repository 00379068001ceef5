package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/set-image-platform/set-image-platform/internal/daemon"
	"github.com/set-image-platform/set-image-platform/internal/detect"
)

// maxPosted is what a set in place may post to the engine whatever the
// image's size: the config, manifest.json and the tar framing.
const maxPosted = 64 << 10

// daemonClient is the engine of requireDocker and a client of it, which
// finds it as the docker CLI does (DOCKER_HOST, as .ci/run exports it).
func daemonClient(t testing.TB) (*dockerEngine, *daemon.Client) {
	t.Helper()
	d := requireDocker(t)
	c, err := daemon.FromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// daemonTag is a tag no other test uses, removed from the engine when t
// ends.
func daemonTag(t testing.TB, d *dockerEngine, repo string) string {
	t.Helper()
	tag := fmt.Sprintf("%s:%s", repo, strings.ToLower(rand.Text()[:12]))
	t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", tag) })
	return tag
}

// loadArchive writes a docker save archive of im (layers as
// <n>/layer.tar, the config as <id>.json, manifest.json naming tag) and
// loads it with docker load: what docker load takes is the only way into
// an engine with no network.
func (d *dockerEngine) loadArchive(t testing.TB, tag string, im image) {
	t.Helper()
	pr, pw := io.Pipe()
	layer := func(tw *tar.Writer, i int) error {
		return writeEntry(tw, fmt.Sprintf("%d/layer.tar", i), int64(len(im.layers[i].data)), bytes.NewReader(im.layers[i].data))
	}
	go func() {
		pw.CloseWithError(writeSave(pw, tag, len(im.layers), layer, func() []byte { return im.config.data }))
	}()
	res := d.run(t, nil, pr, "load", "--quiet")
	pr.Close()
	if res.ExitCode != 0 {
		t.Fatalf("docker load of %s: %s", tag, res)
	}
}

// writeSave writes a docker save archive: the layers by layer, then the
// config, which may hold digests of what layer wrote, and manifest.json.
func writeSave(w io.Writer, tag string, layers int, layer func(tw *tar.Writer, i int) error, configOf func() []byte) error {
	tw := tar.NewWriter(w)
	var names []string
	for i := range layers {
		if err := layer(tw, i); err != nil {
			return err
		}
		names = append(names, fmt.Sprintf("%d/layer.tar", i))
	}
	config := configOf()
	cfgName := strings.TrimPrefix(sha256Digest(config), "sha256:") + ".json"
	mj, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{tag}, "Layers": names}})
	if err != nil {
		return err
	}
	if err := writeEntry(tw, cfgName, int64(len(config)), bytes.NewReader(config)); err != nil {
		return err
	}
	if err := writeEntry(tw, "manifest.json", int64(len(mj)), bytes.NewReader(mj)); err != nil {
		return err
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, name string, size int64, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
		return err
	}
	_, err := io.Copy(tw, r)
	return err
}

// daemonImage is what pack build leaves in the engine: architecture
// empty, a static linux/amd64 ELF binary on top of two data layers.
func daemonImage(t testing.TB) image {
	t.Helper()
	ls := append(randomLayers(t, 2, dockerLayer), helloLayer(t, "hello-linux-amd64"))
	return binImage(`"architecture":"","os":"linux"`, ls...)
}

// loadDaemonImage loads a new daemonImage as a tag of repo, and returns
// the engine, a client of it, the image and the tag.
func loadDaemonImage(t *testing.T, repo string) (*dockerEngine, *daemon.Client, image, string) {
	t.Helper()
	d, c := daemonClient(t)
	im := daemonImage(t)
	tag := daemonTag(t, d, repo)
	d.loadArchive(t, tag, im)
	return d, c, im, tag
}

// TestDaemonInspect: one request says what check and plan need, from the
// real engine.
func TestDaemonInspect(t *testing.T) {
	t.Parallel()
	_, c, im, tag := loadDaemonImage(t, "example.test/daemon/inspect")
	ctx := context.Background()

	got, err := c.Inspect(ctx, tag)
	if err != nil {
		t.Fatalf("Inspect(%s) = %v", tag, err)
	}
	want := &daemon.Image{ID: hashOf(t, im.config.digest), OS: "linux", RepoTags: []string{tag}}
	for _, l := range im.layers {
		want.DiffIDs = append(want.DiffIDs, hashOf(t, l.diffID))
	}
	got.Size, got.RepoDigests = 0, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inspect(%s) (-want +got):\n%s", tag, diff)
	}
	byID, err := c.Inspect(ctx, im.config.digest)
	if err != nil || byID.ID != want.ID {
		t.Errorf("Inspect(%s) = %v, %v, want the image of %s", im.config.digest, byID, err, tag)
	}

	absent := "example.test/daemon/inspect:absent"
	_, err = c.Inspect(ctx, absent)
	var nf *daemon.NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("Inspect(%s) = %v (%T), want *daemon.NotFoundError", absent, err, err)
	}
}

// TestDaemonSave: the save stream gives the config byte for byte (its
// digest the image ID) and the layers, which detect reads as auto does.
func TestDaemonSave(t *testing.T) {
	t.Parallel()
	_, c, im, tag := loadDaemonImage(t, "daemon-save")
	ctx := context.Background()
	info, err := c.Inspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}

	s, err := c.Save(ctx, info, daemon.Classic)
	if err != nil {
		t.Fatal(err)
	}
	config, err := s.Config()
	s.Close()
	if err != nil || !bytes.Equal(config, im.config.data) {
		t.Fatalf("Save(%s).Config() = %q, %v, want the bytes loaded %q", tag, config, err, im.config.data)
	}

	s, err = c.Save(ctx, info, daemon.Classic)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev, err := detect.Detect(ctx, s.DetectLayers(), detect.Options{})
	if err != nil {
		t.Fatalf("Detect(the save of %s) = %v", tag, err)
	}
	if got := ev.String(); got != "1 ELF file: linux/amd64" {
		t.Errorf("Detect(the save of %s) = %q, want %q", tag, got, "1 ELF file: linux/amd64")
	}

	// Each layer is named before a byte of it is read (by its directory's
	// json in Engine 20.10's save), and its bytes hash to that name; the
	// config passed on the way is kept.
	s, err = c.Save(ctx, info, daemon.Classic)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var named, hashed []string
	for {
		p, err := s.NextLayer()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("NextLayer() = %v", err)
		}
		b, err := io.ReadAll(s)
		if err != nil {
			t.Fatal(err)
		}
		named, hashed = append(named, p.DiffID.String()), append(hashed, sha256Digest(b))
	}
	if diff := cmp.Diff(hashed, named); diff != "" {
		t.Errorf("NextLayer().DiffID against the digests of the layers read (-read +named):\n%s", diff)
	}
	var want []string
	for _, l := range im.layers {
		want = append(want, l.diffID)
	}
	if diff := cmp.Diff(want, named, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("NextLayer().DiffID of the save of %s (-want +got):\n%s", tag, diff)
	}
	if config, err := s.Config(); err != nil || !bytes.Equal(config, im.config.data) {
		t.Errorf("Save(%s).Config() after the layers = %q, %v, want the bytes loaded %q", tag, config, err, im.config.data)
	}
}

// TestDaemonLoad: a set in place posts the new config and manifest.json
// alone; the classic store of Engine 20.10 takes it, finding every layer
// among those it holds, and moves the tag to the new image ID.
func TestDaemonLoad(t *testing.T) {
	t.Parallel()
	d, c, im, tag := loadDaemonImage(t, "daemon-load")
	// The image the tag leaves stays in the engine, untagged.
	t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", im.config.digest) })
	ctx := context.Background()

	fixed := bytes.Replace(im.config.data, []byte(`"architecture":""`), []byte(`"architecture":"amd64"`), 1)
	ld, err := c.Load(ctx, tag, fixed, len(im.layers))
	if err != nil {
		t.Fatalf("Load(%s) = %v", tag, err)
	}
	if want := hashOf(t, sha256Digest(fixed)); ld.ID != want {
		t.Errorf("Load(%s).ID = %s, want the new config's digest %s", tag, ld.ID, want)
	}
	if ld.Posted > maxPosted || ld.Posted < int64(len(fixed)) {
		t.Errorf("Load(%s).Posted = %d, want the %d config bytes and framing, under %d", tag, ld.Posted, len(fixed), maxPosted)
	}
	t.Logf("posted %d bytes for a config of %d and %d layers of %d bytes", ld.Posted, len(fixed), len(im.layers), layersSize(im))

	got := d.must(t, "image", "inspect", "--format", "{{.Id}} {{.Os}}/{{.Architecture}}", tag)
	if want := sha256Digest(fixed) + " linux/amd64"; got != want {
		t.Errorf("docker image inspect %s = %q, want %q", tag, got, want)
	}
	// The image the tag left is still there, untagged, as docker load
	// leaves it.
	if got := d.must(t, "image", "inspect", "--format", "{{.Architecture}} {{len .RepoTags}}", im.config.digest); got != " 0" {
		t.Errorf("docker image inspect %s (the old image) = %q, want no architecture and no tag", im.config.digest, got)
	}
}

// TestDaemonLoadUntagged: an image named by its ID (docker-daemon:sha256:ID)
// has no tag to move: the fixed image is loaded untagged, the tag stays.
func TestDaemonLoadUntagged(t *testing.T) {
	t.Parallel()
	d, c, im, tag := loadDaemonImage(t, "daemon-untagged")
	fixed := bytes.Replace(im.config.data, []byte(`"architecture":""`), []byte(`"architecture":"amd64"`), 1)
	ld, err := c.Load(context.Background(), "", fixed, len(im.layers))
	if err != nil {
		t.Fatalf("Load(\"\") = %v", err)
	}
	t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", ld.ID.String()) })
	if got := d.must(t, "image", "inspect", "--format", "{{.Architecture}} {{len .RepoTags}}", sha256Digest(fixed)); got != "amd64 0" {
		t.Errorf("docker image inspect %s (the fixed image) = %q, want amd64 and no tag", sha256Digest(fixed), got)
	}
	if got := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag); got != im.config.digest {
		t.Errorf("docker image inspect %s = %s after an untagged load, want %s still", tag, got, im.config.digest)
	}
}

// TestDaemonLoadLayerAbsent: a config naming a layer the engine does not
// hold is refused with the engine's words, and the tag stays.
func TestDaemonLoadLayerAbsent(t *testing.T) {
	t.Parallel()
	d, c, im, tag := loadDaemonImage(t, "daemon-absent")

	other := daemonImage(t) // new random layers, never loaded
	_, err := c.Load(context.Background(), tag, other.config.data, len(other.layers))
	var ae *daemon.APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "layer.tar") {
		t.Fatalf("Load(%s) of a config whose layers the engine lacks = %v (%T), want the engine's refusal", tag, err, err)
	}
	t.Logf("the engine answers: %v", err)
	if got := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag); got != im.config.digest {
		t.Errorf("docker image inspect %s = %s after a refused load, want %s still", tag, got, im.config.digest)
	}
}

func layersSize(im image) int {
	n := 0
	for _, l := range im.layers {
		n += len(l.data)
	}
	return n
}
