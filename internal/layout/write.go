package layout

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// PushBlob stores a blob of size bytes, read from body, unless the layout
// has it. It lands only once its size and digest are checked: in a
// directory by renaming a synced temporary file into blobs/sha256, beside
// an archive in the stage Commit takes it from.
func (l *Layout) PushBlob(ctx context.Context, d v1.Hash, size int64, body io.ReadSeeker) error {
	name, err := l.pushName(d)
	if err != nil {
		return err
	}
	if _, err := l.stat(name); err == nil {
		return nil
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("writing blob %s: %w", d, err)
	}
	if err := l.writeFile(name, io.LimitReader(body, size+1), size, &d); err != nil {
		return fmt.Errorf("writing blob %s to %q: %w", d, l.name, err)
	}
	return nil
}

// pushName is where a pushed blob goes.
func (l *Layout) pushName(d v1.Hash) (string, error) {
	if l.kind == imageref.DockerArchive {
		if _, err := blobName(d); err != nil {
			return "", err
		}
		// Only a config is new in a docker-archive: layers cannot
		// change, and manifests are not kept.
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.configName(d), nil
	}
	return blobName(d)
}

// writeFile writes r to the file name through a synced temporary file,
// checking, when want is set, that it is size bytes of digest want.
func (l *Layout) writeFile(name string, r io.Reader, size int64, want *v1.Hash) error {
	f, tmp, err := l.tempFile(name)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && want != nil {
		got := "sha256:" + hex.EncodeToString(h.Sum(nil))
		switch {
		case n != size:
			err = fmt.Errorf("got %d bytes, want %d", n, size)
		case got != want.String():
			err = fmt.Errorf("content has digest %s: %w", got, registry.ErrDigestMismatch)
		}
	}
	if err == nil {
		err = l.install(tmp, name)
	}
	if err != nil {
		l.removeTemp(tmp)
	}
	return err
}

// tempFile creates the temporary file that becomes name: in a directory
// beside name (a rename within one directory is atomic), for an archive
// in its stage beside it. tmp is its name for install.
func (l *Layout) tempFile(name string) (f *os.File, tmp string, err error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	base := ".tmp-" + path.Base(name) + "-" + hex.EncodeToString(rnd[:])
	if l.root != nil {
		if err := l.root.MkdirAll(path.Dir(name), 0o755); err != nil {
			return nil, "", err
		}
		tmp = path.Join(path.Dir(name), base)
		f, err = l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		return f, tmp, err
	}
	l.files.Lock()
	defer l.files.Unlock()
	if l.stage == "" {
		if l.path == "" {
			return nil, "", errors.New("an archive opened from a reader cannot be written")
		}
		if l.stage, err = os.MkdirTemp(l.dirOf(), "."+filepath.Base(l.path)+".stage-"); err != nil {
			return nil, "", err
		}
	}
	f, err = os.OpenFile(filepath.Join(l.stage, base), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, "", err
	}
	return f, f.Name(), nil
}

// install makes the synced temporary file tmp the file name.
func (l *Layout) install(tmp, name string) error {
	if l.root != nil {
		if err := l.root.Rename(tmp, name); err != nil {
			return err
		}
		return l.syncDir(path.Dir(name))
	}
	l.files.Lock()
	defer l.files.Unlock()
	if l.staged == nil {
		l.staged = map[string]string{}
	}
	l.staged[name] = tmp
	return nil
}

func (l *Layout) removeTemp(tmp string) {
	// Best effort: a temporary file left behind is removed with the
	// directory's next rewrite or by hand; the write already failed.
	if l.root != nil {
		_ = l.root.Remove(tmp)
		return
	}
	os.Remove(tmp)
}

