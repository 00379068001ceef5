// Package demo is the sample the command line's --demo runs on: a
// registry on loopback holding an image whose config lacks its
// architecture. It is a fixture of the core, so that the front door needs
// neither registry nor patch to show it.
package demo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// Registry is the demo's registry, on loopback, holding the sample image
// at Ref: a config that says "architecture": "" as `pack buildpack
// package` makes them.
type Registry struct {
	Addr string
	Ref  name.Reference
	rt   http.RoundTripper
	srv  *http.Server
}

// Start starts the demo registry and pushes the sample image, through rt
// (nil: the default transport). Close stops it.
func Start(ctx context.Context, rt http.RoundTripper) (*Registry, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting demo registry: %w", err)
	}
	srv := &http.Server{Handler: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))}
	// Serve returns when Close stops it; there is nothing to report then.
	go func() { _ = srv.Serve(l) }()
	r := &Registry{Addr: l.Addr().String(), rt: rt, srv: srv}
	if r.Ref, err = name.ParseReference(r.Addr + "/demo/buildpack:0.0.1"); err != nil {
		srv.Close()
		return nil, err
	}
	if err := pushSample(ctx, r.Ref, rt); err != nil {
		srv.Close()
		return nil, fmt.Errorf("pushing demo image: %w", err)
	}
	return r, nil
}

// Close stops the registry.
func (r *Registry) Close() error { return r.srv.Close() }

// Platform describes the platform keys of the sample's config as the
// registry holds it now.
func (r *Registry) Platform(ctx context.Context) (string, error) {
	return readPlatform(ctx, r.Ref, r.rt)
}

// readPlatform describes the platform keys of ref's config as the registry
// holds it now.
func readPlatform(ctx context.Context, ref name.Reference, rt http.RoundTripper) (string, error) {
	c, err := registry.Open(ctx, ref.Context().Registry, []registry.Scope{{Repository: ref.Context().RepositoryStr()}}, registry.Options{Transport: rt, Keychain: authn.NewMultiKeychain()})
	if err != nil {
		return "", err
	}
	repo := c.Repo(ref.Context().RepositoryStr())
	m, err := repo.GetManifest(ctx, ref.Identifier())
	if err != nil {
		return "", err
	}
	raw, ok, err := patch.Get(m.Bytes, patch.Path{"config", "digest"})
	if err != nil || !ok {
		return "", errors.New("reading demo manifest: no config digest")
	}
	d, err := v1.NewHash(string(bytes.Trim(raw, `"`)))
	if err != nil {
		return "", err
	}
	cfg, err := repo.GetBlob(ctx, d, registry.MaxConfigSize, "config")
	if err != nil {
		return "", err
	}
	arch, _, _ := patch.Get(cfg, patch.Path{"architecture"})
	osr, _, _ := patch.Get(cfg, patch.Path{"os"})
	p, err := patch.ReadPlatform(cfg, nil)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`"architecture":%s, "os":%s  (platform %s, manifest %s)`, arch, osr, platform.Platform.Display(p), m.Digest), nil
}

func pushSample(ctx context.Context, ref name.Reference, rt http.RoundTripper) error {
	layer, diffID, err := sampleLayer()
	if err != nil {
		return err
	}
	ld := oci.Digest(layer)
	config := []byte(`{"architecture":"","created":"1980-01-01T00:00:01Z","history":[{"created":"1980-01-01T00:00:01Z","created_by":"pack buildpack package"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["` + diffID.String() + `"]},"config":{"Labels":{"io.buildpacks.buildpackage.metadata":"{\"id\":\"demo/hello\",\"version\":\"0.0.1\",\"stacks\":[{\"id\":\"*\"}]}"}}}`)
	cd := oci.Digest(config)
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"}]}`, len(config), cd, len(layer), ld))
	c, err := registry.Open(ctx, ref.Context().Registry, []registry.Scope{{Repository: ref.Context().RepositoryStr(), Push: true}}, registry.Options{Transport: rt, Keychain: authn.NewMultiKeychain()})
	if err != nil {
		return err
	}
	repo := c.Repo(ref.Context().RepositoryStr())
	if err := repo.PushBlob(ctx, ld, int64(len(layer)), bytes.NewReader(layer)); err != nil {
		return err
	}
	if err := repo.PushBlob(ctx, cd, int64(len(config)), bytes.NewReader(config)); err != nil {
		return err
	}
	return repo.PutManifest(ctx, ref.Identifier(), manifest, types.DockerManifestSchema2)
}

// sampleLayer is a gzipped tar holding a buildpack's bin/build script.
func sampleLayer() (compressed []byte, diffID v1.Hash, err error) {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	body := []byte("#!/bin/sh\necho building\n")
	for _, h := range []*tar.Header{
		{Name: "cnb/buildpacks/demo_hello/0.0.1/bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "cnb/buildpacks/demo_hello/0.0.1/bin/build", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return nil, v1.Hash{}, err
		}
	}
	if _, err := tw.Write(body); err != nil {
		return nil, v1.Hash{}, err
	}
	if err := tw.Close(); err != nil {
		return nil, v1.Hash{}, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return nil, v1.Hash{}, err
	}
	if err := zw.Close(); err != nil {
		return nil, v1.Hash{}, err
	}
	return gz.Bytes(), oci.Digest(tarBuf.Bytes()), nil
}
