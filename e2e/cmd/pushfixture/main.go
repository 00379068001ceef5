package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The media types `pack buildpack package` writes, as go-containerregistry
// names them.
const (
	dockerManifest = types.DockerManifestSchema2
	dockerConfig   = types.DockerConfigJSON
	dockerLayer    = types.DockerLayer
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pushfixture:", err)
		os.Exit(1)
	}
}

// run pushes the fixture to the tag in args and prints its digest.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: pushfixture REGISTRY/REPOSITORY:TAG")
	}
	tag, err := name.NewTag(args[0], name.StrictValidation)
	if err != nil {
		return fmt.Errorf("parsing tag %q: %w", args[0], err)
	}
	f, err := newFixture()
	if err != nil {
		return err
	}
	for _, b := range []struct {
		data      []byte
		mediaType types.MediaType
	}{{f.config, dockerConfig}, {f.layer, dockerLayer}} {
		if err := remote.WriteLayer(tag.Context(), static.NewLayer(b.data, b.mediaType), remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("pushing blob %s to %q: %w", digestOf(b.data), tag.Context().Name(), err)
		}
	}
	if err := remote.Put(tag, rawManifest(f.manifest), remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("putting manifest to %q: %w", tag.Name(), err)
	}
	_, err = fmt.Fprintln(stdout, digestOf(f.manifest))
	return err
}

// fixture is the exact bytes of the image.
type fixture struct {
	config, layer, manifest []byte
}

// newFixture builds the image: one layer holding a buildpack's build
// script, a compact config as pack writes it (architecture empty, labels
// holding escaped JSON) and a compact Docker v2 manifest.
func newFixture() (fixture, error) {
	tarball, err := tarOf("cnb/buildpacks/example_go/1.0.0/bin/build", "#!/bin/sh\nexec /cnb/lifecycle/builder \"$@\"\n")
	if err != nil {
		return fixture{}, fmt.Errorf("writing layer: %w", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tarball); err != nil {
		return fixture{}, fmt.Errorf("compressing layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fixture{}, fmt.Errorf("compressing layer: %w", err)
	}
	var f fixture
	f.layer = gz.Bytes()
	f.config = []byte(`{"architecture":"","created":"1980-01-01T00:00:01Z","history":[{"created":"1980-01-01T00:00:01Z"}],` +
		`"os":"linux","rootfs":{"type":"layers","diff_ids":["` + digestOf(tarball) + `"]},` +
		`"config":{"Labels":{"io.buildpacks.buildpackage.metadata":"{\"id\":\"example/go\",\"name\":\"Example Buildpack for Go\",\"version\":\"1.0.0\",\"stacks\":[{\"id\":\"*\"}]}",` +
		`"io.buildpacks.buildpack.layers":"{\"example/go\":{\"1.0.0\":{\"api\":\"0.8\",\"stacks\":[{\"id\":\"*\"}],\"homepage\":\"https://example.test/?a=1\u0026b=\u003cc\u003e\"}}}"}}}`)
	f.manifest = []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"size":%d,"digest":%q},"layers":[{"mediaType":%q,"size":%d,"digest":%q}]}`,
		dockerManifest, dockerConfig, len(f.config), digestOf(f.config), dockerLayer, len(f.layer), digestOf(f.layer)))
	return f, nil
}

// tarOf returns a tar archive holding one executable file, with the fixed
// 1980 time that pack gives every file.
func tarOf(path, content string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Name:     path,
		Mode:     0o755,
		Size:     int64(len(content)),
		Typeflag: tar.TypeReg,
		ModTime:  time.Date(1980, 1, 1, 0, 0, 1, 0, time.UTC),
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(tw, content); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// rawManifest is a remote.Taggable that puts these exact bytes.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return dockerManifest, nil }
