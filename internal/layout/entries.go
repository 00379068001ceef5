package layout

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
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

// entryName checks a tar entry and returns its name inside the archive:
// the one place entries are judged. Names are the archive's, never the
// file system's: a leading "/" (pack v0.40.3 writes /index.json) is the
// archive's root, "./" is dropped. A name with a ".." element, a NUL or a
// backslash, links, devices, FIFOs and sparse files are refused; dir is
// true for a directory (skipped by callers), ok false for an entry that
// carries nothing (a global PAX header).
func entryName(hdr *tar.Header) (name string, dir, ok bool, err error) {
	refuse := func(reason string) (string, bool, bool, error) {
		return "", false, false, &EntryError{Name: hdr.Name, Reason: reason}
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
	case tar.TypeDir:
		dir = true
	case tar.TypeXGlobalHeader:
		return "", false, false, nil
	case tar.TypeSymlink, tar.TypeLink:
		return refuse("links are refused: an image layout holds only files")
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return refuse("devices and FIFOs are refused: an image layout holds only files")
	case tar.TypeGNUSparse:
		return refuse("sparse files are refused")
	default:
		return refuse(fmt.Sprintf("entry type %q is refused: an image layout holds only files", hdr.Typeflag))
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return refuse("sparse files are refused")
		}
	}
	n := hdr.Name
	switch {
	case n == "":
		return refuse("empty name")
	case strings.ContainsAny(n, "\x00\\"):
		return refuse("a NUL or backslash in the name")
	}
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return refuse(`names that climb out with ".." are refused`)
		}
	}
	n = strings.TrimLeft(path.Clean("/"+n), "/")
	if n == "" || n == "." {
		if dir {
			return "", true, false, nil
		}
		return refuse("a file named as the archive's root")
	}
	return n, dir, true, nil
}

// indexTar reads the headers of the tar in r (seeking over file bytes, so
// a 1 GiB archive costs its headers) and returns its regular files by
// name, in archive order, and where the last entry's padding ends. Duplicates (after the names are normalized, and
// a file where a directory was) are refused: readers disagree on which
// copy wins.
func indexTar(r io.ReadSeeker) (map[string]entry, []string, int64, error) {
	tr := tar.NewReader(r)
	files := map[string]entry{}
	dirs := map[string]bool{}
	var order []string
	var end int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, 0, fmt.Errorf("reading archive: %w", err)
		}
		start := end
		off, err := r.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("reading archive: %w", err)
		}
		end = off + (hdr.Size+511)&^511
		name, dir, ok, err := entryName(hdr)
		if err != nil {
			return nil, nil, 0, err
		}
		if !ok {
			continue
		}
		_, isFile := files[name]
		switch {
		case isFile || (!dir && dirs[name]):
			return nil, nil, 0, &EntryError{Name: hdr.Name, Reason: "duplicate entry: the archive holds this name twice"}
		case dir:
			dirs[name] = true
			continue
		case len(files) == MaxEntries:
			return nil, nil, 0, &EntryError{Name: hdr.Name, Reason: fmt.Sprintf("more than %d files", MaxEntries)}
		}
		files[name] = entry{hdr: hdr, start: start, offset: off, end: end}
		order = append(order, name)
	}
	return files, order, end, nil
}
