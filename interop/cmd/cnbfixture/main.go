package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cnbfixture:", err)
		os.Exit(1)
	}
}

// packTime is the time pack gives every file and the config's created.
var packTime = time.Date(1980, 1, 1, 0, 0, 1, 0, time.UTC)

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("cnbfixture", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "OS/ARCH written into the config, as pack's --target")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: cnbfixture [-target OS/ARCH] FILE")
	}
	arch := ""
	if *target != "" {
		os, a, ok := strings.Cut(*target, "/")
		if !ok || os != "linux" || a == "" {
			return fmt.Errorf("parsing target %q: want linux/ARCH", *target)
		}
		arch = a
	}
	b, err := cnb(arch)
	if err != nil {
		return err
	}
	return os.WriteFile(fs.Arg(0), b, 0o644)
}

// cnb is the archive's bytes.
func cnb(arch string) ([]byte, error) {
	layerTar, err := tarOf("", []file{{"cnb/buildpacks/interop_hello/0.0.1/bin/build", []byte("#!/bin/sh\nexit 0\n"), 0o755}})
	if err != nil {
		return nil, fmt.Errorf("writing layer: %w", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(layerTar); err != nil {
		return nil, fmt.Errorf("compressing layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing layer: %w", err)
	}
	layer := gz.Bytes()
	config := fmt.Appendf(nil, `{"architecture":%q,"created":"1980-01-01T00:00:01Z","history":[{"created":"1980-01-01T00:00:01Z"}],"os":"linux",`+
		`"rootfs":{"type":"layers","diff_ids":[%q]},`+
		`"config":{"Labels":{"io.buildpacks.buildpackage.metadata":"{\"id\":\"interop/hello\",\"version\":\"0.0.1\"}"}}}`, arch, digest(layerTar))
	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%d,"digest":%q},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":%d,"digest":%q}]}`,
		len(config), digest(config), len(layer), digest(layer))
	index := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":%d,"digest":%q}]}`,
		len(manifest), digest(manifest))
	files := []file{{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644}, {"index.json", index, 0o644}}
	for _, b := range [][]byte{manifest, config, layer} {
		files = append(files, file{"blobs/sha256/" + strings.TrimPrefix(digest(b), "sha256:"), b, 0o644})
	}
	// pack names the entries of a .cnb from the archive's root.
	return tarOf("/", files)
}

type file struct {
	name string
	body []byte
	mode int64
}

func tarOf(prefix string, files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: prefix + f.name, Size: int64(len(f.body)), Mode: f.mode, ModTime: packTime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digest(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }
