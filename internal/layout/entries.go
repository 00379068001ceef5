package layout

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/safetext"
)

// MaxEntries bounds the entries of an archive that is indexed: each costs
// memory, and an image with more blobs than this is not one a run fixes.
const MaxEntries = 1 << 16

// ErrUnsafeEntry is wrapped by the error of every tar entry refused.
var ErrUnsafeEntry = errors.New("refused archive entry")

// EntryError is a tar entry refused: its name as the archive wrote it
// (escaped for printing) and why.
type EntryError struct {
	Name   string
	Reason string
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("archive entry %q: %s", safetext.Line(e.Name), e.Reason)
}

func (e *EntryError) Unwrap() error { return ErrUnsafeEntry }

// entry is a regular file of an archive: where its bytes are.
type entry struct {
	hdr *tar.Header // as read; its Name is the archive's own spelling
	// start is where its headers begin (after the entry before it, of
	// any type), offset where its bytes do, end where its padding ends:
	// a rewrite copies [start, end) of an entry it keeps as it is.
	start, offset, end int64
}

// entryKind is what an entry is to a layout.
type entryKind int

const (
	skipEntry entryKind = iota // carries nothing: a global PAX header, the root directory
	fileEntry
	dirEntry
	linkEntry
)

// judged is a tar entry as the archive names it.
type judged struct {
	name   string // inside the archive
	kind   entryKind
	target string // of a link: the name it stands for, inside the archive
}

// judge checks a tar entry and returns its name inside the archive: the
// one place entries are judged. Names are the archive's, never the file
// system's: a leading "/" (pack v0.40.3 writes /index.json) is the
// archive's root, "./" is dropped. A name with a ".." element, a NUL or a
// backslash, devices, FIFOs and sparse files are refused.
//
// A link is an alias inside the archive, never followed on a file system
// (nothing is extracted): skopeo and podman write a docker-archive's
// legacy <id>/layer.tar as a symbolic link to the layer beside it, and
// docker save links a layer two images share. A link whose target leaves
// the archive is refused all the same.
func judge(hdr *tar.Header) (judged, error) {
	refuse := func(reason string) (judged, error) {
		return judged{}, &EntryError{Name: hdr.Name, Reason: reason}
	}
	kind, reason := kindOf(hdr)
	switch {
	case reason != "":
		return refuse(reason)
	case kind == skipEntry:
		return judged{}, nil
	}
	if reason := nameProblem(hdr.Name); reason != "" {
		return refuse(reason)
	}
	n := strings.TrimLeft(path.Clean("/"+hdr.Name), "/")
	if n == "" || n == "." {
		if kind == dirEntry {
			return judged{}, nil
		}
		return refuse("a file named as the archive's root")
	}
	j := judged{name: n, kind: kind}
	if kind == linkEntry {
		t, ok := linkTarget(hdr, n)
		if !ok {
			return refuse(fmt.Sprintf("a link to %q, outside the archive, is refused", safetext.Line(hdr.Linkname)))
		}
		j.target = t
	}
	return j, nil
}

// kindOf is the kind of entry hdr is, or why it is refused.
func kindOf(hdr *tar.Header) (entryKind, string) {
	var kind entryKind
	switch hdr.Typeflag {
	// '\x00' is the old regular-file type (TypeRegA), which the tar reader
	// already reads as TypeReg; a header made by hand may still carry it.
	case tar.TypeReg, '\x00':
		kind = fileEntry
	case tar.TypeDir:
		kind = dirEntry
	case tar.TypeSymlink, tar.TypeLink:
		kind = linkEntry
	case tar.TypeXGlobalHeader:
		return skipEntry, ""
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return 0, "devices and FIFOs are refused: an image layout holds only files"
	case tar.TypeGNUSparse:
		return 0, "sparse files are refused"
	default:
		return 0, fmt.Sprintf("entry type %q is refused: an image layout holds only files", hdr.Typeflag)
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return 0, "sparse files are refused"
		}
	}
	return kind, ""
}