// syncDir makes a rename in dir of the layout directory durable.
func (l *Layout) syncDir(dir string) error {
	d, err := l.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// PutManifest stores a manifest (or index) and, unless ref is a digest,
// points ref at it: the index.json entry ref names is re-pointed (digest,
// size and, when it changed, mediaType; every other byte of index.json
// kept), or for a tag the layout does not hold yet, an entry with that
// ref.name is appended; "" is the layout's only image. A directory's
// index.json is replaced at once (synced, renamed); an archive's when
// Commit rewrites it.
func (l *Layout) PutManifest(ctx context.Context, ref string, body []byte, mediaType types.MediaType) error {
	if l.kind == imageref.DockerArchive {
		return l.putDocker(ref, body)
	}
	d := oci.Digest(body)
	size := int64(len(body))
	if err := l.PushBlob(ctx, d, size, bytes.NewReader(body)); err != nil {
		return err
	}
	if want, ok := digestRef(ref); ok {
		if want != d {
			return fmt.Errorf("writing manifest %s to %q: content has digest %s: %w", want, l.name, d, registry.ErrDigestMismatch)
		}
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	es, err := parseIndex(l.index)
	if err != nil {
		return err
	}
	var nf *NotFoundError
	index := l.index
	old := v1.Hash{}
	hits, err := l.find(es, ref)
	switch {
	case err == nil:
		// Every name ref matched names this image: each moves with it.
		old = es[hits[0]].Digest
		for _, i := range hits {
			if index, err = repoint(index, i, es[i], d, size, mediaType); err != nil {
				break
			}
		}
	case errors.As(err, &nf) && ref != "" && !imageref.IsPattern(ref):
		index, err = appendEntry(l.index, len(es), ref, d, size, mediaType)
	}
	if err != nil {
		return fmt.Errorf("pointing %q of %q at %s: %w", ref, l.name, d, err)
	}
	if l.manifest != nil {
		if err := l.keepManifestJSON(ctx, old, body, ref); err != nil {
			return err
		}
	}
	return l.setIndex(index)
}

// repoint points entry i of index at digest d.
func repoint(index []byte, i int, e indexEntry, d v1.Hash, size int64, mt types.MediaType) ([]byte, error) {
	out, err := patch.SetDescriptor(index, patch.Path{"manifests", i}, d.String(), size)
	if err != nil || mt == "" || mt == e.MediaType {
		return out, err
	}
	v, _ := json.Marshal(mt)
	return patch.Apply(out, patch.Edit{Path: patch.Path{"manifests", i, "mediaType"}, Value: v})
}

// appendEntry adds a descriptor named ref last in index's manifests.
func appendEntry(index []byte, n int, ref string, d v1.Hash, size int64, mt types.MediaType) ([]byte, error) {
	desc, err := json.Marshal(struct {
		MediaType   types.MediaType   `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations"`
	}{mt, d.String(), size, map[string]string{RefNameAnnotation: ref}})
	if err != nil {
		return nil, err
	}
	if _, ok, _ := patch.Get(index, patch.Path{"manifests"}); !ok {
		return patch.Apply(index, patch.Edit{Path: patch.Path{"manifests"}, Value: append(append([]byte("["), desc...), ']')})
	}
	return patch.Apply(index, patch.Edit{Path: patch.Path{"manifests", n}, Value: desc})
}

// setIndex makes index the layout's index.json. The caller holds mu.
func (l *Layout) setIndex(index []byte) error {
	if bytes.Equal(index, l.index) {
		return nil
	}
	if l.root != nil {
		if err := l.writeFile(indexFile, bytes.NewReader(index), int64(len(index)), nil); err != nil {
			return fmt.Errorf("writing %s of %q: %w", indexFile, l.name, err)
		}
	}
	l.index, l.dirty = index, true
	return nil
}

// Commit writes what only an archive defers: when index.json or
// manifest.json changed, the archive is rewritten once beside itself
// (every entry in its order with its name and header, the two files
// replaced, new blobs appended) and renamed over the original. A directory
// has nothing to commit: each write landed as it was made.
func (l *Layout) Commit(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.root != nil || !l.dirty {
		return nil
	}
	if err := l.rewrite(ctx); err != nil {
		return fmt.Errorf("rewriting %q: %w", l.name, err)
	}
	return nil
}

// rewrite writes the archive as it now is beside itself, then renames it
// over the original and reads it again. The caller holds mu.
func (l *Layout) rewrite(ctx context.Context) (err error) {
	l.files.Lock()
	staged := l.staged
	l.files.Unlock()
	mode, err := l.archiveMode()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(l.dirOf(), "."+filepath.Base(l.path)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	tw := tar.NewWriter(tmp)
	template := &tar.Header{Mode: 0o644, Format: tar.FormatPAX}
	if err := l.writeNewFiles(tw, template); err != nil {
		return err
	}
	if template, err = l.copyKept(ctx, tmp, template); err != nil {
		return err
	}
	if err := l.appendStaged(tw, staged, template); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return l.replaceWith(tmp, mode)
}

// archiveMode is the permission bits the archive has, which its rewrite
// keeps; a new archive (Create) gets 0644.
func (l *Layout) archiveMode() (os.FileMode, error) {
	fi, err := os.Stat(l.path)
	switch {
	case err == nil:
		return fi.Mode().Perm(), nil
	case l.file != nil:
		return 0, err
	}
	return 0o644, nil
}

// writeNewFiles writes the oci-layout and index.json of a new archive
// (Create), which has none to copy: they go first, as every writer of
// layouts puts them.
func (l *Layout) writeNewFiles(tw *tar.Writer, template *tar.Header) error {
	for _, f := range []struct {
		name string
		body []byte
	}{{layoutFile, []byte(newLayoutFile)}, {indexFile, l.index}} {
		if _, ok := l.tar.files[f.name]; ok || l.file != nil || l.index == nil {
			continue
		}
		hdr := *template
		hdr.Typeflag, hdr.Name, hdr.Size = tar.TypeReg, l.prefix+f.name, int64(len(f.body))
		if err := copyEntry(tw, &hdr, bytes.NewReader(f.body)); err != nil {
			return err
		}
	}
	return nil
}

// replacement is the new body of an entry the rewrite replaces, or nil
// for an entry kept as it is: only index.json and manifest.json change.
func (l *Layout) replacement(name string) []byte {
	switch {
	case name == indexFile && l.index != nil:
		return l.index
	case name == manifestFile && l.manifest != nil:
		return l.manifest
	}
	return nil
}

// copyKept copies the archive's entries to tmp in their order. Entries
// kept as they are are copied as raw bytes, headers and all (the kernel
// copies them where it can, as cp does); only index.json and
// manifest.json get new headers and bodies. It returns the header of the
// last entry replaced (else template), which added entries are made like.
func (l *Layout) copyKept(ctx context.Context, tmp *os.File, template *tar.Header) (*tar.Header, error) {
	var pos int64
	for _, name := range l.tar.order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := l.tar.files[name]
		body := l.replacement(name)
		if body == nil {
			continue
		}
		if err := l.copyRaw(tmp, pos, e.start); err != nil {
			return nil, fmt.Errorf("copying the entries before %q: %w", e.hdr.Name, err)
		}
		template = e.hdr
		b, err := alignedEntry(e, body)
		if err == nil {
			_, err = tmp.Write(b)
		}
		if err != nil {
			return nil, fmt.Errorf("writing %q: %w", e.hdr.Name, err)
		}
		pos = e.end
	}
	if err := l.copyRaw(tmp, pos, l.tar.end); err != nil {
		return nil, fmt.Errorf("copying entries: %w", err)
	}
	return template, nil
}

// appendStaged adds the staged blobs the archive does not hold yet, sorted
// so that the same writes make the same archive, with headers made like
// template.
func (l *Layout) appendStaged(tw *tar.Writer, staged map[string]string, template *tar.Header) error {
	var added []string
	for name := range staged {
		if _, ok := l.tar.files[name]; !ok {
			added = append(added, name)
		}
	}
	slices.Sort(added)
	for _, name := range added {
		if err := addFile(tw, staged[name], l.prefix+name, template); err != nil {
			return fmt.Errorf("adding %q: %w", name, err)
		}
	}
	return nil
}

// addFile writes the file at path as the entry name, its header made like
// template.
func addFile(tw *tar.Writer, path, name string, template *tar.Header) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := tar.Header{Typeflag: tar.TypeReg, Name: name, Size: st.Size(), Mode: 0o644,
		ModTime: template.ModTime, Uid: template.Uid, Gid: template.Gid, Uname: template.Uname, Gname: template.Gname, Format: template.Format}
	return copyEntry(tw, &hdr, f)
}

// replaceWith makes tmp, written whole, the archive: mode kept, synced,
// renamed over the original, and read again. A kill at any moment leaves
// the old archive or the new one.
func (l *Layout) replaceWith(tmp *os.File, mode os.FileMode) error {
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		return err
	}
	// The rename is durable once the directory is synced; a directory that
	// cannot be synced leaves it to the file system, as cp and mv do.
	if d, err := os.Open(l.dirOf()); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return l.reopen()
}

