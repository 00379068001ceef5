// Command gen writes the JSON fixtures under testdata/: image configs,
// manifests and indexes shaped like the real output of pack, buildx and
// docker manifest. Run it from the repository root:
//
//	go run ./testdata/gen
//
// It is deterministic and needs no network. Where a fixture holds the bytes
// a digest points to (a manifest's config, an index's child manifest), the
// digest is the sha256 of those bytes; other digests are sha256 of a fixed
// seed, so they look real but point nowhere. The golden outputs next to the
// fixtures are written by "go test ./internal/patch -update", not by gen.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "testdata", "folder to write the fixtures into")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// The structs below copy the field order and tags of go-containerregistry's
// v1 types, which pack (through imgutil) serializes with json.Marshal.

type ggcrConfigFile struct {
	Architecture string        `json:"architecture"`
	Created      string        `json:"created,omitempty"`
	History      []ggcrHistory `json:"history,omitempty"`
	OS           string        `json:"os"`
	RootFS       rootFS        `json:"rootfs"`
	Config       ggcrConfig    `json:"config"`
	OSVersion    string        `json:"os.version,omitempty"`
	Variant      string        `json:"variant,omitempty"`
}

type ggcrHistory struct {
	Author     string `json:"author,omitempty"`
	Created    string `json:"created,omitempty"`
	CreatedBy  string `json:"created_by,omitempty"`
	Comment    string `json:"comment,omitempty"`
	EmptyLayer bool   `json:"empty_layer,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type ggcrConfig struct {
	Cmd        []string          `json:"Cmd,omitempty"`
	Entrypoint []string          `json:"Entrypoint,omitempty"`
	Env        []string          `json:"Env,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
	User       string            `json:"User,omitempty"`
	WorkingDir string            `json:"WorkingDir,omitempty"`
}

type ggcrDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Size        int64             `json:"size"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *ggcrPlatform     `json:"platform,omitempty"`
}

type ggcrPlatform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	OSVersion    string `json:"os.version,omitempty"`
	Variant      string `json:"variant,omitempty"`
}

type ggcrManifest struct {
	SchemaVersion int              `json:"schemaVersion"`
	MediaType     string           `json:"mediaType,omitempty"`
	Config        ggcrDescriptor   `json:"config"`
	Layers        []ggcrDescriptor `json:"layers"`
}

type ggcrIndex struct {
	SchemaVersion int              `json:"schemaVersion"`
	MediaType     string           `json:"mediaType,omitempty"`
	Manifests     []ggcrDescriptor `json:"manifests"`
}

// The OCI image-spec Go types (used by BuildKit) put digest before size and
// annotations before platform.

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *ggcrPlatform     `json:"platform,omitempty"`
}

type ociManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        ociDescriptor     `json:"config"`
	Layers        []ociDescriptor   `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type ociIndex struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Manifests     []ociDescriptor   `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// BuildKit's image config (dockerspec / image-spec ImageConfig order).
type buildkitImageConfig struct {
	Env        []string          `json:"Env,omitempty"`
	Entrypoint []string          `json:"Entrypoint,omitempty"`
	Cmd        []string          `json:"Cmd,omitempty"`
	WorkingDir string            `json:"WorkingDir,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
}

// The Docker distribution manifest list ("docker manifest create/push").
type distributionDescriptor struct {
	MediaType string               `json:"mediaType"`
	Size      int64                `json:"size"`
	Digest    string               `json:"digest"`
	Platform  distributionPlatform `json:"platform"`
}

type distributionPlatform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	OSVersion    string `json:"os.version,omitempty"`
	Variant      string `json:"variant,omitempty"`
}

type distributionManifestList struct {
	SchemaVersion int                      `json:"schemaVersion"`
	MediaType     string                   `json:"mediaType"`
	Manifests     []distributionDescriptor `json:"manifests"`
}