// nameProblem says why an entry's name is refused, or "".
func nameProblem(n string) string {
	switch {
	case n == "":
		return "empty name"
	case strings.ContainsAny(n, "\x00\\"):
		return "a NUL or backslash in the name"
	case slices.Contains(strings.Split(n, "/"), ".."):
		return `names that climb out with ".." are refused`
	}
	return ""
}

// linkTarget is the name a link entry named n stands for inside the
// archive: a symbolic link is relative to its directory, a hard link to
// the archive's root; "/" is the archive's root for both. ok is false for
// a target outside the archive.
func linkTarget(hdr *tar.Header, n string) (string, bool) {
	if strings.ContainsAny(hdr.Linkname, "\x00\\") {
		return "", false
	}
	base := path.Dir(n)
	if hdr.Typeflag == tar.TypeLink {
		base = "."
	}
	return inside(base, hdr.Linkname)
}

// inside resolves rel against the directory base of the archive, never
// above its root: ok is false for a target that climbs out of it, or is
// the root itself.
func inside(base, rel string) (string, bool) {
	var parts []string
	if base != "." && !strings.HasPrefix(rel, "/") {
		parts = strings.Split(base, "/")
	}
	for _, el := range strings.Split(rel, "/") {
		switch el {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", false
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, el)
		}
	}
	return strings.Join(parts, "/"), len(parts) > 0
}

// indexTar reads the headers of the tar in r (seeking over file bytes, so
// a 1 GiB archive costs its headers) and returns its regular files by
// name, in archive order, and where the last entry's padding ends. Duplicates (after the names are normalized, and
// a file where a directory was) are refused: readers disagree on which
// copy wins.
func indexTar(r io.ReadSeeker) (*tarIndex, error) {
	tr := tar.NewReader(r)
	ix := &tarIndex{files: map[string]entry{}, links: map[string]string{}, dirs: map[string]bool{}}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return ix, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		start := ix.end
		off, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		ix.end = off + (hdr.Size+511)&^511
		j, err := judge(hdr)
		if err != nil {
			return nil, err
		}
		if err := ix.add(j, hdr, start, off); err != nil {
			return nil, err
		}
	}
}

// add records entry j (its header hdr, which starts at start and whose
// body at off) in the index.
func (ix *tarIndex) add(j judged, hdr *tar.Header, start, off int64) error {
	_, isFile := ix.files[j.name]
	_, isLink := ix.links[j.name]
	switch {
	case j.kind == skipEntry:
		return nil
	case isFile || isLink || (j.kind != dirEntry && ix.dirs[j.name]):
		return &EntryError{Name: hdr.Name, Reason: "duplicate entry: the archive holds this name twice"}
	case j.kind == dirEntry:
		ix.dirs[j.name] = true
		return nil
	case len(ix.files)+len(ix.links) == MaxEntries:
		return &EntryError{Name: hdr.Name, Reason: fmt.Sprintf("more than %d files", MaxEntries)}
	case j.kind == linkEntry:
		ix.links[j.name] = j.target
		return nil
	}
	ix.files[j.name] = entry{hdr: hdr, start: start, offset: off, end: ix.end}
	ix.order = append(ix.order, j.name)
	return nil
}

// tarIndex is what indexTar read of an archive.
type tarIndex struct {
	files map[string]entry  // regular files by name
	order []string          // their names in archive order
	links map[string]string // links by name, to the name each stands for
	dirs  map[string]bool   // directories by name, while indexing
	end   int64             // where the last entry's padding ends
}

// prefix is how the archive spells its root in index.json's name, or
// manifest.json's: "", "/" (pack) or "./".
func (ix *tarIndex) prefix() string {
	for _, n := range []string{indexFile, manifestFile} {
		if e, ok := ix.files[n]; ok {
			return strings.TrimSuffix(e.hdr.Name, n)
		}
	}
	return ""
}

// maxLinkDepth bounds the links followed to reach a file, against a loop.
const maxLinkDepth = 8

// lookup returns the file name stands for, following links.
func (ix *tarIndex) lookup(name string) (entry, bool) {
	for range maxLinkDepth {
		if e, ok := ix.files[name]; ok {
			return e, true
		}
		t, ok := ix.links[name]
		if !ok {
			break
		}
		name = t
	}
	return entry{}, false
}