// copyRaw copies bytes [from, to) of the archive to the new archive tmp:
// from the file through its offset (so that the copy is the kernel's,
// copy_file_range), or from the reader it was opened from.
func (l *Layout) copyRaw(tmp *os.File, from, to int64) error {
	if to <= from {
		return nil
	}
	if l.file == nil {
		n, err := io.Copy(tmp, io.NewSectionReader(l.ra, from, to-from))
		return copied(n, to-from, err)
	}
	if _, err := l.file.Seek(from, io.SeekStart); err != nil {
		return err
	}
	start, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	// In pieces, each handed to the disk once copied (startWriteback):
	// the disk writes one while the kernel copies the next, and the
	// fsync before the rename finds little left to write.
	for done := int64(0); done < to-from; {
		n, err := io.Copy(tmp, io.LimitReader(l.file, min(writebackChunk, to-from-done)))
		if err = copied(n, min(writebackChunk, to-from-done), err); err != nil {
			return err
		}
		startWriteback(tmp, start+done, n)
		done += n
	}
	return nil
}

// writebackChunk is how much of the copy goes to the disk at a time.
const writebackChunk = 32 << 20

// copied is err, or an error when n bytes of want were copied.
func copied(n, want int64, err error) error {
	if err == nil && n != want {
		err = fmt.Errorf("copied %d bytes of %d: %w", n, want, io.ErrUnexpectedEOF)
	}
	return err
}