const (
	dockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerConfig       = "application/vnd.docker.container.image.v1+json"
	dockerLayer        = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	ociManifestType    = "application/vnd.oci.image.manifest.v1+json"
	ociIndexType       = "application/vnd.oci.image.index.v1+json"
	ociConfig          = "application/vnd.oci.image.config.v1+json"
	ociLayer           = "application/vnd.oci.image.layer.v1.tar+gzip"
	inTotoLayer        = "application/vnd.in-toto+json"

	// lifecycle and pack zero timestamps to this for reproducible builds.
	packEpoch = "1980-01-01T00:00:01Z"
)

// fakeDigest is a plausible digest for a blob the fixtures do not hold.
func fakeDigest(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

type writer struct {
	dir string
	err error
}

func (w *writer) write(name string, b []byte) {
	if w.err != nil {
		return
	}
	path := filepath.Join(w.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		w.err = fmt.Errorf("creating folder for %s: %w", name, err)
		return
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		w.err = fmt.Errorf("writing %s: %w", name, err)
	}
}

// compact marshals like json.Marshal (go-containerregistry, pack).
func compact(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed, marshalable values are passed
	}
	return b
}

// indent marshals like json.MarshalIndent with the given indent (BuildKit
// uses two spaces, Docker distribution three).
func indent(v any, ind string) []byte {
	b, err := json.MarshalIndent(v, "", ind)
	if err != nil {
		panic(err)
	}
	return b
}

func run(dir string) error {
	w := &writer{dir: dir}

	bpConfig := packBuildpackPackageConfig()
	w.write("pack-buildpack-package/config.json", bpConfig)
	bpManifest := packManifest(bpConfig, "pack-buildpack-package", []int64{3146211, 18012, 5120338})
	w.write("pack-buildpack-package/manifest.json", bpManifest)

	appConfig := packBuildConfig()
	w.write("pack-build/config.json", appConfig)
	appManifest := packManifest(appConfig, "pack-build", []int64{
		29533422, 1538, 5836102, 70364, 11002, 3178, 21903481, 412, 5233, 902, 1067, 2310459, 3584,
	})
	w.write("pack-build/manifest.json", appManifest)

	bxConfig := buildxConfig()
	w.write("buildx-oci/config.json", bxConfig)
	bxManifest := buildxManifest(bxConfig)
	w.write("buildx-oci/manifest.json", bxManifest)

	var ind bytes.Buffer
	if err := json.Indent(&ind, bxConfig, "", "  "); err != nil {
		return fmt.Errorf("indenting buildx config: %w", err)
	}
	ind.WriteByte('\n')
	w.write("indented/config.json", ind.Bytes())

	w.write("buildx-index/index.json", buildxIndex(bxManifest))
	w.write("manifest-list/index.json", manifestList())
	w.write("crane-index/index.json", craneIndex(appManifest, bpManifest))
	return w.err
}

