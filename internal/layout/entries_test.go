package layout

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, link string
		typ        byte
		want       judged
		refusing   string // in the error; "" for none
	}{
		{name: "index.json", typ: tar.TypeReg, want: judged{name: "index.json", kind: fileEntry}},
		// pack v0.40.3: the archive's root, not the machine's.
		{name: "/index.json", typ: tar.TypeReg, want: judged{name: "index.json", kind: fileEntry}},
		{name: "./blobs/sha256/ab", typ: tar.TypeReg, want: judged{name: "blobs/sha256/ab", kind: fileEntry}},
		{name: "//blobs//sha256/./ab", typ: '\x00', want: judged{name: "blobs/sha256/ab", kind: fileEntry}},
		{name: "blobs/", typ: tar.TypeDir, want: judged{name: "blobs", kind: dirEntry}},
		{name: "/", typ: tar.TypeDir, want: judged{kind: skipEntry}},
		{name: "./", typ: tar.TypeDir, want: judged{kind: skipEntry}},
		{name: "g", typ: tar.TypeXGlobalHeader, want: judged{kind: skipEntry}},
		// skopeo's and podman's docker-archive: a legacy name for the
		// layer beside it.
		{name: "abc/layer.tar", link: "../123.tar", typ: tar.TypeSymlink, want: judged{name: "abc/layer.tar", kind: linkEntry, target: "123.tar"}},
		{name: "/abc/layer.tar", link: "/blobs/sha256/1", typ: tar.TypeSymlink, want: judged{name: "abc/layer.tar", kind: linkEntry, target: "blobs/sha256/1"}},
		{name: "b/layer.tar", link: "a/layer.tar", typ: tar.TypeLink, want: judged{name: "b/layer.tar", kind: linkEntry, target: "a/layer.tar"}},
		{name: "abc/layer.tar", link: "../../etc/passwd", typ: tar.TypeSymlink, refusing: "outside the archive"},
		{name: "layer.tar", link: "..", typ: tar.TypeSymlink, refusing: "outside the archive"},
		{name: "layer.tar", link: ".", typ: tar.TypeSymlink, refusing: "outside the archive"},
		{name: "b/layer.tar", link: "../a/layer.tar", typ: tar.TypeLink, refusing: "outside the archive"},
		{name: "../index.json", typ: tar.TypeReg, refusing: "climb out"},
		{name: "blobs/../../etc/passwd", typ: tar.TypeReg, refusing: "climb out"},
		{name: "/..", typ: tar.TypeDir, refusing: "climb out"},
		{name: "a\\..\\b", typ: tar.TypeReg, refusing: "backslash"},
		{name: "a\x00b", typ: tar.TypeReg, refusing: "NUL"},
		{name: "", typ: tar.TypeReg, refusing: "empty"},
		{name: "/", typ: tar.TypeReg, refusing: "root"},
		{name: "dev", typ: tar.TypeChar, refusing: "devices"},
		{name: "dev", typ: tar.TypeBlock, refusing: "devices"},
		{name: "fifo", typ: tar.TypeFifo, refusing: "FIFOs"},
		{name: "sparse", typ: tar.TypeGNUSparse, refusing: "sparse"},
		{name: "odd", typ: 'Z', refusing: "entry type"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+string(rune(tt.typ)), func(t *testing.T) {
			t.Parallel()
			got, err := judge(&tar.Header{Name: tt.name, Linkname: tt.link, Typeflag: tt.typ})
			if tt.refusing != "" {
				if !errors.Is(err, ErrUnsafeEntry) || !strings.Contains(err.Error(), tt.refusing) {
					t.Errorf("judge(%q, %q, %q) = %v, want an error wrapping ErrUnsafeEntry holding %q", tt.name, tt.link, tt.typ, err, tt.refusing)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("judge(%q, %q, %q) = %+v, %v, want %+v, nil", tt.name, tt.link, tt.typ, got, err, tt.want)
			}
		})
	}
}

