package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// file is one input file of a test: where it is, its mode, its contents
// and its modification time.
type file struct {
	name string
	mode os.FileMode
	data string
	mod  time.Time
}

// writeFiles writes files under dir and returns their paths, in order.
func writeFiles(t *testing.T, dir string, files []file) []string {
	t.Helper()
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
		// Chmod after writing: WriteFile's mode passes through the umask.
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, f.mod, f.mod); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestRunReproducible archives the same contents twice, from files that
// differ in everything else a checkout or a build varies: directory,
// order given, modification time, group and other permission bits.
func TestRunReproducible(t *testing.T) {
	t.Parallel()
	for _, ext := range []string{".tar.gz", ".zip"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			first := writeFiles(t, t.TempDir(), []file{
				{"bin/set-image-platform", 0o700, "binary", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
				{"LICENSE", 0o600, "license", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
				{"README.md", 0o600, "readme", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
			})
			second := writeFiles(t, t.TempDir(), []file{
				{"README.md", 0o664, "readme", time.Date(2031, 6, 7, 8, 9, 10, 0, time.Local)},
				{"other/dir/set-image-platform", 0o775, "binary", time.Date(2031, 6, 7, 8, 9, 10, 0, time.Local)},
				{"LICENSE", 0o644, "license", time.Date(2031, 6, 7, 8, 9, 10, 0, time.Local)},
			})
			out := t.TempDir()
			a, b := filepath.Join(out, "a"+ext), filepath.Join(out, "b"+ext)
			for _, args := range [][]string{append([]string{a}, first...), append([]string{b}, second...)} {
				if err := run(args); err != nil {
					t.Fatalf("run(%q) = %v, want nil", args, err)
				}
			}
			gotA, gotB := readFile(t, a), readFile(t, b)
			if !bytes.Equal(gotA, gotB) {
				t.Errorf("archives of the same contents differ: %d and %d bytes", len(gotA), len(gotB))
			}
		})
	}
}

// header is what an unpacking tool sees of one entry.
type header struct {
	Name    string
	Mode    os.FileMode
	ModTime time.Time
	UID     int
	GID     int
	Owner   string
	Data    string
}

var wantHeaders = []header{
	{Name: "LICENSE", Mode: 0o644, ModTime: modTime, Data: "license"},
	{Name: "README.md", Mode: 0o644, ModTime: modTime, Data: "readme"},
	{Name: "set-image-platform", Mode: 0o755, ModTime: modTime, Data: "binary"},
}

func TestRunContents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ext  string
		read func(*testing.T, []byte) []header
	}{
		{".tar.gz", readTarGz},
		{".zip", readZip},
	}
	for _, tt := range tests {
		t.Run(tt.ext, func(t *testing.T) {
			t.Parallel()
			in := writeFiles(t, t.TempDir(), []file{
				{"set-image-platform", 0o751, "binary", time.Now()},
				{"README.md", 0o640, "readme", time.Now()},
				{"LICENSE", 0o600, "license", time.Now()},
			})
			out := filepath.Join(t.TempDir(), "out"+tt.ext)
			if err := run(append([]string{out}, in...)); err != nil {
				t.Fatalf("run(%q) = %v, want nil", in, err)
			}
			got := tt.read(t, readFile(t, out))
			if diff := cmp.Diff(wantHeaders, got); diff != "" {
				t.Errorf("entries of %s (-want +got):\n%s", out, diff)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := writeFiles(t, dir, []file{
		{"a/LICENSE", 0o644, "one", time.Now()},
		{"b/LICENSE", 0o644, "two", time.Now()},
	})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no files", []string{filepath.Join(dir, "out.zip")}, "usage"},
		{"unknown format", []string{filepath.Join(dir, "out.tar"), paths[0]}, `choosing the format of "` + filepath.Join(dir, "out.tar") + `"`},
		{"missing file", []string{filepath.Join(dir, "out.zip"), filepath.Join(dir, "nope")}, `reading "` + filepath.Join(dir, "nope") + `"`},
		{"directory", []string{filepath.Join(dir, "out.zip"), filepath.Join(dir, "a")}, "not a regular file"},
		{"same base name", []string{filepath.Join(dir, "out.zip"), paths[0], paths[1]}, `adding "LICENSE": two files have that name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTarGz(t *testing.T, b []byte) []header {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, time %v; want neither", gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	var got []header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, header{
			Name: h.Name, Mode: os.FileMode(h.Mode), ModTime: h.ModTime.UTC(),
			UID: h.Uid, GID: h.Gid, Owner: h.Uname + h.Gname, Data: string(data),
		})
	}
}

func readZip(t *testing.T, b []byte) []header {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var got []header
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, header{Name: f.Name, Mode: f.Mode(), ModTime: f.Modified.UTC(), Data: string(data)})
	}
	return got
}