func packBuildpackPackageConfig() []byte {
	type bpInfo struct {
		API         string              `json:"api"`
		Stacks      []map[string]string `json:"stacks,omitempty"`
		LayerDiffID string              `json:"layerDiffID"`
		Homepage    string              `json:"homepage,omitempty"`
		Name        string              `json:"name,omitempty"`
	}
	diffIDs := []string{
		fakeDigest("pack-buildpack-package diff 0"),
		fakeDigest("pack-buildpack-package diff 1"),
		fakeDigest("pack-buildpack-package diff 2"),
	}
	layers := map[string]map[string]bpInfo{
		"paketo-buildpacks/go-dist": {"2.5.3": {
			API: "0.7", Stacks: []map[string]string{{"id": "*"}}, LayerDiffID: diffIDs[0],
			Homepage: "https://github.com/paketo-buildpacks/go-dist", Name: "Paketo Buildpack for Go Distribution",
		}},
		"paketo-buildpacks/go-build": {"4.1.6": {
			API: "0.7", Stacks: []map[string]string{{"id": "*"}}, LayerDiffID: diffIDs[1],
			// The & comes out as \u0026 from json.Marshal, twice escaped in the label.
			Homepage: "https://github.com/paketo-buildpacks/go-build?tab=readme&lang=en", Name: "Paketo Buildpack for Go Build",
		}},
		"paketo-buildpacks/go": {"4.10.3": {
			API: "0.7", LayerDiffID: diffIDs[2],
			Homepage: "https://github.com/paketo-buildpacks/go", Name: "Paketo Buildpack for Go",
		}},
	}
	meta := map[string]any{
		"id": "paketo-buildpacks/go", "version": "4.10.3",
		"homepage": "https://github.com/paketo-buildpacks/go", "name": "Paketo Buildpack for Go",
		"stacks": []map[string]string{{"id": "*"}},
	}
	cf := ggcrConfigFile{
		Architecture: "",
		Created:      packEpoch,
		History: []ggcrHistory{
			{Created: packEpoch, CreatedBy: "Buildpack: paketo-buildpacks/go-dist@2.5.3"},
			{Created: packEpoch, CreatedBy: "Buildpack: paketo-buildpacks/go-build@4.1.6"},
			{Created: packEpoch, CreatedBy: "Buildpack: paketo-buildpacks/go@4.10.3"},
		},
		OS:     "linux",
		RootFS: rootFS{Type: "layers", DiffIDs: diffIDs},
		Config: ggcrConfig{Labels: map[string]string{
			"io.buildpacks.buildpackage.metadata": string(compact(meta)),
			"io.buildpacks.buildpack.layers":      string(compact(layers)),
		}},
	}
	return compact(cf)
}