func TestJudgeSparsePAX(t *testing.T) {
	t.Parallel()
	hdr := &tar.Header{Name: "a", Typeflag: tar.TypeReg, PAXRecords: map[string]string{"GNU.sparse.map": "0,1"}}
	if _, err := judge(hdr); !errors.Is(err, ErrUnsafeEntry) {
		t.Errorf("judge(PAX sparse) = %v, want ErrUnsafeEntry", err)
	}
}

// FuzzJudge: whatever the header, an accepted name, and a link's target,
// are local to the archive's root and clean: nothing climbs out.
func FuzzJudge(f *testing.F) {
	for _, s := range []string{"index.json", "/index.json", "../x", "a/../../b", "./a/./b", "/", "a//b", "..", "..."} {
		f.Add(s, "", byte(tar.TypeReg))
	}
	f.Add("a/layer.tar", "../b.tar", byte(tar.TypeSymlink))
	f.Add("a/layer.tar", "../../b.tar", byte(tar.TypeSymlink))
	f.Add("b", "a/../../x", byte(tar.TypeLink))
	f.Fuzz(func(t *testing.T, name, link string, typ byte) {
		got, err := judge(&tar.Header{Name: name, Linkname: link, Typeflag: typ})
		if err != nil || got.kind == skipEntry {
			return
		}
		names := []string{got.name}
		if got.kind == linkEntry {
			names = append(names, got.target)
		}
		for _, n := range names {
			if !filepath.IsLocal(n) || path.Clean(n) != n {
				t.Errorf("judge(%q, %q, %q) = %+v, want clean local names", name, link, typ, got)
			}
		}
		if strings.Contains("/"+name+"/", "/../") {
			t.Errorf("judge(%q, %q, %q) accepted a name with ..", name, link, typ)
		}
		switch typ {
		case tar.TypeReg, '\x00', tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
		default:
			t.Errorf("judge(%q, %q, %q) accepted type %q", name, link, typ, typ)
		}
	})
}

// FuzzOpenArchive: any bytes are an archive that opens or an error; never
// a panic, never a file written.
func FuzzOpenArchive(f *testing.F) {
	im := newImage("fuzz")
	f.Add(tarBytes(f, "/", ociFiles([]img{im}, []string{"v1"})))
	f.Add(tarBytes(f, "", append(ociFiles([]img{im}, []string{""}), file{name: "/index.json", body: []byte("{}")})))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := openArchive(imageref.OCIArchive, "fuzz.tar", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for name := range l.tar.files {
			if !filepath.IsLocal(name) {
				t.Errorf("openArchive indexed %q, want only local names", name)
			}
		}
		for name, target := range l.tar.links {
			if !filepath.IsLocal(name) || !filepath.IsLocal(target) {
				t.Errorf("openArchive indexed the link %q to %q, want only local names", name, target)
			}
		}
		l.Close()
	})
}

func TestOpenArchiveRefuses(t *testing.T) {
	t.Parallel()
	im := newImage("a")
	base := ociFiles([]img{im}, []string{"v1"})
	tests := []struct {
		name  string
		extra []file
		want  string
	}{
		{"climbs out", []file{{name: "../../evil", body: []byte("x")}}, "climb out"},
		{"symlink out", []file{{name: "blobs/sha256/link", typ: tar.TypeSymlink, link: "../../../etc/passwd"}}, "outside the archive"},
		{"hardlink out", []file{{name: "blobs/sha256/link", typ: tar.TypeLink, link: "../x"}}, "outside the archive"},
		{"link twice", []file{{name: "l", typ: tar.TypeSymlink, link: "index.json"}, {name: "./l", typ: tar.TypeSymlink, link: "oci-layout"}}, "duplicate"},
		{"link over a file", []file{{name: "/index.json", typ: tar.TypeSymlink, link: "oci-layout"}}, "duplicate"},
		{"device", []file{{name: "dev", typ: tar.TypeChar}}, "devices"},
		{"duplicate after normalizing", []file{{name: "/index.json", body: []byte(`{"manifests":[]}`)}}, "duplicate"},
		{"duplicate blob", []file{{name: "./blobs/sha256/" + sha(im.layer).Hex, body: []byte("other")}}, "duplicate"},
		{"file where a directory was", []file{{name: "blobs/x/", typ: tar.TypeDir}, {name: "blobs/x", body: []byte("x")}}, "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeArchive(t, "", append(append([]file{}, base...), tt.extra...))
			before := snapshot(t, filepath.Dir(p))
			ref, _ := imageref.Parse("oci-archive:"+p, "/")
			_, err := Open(ref)
			if !errors.Is(err, ErrUnsafeEntry) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%s) = %v, want an error wrapping ErrUnsafeEntry holding %q", ref, err, tt.want)
			}
			if diff := cmp.Diff(before, snapshot(t, filepath.Dir(p))); diff != "" {
				t.Errorf("Open(%s) changed the directory (-want +got):\n%s", ref, diff)
			}
		})
	}
}

