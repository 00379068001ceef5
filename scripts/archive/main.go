// Command archive writes a release archive whose bytes depend only on the
// contents of the files put in it: entries sorted by name, one fixed
// modification time, no owner names or ids, modes reduced to 0755 or 0644.
// The name of the output says the format: .tar.gz or .zip.
//
//	go run ./scripts/archive OUT.tar.gz FILE...
//
// Each FILE is stored under its base name. Written in Go rather than with
// tar, gzip and zip because their flags for this differ between GNU, BSD
// and macOS, and zip is often not installed.
package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// modTime is every entry's modification time. A constant, not the commit
// time: the release moves its tag to a commit that changes only action.yml,
// and a rebuild from either commit must give the same archive.
var modTime = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "archive:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: archive OUT.tar.gz|OUT.zip FILE [FILE ...]")
	}
	out, files := args[0], args[1:]
	entries, err := readEntries(files)
	if err != nil {
		return err
	}
	var write func(io.Writer, []entry) error
	switch {
	case strings.HasSuffix(out, ".tar.gz"):
		write = writeTarGz
	case strings.HasSuffix(out, ".zip"):
		write = writeZip
	default:
		return fmt.Errorf("choosing the format of %q: want a name ending in .tar.gz or .zip", out)
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("creating %q: %w", out, err)
	}
	err = write(f, entries)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A partial archive must not be published by mistake.
		os.Remove(out)
		return fmt.Errorf("writing %q: %w", out, err)
	}
	return nil
}

// entry is one file of the archive: the name it is stored under, its mode
// and its contents.
type entry struct {
	name string
	mode fs.FileMode
	data []byte
}

// readEntries reads the files, sorted by base name. Two files with the same
// base name would overwrite each other when unpacked, so that is an error.
func readEntries(paths []string) ([]entry, error) {
	entries := make([]entry, 0, len(paths))
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", p, err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("reading %q: not a regular file", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", p, err)
		}
		entries = append(entries, entry{name: filepath.Base(p), mode: normalMode(info.Mode()), data: data})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(entries); i++ {
		if entries[i].name == entries[i-1].name {
			return nil, fmt.Errorf("adding %q: two files have that name", entries[i].name)
		}
	}
	return entries, nil
}

// normalMode keeps only whether the owner may execute the file: the rest of
// a checkout's modes comes from the umask of whoever cloned it.
func normalMode(m fs.FileMode) fs.FileMode {
	if m&0o100 != 0 {
		return 0o755
	}
	return 0o644
}

func writeTarGz(w io.Writer, entries []entry) error {
	// A zero gzip header: no file name, no modification time.
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.name,
			Mode:     int64(e.mode),
			Size:     int64(len(e.data)),
			ModTime:  modTime,
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []entry) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: modTime}
		hdr.SetMode(e.mode)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}