func packBuildConfig() []byte {
	const n = 13
	diffIDs := make([]string, n)
	for i := range diffIDs {
		diffIDs[i] = fakeDigest(fmt.Sprintf("pack-build diff %d", i))
	}
	history := []ggcrHistory{
		{Created: "2024-09-16T21:10:58Z", CreatedBy: "/bin/sh -c #(nop) ADD file:7486147a645d8835a5181c79f00a3606c6b714c83bcbfcd8862221eb14690f9e in / "},
		{Created: packEpoch, CreatedBy: "RUN groupadd cnb --gid 1000 \u0026\u0026 useradd --uid 1001 --gid 1000 -m -s /bin/bash cnb # buildkit", Comment: "buildkit.dockerfile.v0"},
		{Created: packEpoch, CreatedBy: "Layer: 'RUN apt-get update \u0026\u0026 apt-get install -y ca-certificates tzdata', Created by extension: paketo-buildpacks/run-image"},
		{Created: packEpoch, CreatedBy: "Layer: 'launch.sbom', Created by buildpack: paketo-buildpacks/go-build@4.1.6"},
		{Created: packEpoch, CreatedBy: "Layer: 'ca-certificates-helper', Created by buildpack: paketo-buildpacks/ca-certificates@3.8.4"},
		{Created: packEpoch, CreatedBy: "Layer: 'helper', Created by buildpack: paketo-buildpacks/environment-variables@4.7.2"},
		{Created: packEpoch, CreatedBy: "Layer: 'targets', Created by buildpack: paketo-buildpacks/go-build@4.1.6"},
		{Created: packEpoch, CreatedBy: "Layer: 'helper', Created by buildpack: paketo-buildpacks/image-labels@4.7.2"},
		{Created: packEpoch, CreatedBy: "Layer: 'process-types'"},
		{Created: packEpoch, CreatedBy: "Application Layer"},
		{Created: packEpoch, CreatedBy: "Software Bill-of-Materials"},
		{Created: packEpoch, CreatedBy: "Buildpacks Launcher Config"},
		{Created: packEpoch, CreatedBy: "Buildpacks Application Launcher"},
	}
	lifecycle := map[string]any{
		"app":           []map[string]string{{"sha": diffIDs[9]}},
		"config":        map[string]string{"sha": diffIDs[11]},
		"launcher":      map[string]string{"sha": diffIDs[12]},
		"process-types": map[string]string{"sha": diffIDs[8]},
		"buildpacks": []map[string]any{
			{"key": "paketo-buildpacks/ca-certificates", "version": "3.8.4", "layers": map[string]any{
				"helper": map[string]any{"sha": diffIDs[4], "data": map[string]any{}, "launch": true},
			}, "homepage": "https://github.com/paketo-buildpacks/ca-certificates"},
			{"key": "paketo-buildpacks/go-build", "version": "4.1.6", "layers": map[string]any{
				"targets": map[string]any{"sha": diffIDs[6], "data": map[string]any{}, "launch": true},
			}, "homepage": "https://github.com/paketo-buildpacks/go-build"},
		},
		"runImage": map[string]any{
			"topLayer":  diffIDs[2],
			"reference": "index.docker.io/paketobuildpacks/run-jammy-tiny@" + fakeDigest("run-jammy-tiny manifest"),
			"image":     "paketobuildpacks/run-jammy-tiny:latest",
			"mirrors":   []string{"gcr.io/paketo-buildpacks/run-jammy-tiny:latest"},
		},
		"stack": map[string]any{"runImage": map[string]any{"image": "paketobuildpacks/run-jammy-tiny:latest"}},
	}
	build := map[string]any{
		"bom": nil,
		"buildpacks": []map[string]string{
			{"id": "paketo-buildpacks/ca-certificates", "version": "3.8.4", "homepage": "https://github.com/paketo-buildpacks/ca-certificates"},
			{"id": "paketo-buildpacks/go-dist", "version": "2.5.3", "homepage": "https://github.com/paketo-buildpacks/go-dist"},
			{"id": "paketo-buildpacks/go-build", "version": "4.1.6", "homepage": "https://github.com/paketo-buildpacks/go-build"},
		},
		"launcher": map[string]any{"version": "0.20.4", "source": map[string]any{"git": map[string]string{
			"repository": "github.com/buildpacks/lifecycle", "commit": "1c5b7bfe",
		}}},
		"processes": []map[string]any{{"type": "web", "command": []string{"/layers/paketo-buildpacks_go-build/targets/bin/hello"}, "args": nil, "direct": true, "buildpackID": "paketo-buildpacks/go-build"}},
	}
	cf := ggcrConfigFile{
		Architecture: "",
		Created:      packEpoch,
		History:      history,
		OS:           "linux",
		RootFS:       rootFS{Type: "layers", DiffIDs: diffIDs},
		Config: ggcrConfig{
			Entrypoint: []string{"/cnb/process/web"},
			Env: []string{
				"PATH=/cnb/process:/cnb/lifecycle:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"CNB_LAYERS_DIR=/layers",
				"CNB_APP_DIR=/workspace",
				"CNB_PLATFORM_API=0.12",
				"CNB_DEPRECATION_MODE=quiet",
			},
			Labels: map[string]string{
				"io.buildpacks.build.metadata":      string(compact(build)),
				"io.buildpacks.lifecycle.metadata":  string(compact(lifecycle)),
				"io.buildpacks.project.metadata":    "{}",
				"io.buildpacks.rebasable":           "true",
				"io.buildpacks.stack.id":            "io.buildpacks.stacks.jammy.tiny",
				"org.opencontainers.image.ref.name": "ubuntu",
				"org.opencontainers.image.version":  "22.04",
			},
			User:       "1001:1000",
			WorkingDir: "/workspace",
		},
	}
	return compact(cf)
}

// packManifest is the Docker v2 schema 2 manifest pack pushes for config.
func packManifest(config []byte, seed string, sizes []int64) []byte {
	m := ggcrManifest{
		SchemaVersion: 2,
		MediaType:     dockerManifest,
		Config:        ggcrDescriptor{MediaType: dockerConfig, Size: int64(len(config)), Digest: digestOf(config)},
	}
	for i, size := range sizes {
		m.Layers = append(m.Layers, ggcrDescriptor{
			MediaType: dockerLayer, Size: size, Digest: fakeDigest(fmt.Sprintf("%s layer %d", seed, i)),
		})
	}
	return compact(m)
}

func buildxConfig() []byte {
	// BuildKit patches the config as a map[string]json.RawMessage, so the
	// top-level keys come out sorted and the nested values keep their
	// struct order.
	diffIDs := []string{fakeDigest("buildx diff 0"), fakeDigest("buildx diff 1"), fakeDigest("buildx diff 2")}
	top := map[string]any{
		"architecture": "arm64",
		"variant":      "v8",
		"os":           "linux",
		"created":      "2025-03-04T10:21:07.412903114Z",
		"config": buildkitImageConfig{
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_ENV=production"},
			Entrypoint: []string{"/usr/local/bin/server"},
			Cmd:        []string{"--listen=:8080"},
			WorkingDir: "/srv",
			Labels: map[string]string{
				"org.opencontainers.image.source":   "https://github.com/example/server",
				"org.opencontainers.image.revision": "4f1c2a7d9e0b3c5a6f8e1d2c3b4a5f6e7d8c9b0a",
			},
		},
		"history": []map[string]any{
			{"created": "2025-02-14T02:03:44Z", "created_by": "/bin/sh -c #(nop) ADD file:f28f4ac2e4b1c8f6a3e1d0e9c7b5a3f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5 in / "},
			{"created": "2025-02-14T02:03:44Z", "created_by": "/bin/sh -c #(nop)  CMD [\"/bin/sh\"]", "empty_layer": true},
			{"created": "2025-03-04T10:21:05.118Z", "created_by": "ENV APP_ENV=production", "comment": "buildkit.dockerfile.v0", "empty_layer": true},
			{"created": "2025-03-04T10:21:05.118Z", "created_by": "WORKDIR /srv", "comment": "buildkit.dockerfile.v0"},
			{"created": "2025-03-04T10:21:07.412903114Z", "created_by": "COPY /out/server /usr/local/bin/server # buildkit", "comment": "buildkit.dockerfile.v0"},
			{"created": "2025-03-04T10:21:07.412903114Z", "created_by": "ENTRYPOINT [\"/usr/local/bin/server\"]", "comment": "buildkit.dockerfile.v0", "empty_layer": true},
		},
		"moby.buildkit.buildinfo.v1": "eyJmcm9udGVuZCI6ImRvY2tlcmZpbGUudjAiLCJzb3VyY2VzIjpbeyJ0eXBlIjoiZG9ja2VyLWltYWdlIiwicmVmIjoiZG9ja2VyLmlvL2xpYnJhcnkvYWxwaW5lOjMuMjEiLCJwaW4iOiJzaGEyNTY6YTgifV19",
		"moby.buildkit.cache.v0":     "W3sibGF5ZXJzIjpbeyJibG9iIjoic2hhMjU2OmUzYjBjNDQyOThmYzFjMTQ5YWZiZjRjODk5NmZiOTI0MjdhZTQxZTQ2NDliOTM0Y2E0OTU5OTFiNzg1MmI4NTUifV19XQ==",
		"rootfs":                     rootFS{Type: "layers", DiffIDs: diffIDs},
	}
	return compact(top)
}

func buildxManifest(config []byte) []byte {
	m := ociManifest{
		SchemaVersion: 2,
		MediaType:     ociManifestType,
		Config:        ociDescriptor{MediaType: ociConfig, Digest: digestOf(config), Size: int64(len(config))},
		Layers: []ociDescriptor{
			{MediaType: ociLayer, Digest: fakeDigest("buildx layer 0"), Size: 3993029},
			{MediaType: ociLayer, Digest: fakeDigest("buildx layer 1"), Size: 93},
			{MediaType: ociLayer, Digest: fakeDigest("buildx layer 2"), Size: 7301822},
		},
		Annotations: map[string]string{
			"org.opencontainers.image.created":     "2025-03-04T10:21:07Z",
			"org.opencontainers.image.description": "Example server <arm64> & friends",
			"org.opencontainers.image.source":      "https://github.com/example/server",
		},
	}
	return indent(m, "  ")
}