// pageSize is the alignment the kernel copies files at fastest.
const pageSize = 4096

// alignedEntry is entry e with body instead of its own, headers and
// padding: when the new entry's length differs from the old one's by other
// than whole pages, a PAX comment record (which every reader skips) pads
// its header, so that the entries copied after it keep their alignment
// within a page. A copy at the same alignment is the kernel's page-wise
// copy; at another, about three times as slow.
func alignedEntry(e entry, body []byte) ([]byte, error) {
	want := (e.end - e.start) % pageSize
	var plain []byte
	// A PAX header adds a block, and its records as many more as they
	// fill: the pads below reach every multiple of 512 within a page.
	for pad := -1; pad <= 2*pageSize; pad += 512 {
		hdr := *e.hdr
		hdr.Size = int64(len(body))
		if pad >= 0 {
			hdr.Format = tar.FormatPAX
			hdr.PAXRecords = maps.Clone(hdr.PAXRecords)
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords["comment"] = strings.Repeat(" ", pad+1)
		}
		var buf bytes.Buffer
		if err := copyEntry(tar.NewWriter(&buf), &hdr, bytes.NewReader(body)); err != nil {
			if pad < 0 {
				return nil, err
			}
			break
		}
		if pad < 0 {
			plain = buf.Bytes()
		}
		if int64(buf.Len())%pageSize == want {
			return buf.Bytes(), nil
		}
	}
	return plain, nil
}

// copyEntry writes an entry, padding and all: raw bytes may follow.
func copyEntry(tw *tar.Writer, hdr *tar.Header, body io.Reader) error {
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, body); err != nil {
		return err
	}
	return tw.Flush()
}

// reopen reads the renamed archive again and drops the stage: the layout
// is the new file from now on. The caller holds mu.
func (l *Layout) reopen() error {
	f, err := os.Open(l.path)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	n, err := openArchive(l.kind, l.name, f, fi.Size())
	if err != nil {
		f.Close()
		return err
	}
	l.files.Lock()
	defer l.files.Unlock()
	if l.stage != "" {
		os.RemoveAll(l.stage)
	}
	if l.file != nil {
		l.file.Close()
	}
	l.file, l.ra, l.tar, l.prefix = f, f, n.tar, n.prefix
	l.index, l.manifest, l.docker, l.dirty = n.index, n.manifest, n.docker, false
	l.stage, l.staged = "", nil
	return nil
}

// The files of a new layout.
const (
	newLayoutFile = `{"imageLayoutVersion":"1.0.0"}`
	newIndexFile  = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`
)

// Create opens the layout or archive ref names for writing, as a tag
// naming another place does (a registry image saved fixed into oci:out:1.0),
// starting an empty one when nothing is there yet: a directory gets its
// oci-layout and index.json at once, an archive is written by Commit, so
// that a run that fails leaves no file. A docker-archive cannot be
// started: docker save's format names images by their repository.
func Create(ref imageref.Reference) (*Layout, error) {
	_, err := os.Stat(ref.Path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return Open(ref)
	}
	where := string(ref.Transport) + ":" + ref.GivenPath
	switch ref.Transport {
	case imageref.OCI:
		if err := os.MkdirAll(ref.Path, 0o755); err != nil {
			return nil, fmt.Errorf("creating %q: %w", where, err)
		}
		root, err := os.OpenRoot(ref.Path)
		if err != nil {
			return nil, fmt.Errorf("creating %q: %w", where, err)
		}
		l := &Layout{kind: imageref.OCI, name: ref.GivenPath, root: root}
		for _, f := range []struct{ name, body string }{{layoutFile, newLayoutFile}, {indexFile, newIndexFile}} {
			if err := l.writeFile(f.name, strings.NewReader(f.body), int64(len(f.body)), nil); err != nil {
				root.Close()
				return nil, fmt.Errorf("creating %q: %w", where, err)
			}
		}
		l.index = []byte(newIndexFile)
		return l, nil
	case imageref.OCIArchive:
		return &Layout{kind: imageref.OCIArchive, name: ref.GivenPath, path: ref.Path, ra: bytes.NewReader(nil), tar: &tarIndex{files: map[string]entry{}, links: map[string]string{}}, index: []byte(newIndexFile)}, nil
	}
	return nil, fmt.Errorf("creating %q: a %s cannot be started, only written to", where, ref.Transport)
}