func TestOpenArchiveTooManyEntries(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i <= MaxEntries; i++ {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "f/" + strconv.Itoa(i)})
	}
	tw.Close()
	_, err := openArchive(imageref.OCIArchive, "many.tar", bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if !errors.Is(err, ErrUnsafeEntry) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("openArchive(%d files) = %v, want a refusal naming the bound", MaxEntries+1, err)
	}
}

func TestOpenKinds(t *testing.T) {
	t.Parallel()
	im := newImage("a")
	dir := writeDir(t, ociFiles([]img{im}, []string{"v1"}))
	tarPath := writeArchive(t, "", ociFiles([]img{im}, []string{"v1"}))
	noLayout := writeDir(t, ociFiles([]img{im}, []string{"v1"})[1:])
	dockerOnly := writeArchive(t, "", []file{{name: "manifest.json", body: []byte(`[]`)}})
	tests := []struct {
		line string
		want string
	}{
		{"oci:" + tarPath, "is a file, not a layout directory: name it oci-archive:"},
		{"oci-archive:" + dir, "is a directory, not an archive: name it oci:"},
		{"oci:" + noLayout, "oci-layout"},
		{"oci-archive:" + dockerOnly, "no index.json: not an OCI image layout (it holds manifest.json: name it docker-archive:"},
		{"docker-archive:" + tarPath, "no manifest.json: not a docker save archive (it holds index.json: name it oci-archive:"},
		{"oci:" + filepath.Join(dir, "missing"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			ref, err := imageref.Parse(tt.line, "/")
			if err != nil {
				t.Fatal(err)
			}
			_, err = Open(ref)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "opening ") {
				t.Errorf("Open(%s) = %v, want an error holding %q", tt.line, err, tt.want)
			}
		})
	}
}

func TestOpenRefusesCompressed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		head, want string
	}{
		{"\x1f\x8b\x08\x00", "compressed (gzip): decompress it first, with gunzip"},
		{"\x28\xb5\x2f\xfd\x00", "compressed (zstd)"},
		{"\xfd7zXZ\x00\x00", "compressed (xz)"},
		{"BZh91AY", "compressed (bzip2)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			b := append([]byte(tt.head), make([]byte, 1024)...)
			_, err := openArchive(imageref.OCIArchive, "x.tar", bytes.NewReader(b), int64(len(b)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("openArchive(%q…) = %v, want an error holding %q", tt.head, err, tt.want)
			}
		})
	}
}

func TestOpenHostPathHint(t *testing.T) {
	t.Parallel()
	ref, err := imageref.Parse("oci-archive:/home/runner/work/r/r/missing-for-this-test.cnb", "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ref); !errors.Is(err, ErrHostPath) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(%s) = %v, want ErrHostPath and fs.ErrNotExist", ref, err)
	}
	ref, _ = imageref.Parse("oci-archive:/nonexistent/x.cnb", "/")
	if _, err := Open(ref); errors.Is(err, ErrHostPath) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(%s) = %v, want fs.ErrNotExist without the hint", ref, err)
	}
}