// buildxIndex is a two-platform index with provenance attestations. Its
// linux/arm64 child is the buildx-oci manifest.
func buildxIndex(arm64Manifest []byte) []byte {
	amd64 := fakeDigest("buildx amd64 manifest")
	arm64 := digestOf(arm64Manifest)
	idx := ociIndex{
		SchemaVersion: 2,
		MediaType:     ociIndexType,
		Manifests: []ociDescriptor{
			{MediaType: ociManifestType, Digest: amd64, Size: 1047, Platform: &ggcrPlatform{Architecture: "amd64", OS: "linux"}},
			{MediaType: ociManifestType, Digest: arm64, Size: int64(len(arm64Manifest)), Platform: &ggcrPlatform{Architecture: "arm64", OS: "linux", Variant: "v8"}},
			{
				MediaType: ociManifestType, Digest: fakeDigest("buildx amd64 attestation"), Size: 566,
				Annotations: map[string]string{"vnd.docker.reference.digest": amd64, "vnd.docker.reference.type": "attestation-manifest"},
				Platform:    &ggcrPlatform{Architecture: "unknown", OS: "unknown"},
			},
			{
				MediaType: ociManifestType, Digest: fakeDigest("buildx arm64 attestation"), Size: 566,
				Annotations: map[string]string{"vnd.docker.reference.digest": arm64, "vnd.docker.reference.type": "attestation-manifest"},
				Platform:    &ggcrPlatform{Architecture: "unknown", OS: "unknown"},
			},
		},
		Annotations: map[string]string{
			"org.opencontainers.image.created":     "2025-03-04T10:21:07Z",
			"org.opencontainers.image.description": "Example server",
		},
	}
	return indent(idx, "  ")
}

// manifestList is what "docker manifest create" + "push" write: Docker
// distribution marshals it with a three-space indent.
func manifestList() []byte {
	ml := distributionManifestList{
		SchemaVersion: 2,
		MediaType:     dockerManifestList,
		Manifests: []distributionDescriptor{
			{MediaType: dockerManifest, Size: 1570, Digest: fakeDigest("list amd64"), Platform: distributionPlatform{Architecture: "amd64", OS: "linux"}},
			{MediaType: dockerManifest, Size: 1570, Digest: fakeDigest("list arm v7"), Platform: distributionPlatform{Architecture: "arm", OS: "linux", Variant: "v7"}},
			{MediaType: dockerManifest, Size: 1570, Digest: fakeDigest("list arm64"), Platform: distributionPlatform{Architecture: "arm64", OS: "linux", Variant: "v8"}},
			{MediaType: dockerManifest, Size: 2192, Digest: fakeDigest("list windows"), Platform: distributionPlatform{Architecture: "amd64", OS: "windows", OSVersion: "10.0.17763.6659"}},
		},
	}
	return indent(ml, "   ")
}

// craneIndex is an index built with go-containerregistry (crane index
// append / mutate.AppendManifests) from two pack images: the first entry was
// appended without a platform, the second with the platform crane read from
// the config, empty architecture and all.
func craneIndex(appManifest, bpManifest []byte) []byte {
	idx := ggcrIndex{
		SchemaVersion: 2,
		MediaType:     ociIndexType,
		Manifests: []ggcrDescriptor{
			{MediaType: dockerManifest, Size: int64(len(appManifest)), Digest: digestOf(appManifest)},
			{MediaType: dockerManifest, Size: int64(len(bpManifest)), Digest: digestOf(bpManifest), Platform: &ggcrPlatform{Architecture: "", OS: "linux"}},
		},
	}
	return compact(idx)
}
