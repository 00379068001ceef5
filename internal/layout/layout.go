package layout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/imageref"
	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/registry"
	"github.com/set-image-platform/set-image-platform/internal/store"
)

// The files of a layout, by their names inside it.
const (
	indexFile    = "index.json"
	layoutFile   = "oci-layout"
	manifestFile = "manifest.json" // docker save's
)

// RefNameAnnotation names an index.json entry (OCI image layout spec).
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Layout is one OCI image layout directory or archive, or one docker save
// archive, as a place that holds one repository's manifests and blobs. Its
// methods are safe for concurrent use; writes to index.json are serialized
// by one lock.
type Layout struct {
	kind imageref.Transport
	name string // the path as given, for messages

	root *os.Root // oci: the directory

	// Archives.
	path   string      // the archive, absolute
	file   *os.File    // nil when opened from a reader (tests)
	ra     io.ReaderAt // the archive's bytes
	tar    *tarIndex   // what indexTar read of it
	prefix string      // how the archive spells its root: "", "/" or "./"

	// mu is the one lock of tag writes: it guards the state of index.json
	// and manifest.json, so that concurrent tag writes each edit the
	// result of the one before.
	mu       sync.Mutex
	index    []byte        // index.json as it now is; nil in a docker-archive
	manifest []byte        // docker save's manifest.json as it now is; nil when absent
	dirty    bool          // index.json or manifest.json changed since opened
	docker   []dockerImage // docker-archive: the images manifest.json lists

	// files guards what is staged beside an archive; taken inside mu,
	// never around it.
	files  sync.Mutex
	staged map[string]string // new files by name, the temporary file holding each
	stage  string            // the temporary directory beside the archive
}

// Open opens the layout or archive ref names (ref.Transport oci:,
// oci-archive: or docker-archive:), reading its index.json or
// manifest.json. Nothing is written until a Push or Put.
func Open(ref imageref.Reference) (*Layout, error) {
	l, err := open(ref)
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", string(ref.Transport)+":"+ref.GivenPath, err)
	}
	return l, nil
}

// runnerHostPath starts the paths of a GitHub-hosted runner's host, which
// the action's container does not see: the runner maps its workspace into
// the container, and rewrites only values that start with it.
const runnerHostPath = "/home/runner/"

// ErrHostPath is wrapped by the error of a missing path under
// runnerHostPath.
var ErrHostPath = errors.New("a path on the runner's host is not seen inside the action's container: use a path relative to the workspace")

func open(ref imageref.Reference) (*Layout, error) {
	fi, err := os.Stat(ref.Path)
	if errors.Is(err, fs.ErrNotExist) && strings.HasPrefix(ref.GivenPath, runnerHostPath) {
		return nil, fmt.Errorf("%w: %w", err, ErrHostPath)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case ref.Transport == imageref.OCI && !fi.IsDir():
		return nil, fmt.Errorf("%q is a file, not a layout directory: name it oci-archive:%s", ref.GivenPath, ref.GivenPath)
	case ref.Transport == imageref.OCI:
		return openDir(ref)
	case !ref.Transport.Archive():
		return nil, fmt.Errorf("%s: is not a layout or archive", ref.Transport)
	case fi.IsDir():
		return nil, fmt.Errorf("%q is a directory, not an archive: name it oci:%s", ref.GivenPath, ref.GivenPath)
	}
	f, err := os.Open(ref.Path)
	if err != nil {
		return nil, err
	}
	l, err := openArchive(ref.Transport, ref.GivenPath, f, fi.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	l.path, l.file = ref.Path, f
	return l, nil
}

func openDir(ref imageref.Reference) (*Layout, error) {
	root, err := os.OpenRoot(ref.Path)
	if err != nil {
		return nil, err
	}
	l := &Layout{kind: imageref.OCI, name: ref.GivenPath, root: root}
	if err := l.load(); err != nil {
		root.Close()
		return nil, err
	}
	return l, nil
}

// openArchive indexes the archive in ra, of size bytes.
func openArchive(kind imageref.Transport, name string, ra io.ReaderAt, size int64) (*Layout, error) {
	if err := checkCompressed(ra); err != nil {
		return nil, err
	}
	ix, err := indexTar(io.NewSectionReader(ra, 0, size))
	if err != nil {
		return nil, err
	}
	l := &Layout{kind: kind, name: name, ra: ra, tar: ix}
	if err := l.load(); err != nil {
		return nil, err
	}
	return l, nil
}

// compressed are the magic numbers of what docker save and podman save
// are piped through: a tar inside is not read here.
var compressed = []struct {
	magic, name, tool string
}{
	{"\x1f\x8b", "gzip", "gunzip"},
	{"\x28\xb5\x2f\xfd", "zstd", "unzstd"},
	{"\xfd7zXZ\x00", "xz", "unxz"},
	{"BZh", "bzip2", "bunzip2"},
}

// checkCompressed refuses a compressed archive with what to run.
func checkCompressed(ra io.ReaderAt) error {
	var head [6]byte
	n, _ := ra.ReadAt(head[:], 0)
	for _, c := range compressed {
		if strings.HasPrefix(string(head[:n]), c.magic) {
			return fmt.Errorf("the archive is compressed (%s): decompress it first, with %s", c.name, c.tool)
		}
	}
	return nil
}

// load reads index.json, oci-layout and manifest.json as the kind needs.
func (l *Layout) load() error {
	var err error
	if l.manifest, err = l.readSmall(manifestFile); err != nil && !isNotFound(err) {
		return err
	}
	if l.index, err = l.readSmall(indexFile); err != nil && !isNotFound(err) {
		return err
	}
	if l.index != nil {
		if err := l.checkLayoutFile(); err != nil {
			return err
		}
		if _, err := parseIndex(l.index); err != nil {
			return err
		}
	}
	if l.tar != nil {
		l.prefix = l.tar.prefix()
	}
	switch {
	case l.kind == imageref.DockerArchive && l.manifest == nil:
		return fmt.Errorf("no manifest.json: not a docker save archive%s", l.hint(indexFile, imageref.OCIArchive))
	case l.kind == imageref.DockerArchive:
		l.docker, err = l.readDocker()
		return err
	case l.index == nil:
		return fmt.Errorf("no index.json: not an OCI image layout%s", l.hint(manifestFile, imageref.DockerArchive))
	}
	return nil
}

// hint names the transport that fits when the layout holds file.
func (l *Layout) hint(file string, t imageref.Transport) string {
	if _, err := l.stat(file); err != nil {
		return ""
	}
	return fmt.Sprintf(" (it holds %s: name it %s:%s)", file, t, l.name)
}

// checkLayoutFile reads oci-layout when present; a layout directory must
// have it (skopeo and go-containerregistry refuse one without).
func (l *Layout) checkLayoutFile() error {
	b, err := l.readSmall(layoutFile)
	switch {
	case isNotFound(err) && l.root == nil:
		return nil
	case err != nil:
		return err
	}
	var v struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Version == "" {
		return fmt.Errorf("reading %s: no imageLayoutVersion", layoutFile)
	}
	return nil
}

// Name returns the layout's path as given: what messages name.
func (l *Layout) Name() string { return l.name }

// Kind returns the layout's transport.
func (l *Layout) Kind() imageref.Transport { return l.kind }

// NotFoundError is a REF, digest or file the layout does not hold. Names
// are the names it holds, for the message.
type NotFoundError struct {
	Layout string
	What   string
	Names  []string
}

func (e *NotFoundError) Error() string {
	s := fmt.Sprintf("%s not found in %q", e.What, e.Layout)
	if len(e.Names) > 0 {
		s += ": it holds " + quoteList(e.Names)
	}
	return s
}

// NotFound reports true: callers branch on it as on the registry's errors.
func (e *NotFoundError) NotFound() bool { return true }

// AmbiguousError is a REF (or none) that names more than one image.
type AmbiguousError struct {
	Layout string
	Ref    string
	Names  []string
}

func (e *AmbiguousError) Error() string {
	if e.Ref == "" {
		return fmt.Sprintf("%q holds %d images (%s): name one, as in PATH:REF", e.Layout, len(e.Names), quoteList(e.Names))
	}
	return fmt.Sprintf("%q names %d images in %q (%s): name one in full", e.Ref, len(e.Names), e.Layout, quoteList(e.Names))
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func isNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// hexRE is a sha256 digest's hex: a blob's name is built from it, so
// nothing else may reach a path.
var hexRE = regexp.MustCompile(`^[a-f0-9]{64}$`)

func blobName(d v1.Hash) (string, error) {
	if d.Algorithm != "sha256" || !hexRE.MatchString(d.Hex) {
		return "", fmt.Errorf("digest %q: want sha256 and 64 lowercase hex digits", d)
	}
	return "blobs/sha256/" + d.Hex, nil
}

// stat returns the size of the file name as the layout now holds it.
func (l *Layout) stat(name string) (int64, error) {
	rc, size, err := l.openFile(name)
	if err != nil {
		return 0, err
	}
	rc.Close()
	return size, nil
}

// openFile opens the file name (inside the layout) as it now is: staged,
// in the archive, or in the directory.
func (l *Layout) openFile(name string) (io.ReadCloser, int64, error) {
	l.files.Lock()
	tmp, staged := l.staged[name]
	l.files.Unlock()
	switch {
	case staged:
		f, err := os.Open(tmp)
		if err != nil {
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, fi.Size(), nil
	case l.root != nil:
		f, err := l.root.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, &NotFoundError{Layout: l.name, What: "file " + name}
		}
		if err != nil {
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s is not a regular file", name)
		}
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, fi.Size(), nil
	}
	e, ok := l.tar.lookup(name)
	if !ok {
		return nil, 0, &NotFoundError{Layout: l.name, What: "file " + name}
	}
	return io.NopCloser(io.NewSectionReader(l.ra, e.offset, e.hdr.Size)), e.hdr.Size, nil
}

// readFile reads the file name, refusing more than limit bytes (as the
// registry reads are bounded).
func (l *Layout) readFile(name string, limit int64, what string) ([]byte, error) {
	rc, size, err := l.openFile(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > limit {
		return nil, &registry.TooLargeError{What: what, Limit: limit}
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, &registry.TooLargeError{What: what, Limit: limit}
	}
	return b, nil
}

func (l *Layout) readSmall(name string) ([]byte, error) {
	return l.readFile(name, registry.MaxManifestSize, name)
}

// indexEntry is one descriptor of index.json (or, in a docker-archive, one
// image manifest.json lists, under one of its names).
type indexEntry struct {
	MediaType   types.MediaType   `json:"mediaType"`
	Digest      v1.Hash           `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
}

func (e indexEntry) refName() string { return e.Annotations[RefNameAnnotation] }

// parseIndex reads index.json's entries. It is checked as the patch
// package checks what it edits (one object, no duplicate keys), so that
// what is read here is what a later edit sees.
func parseIndex(b []byte) ([]indexEntry, error) {
	if err := patch.Validate(b); err != nil {
		return nil, fmt.Errorf("reading %s: %w", indexFile, err)
	}
	var idx struct {
		Manifests []indexEntry `json:"manifests"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("reading %s: %w", indexFile, err)
	}
	return idx.Manifests, nil
}

// list returns the named images the layout holds now. The caller holds mu.
func (l *Layout) list() ([]indexEntry, error) {
	if l.kind == imageref.DockerArchive {
		var out []indexEntry
		for _, im := range l.docker {
			out = append(out, im.entries()...)
		}
		return out, nil
	}
	return parseIndex(l.index)
}

// names are what a message lists for entries: each ref.name, or the
// digest of an entry without one.
func names(es []indexEntry) []string {
	var out []string
	for _, e := range es {
		n := e.refName()
		if n == "" {
			n = e.Digest.String()
		}
		out = append(out, n)
	}
	return out
}

// find returns the positions in es of the entries ref names (see SPEC: a
// ref.name exactly, else those ending in :REF or @REF-digest; a digest;
// no REF when the layout holds one image). Names that all point at one
// manifest are one image under several names, not a choice to make.
func (l *Layout) find(es []indexEntry, ref string) ([]int, error) {
	hits := matchRef(es, ref)
	switch {
	case len(hits) == 0 && ref == "":
		return nil, &NotFoundError{Layout: l.name, What: "an image"}
	case len(hits) == 0:
		return nil, &NotFoundError{Layout: l.name, What: fmt.Sprintf("%q", ref), Names: names(es)}
	}
	for _, i := range hits[1:] {
		if es[i].Digest != es[hits[0]].Digest {
			var hn []string
			for _, i := range hits {
				hn = append(hn, names(es[i:i+1])...)
			}
			return nil, &AmbiguousError{Layout: l.name, Ref: ref, Names: hn}
		}
	}
	return hits, nil
}

// matchRef returns the positions of the entries ref names: every entry
// without a REF, else those of the first way of naming that names any.
func matchRef(es []indexEntry, ref string) []int {
	if ref == "" {
		return allOf(len(es))
	}
	for _, named := range refMatchers(ref) {
		var hits []int
		for i, e := range es {
			if named(e) {
				hits = append(hits, i)
			}
		}
		if len(hits) > 0 {
			return hits
		}
	}
	return nil
}

// refMatchers are the ways a REF names an entry, most exact first: its
// ref.name; a digest (the entry's, or a name ending in @digest), or a tag
// a full name ends in (:REF); and a full name as a person writes it
// (app:1) for one as tools write it (docker.io/library/app:1).
func refMatchers(ref string) []func(indexEntry) bool {
	d, isDigest := digestRef(ref)
	ms := []func(indexEntry) bool{
		func(e indexEntry) bool { return e.refName() == ref },
		func(e indexEntry) bool {
			n := e.refName()
			if isDigest {
				return e.Digest == d || strings.HasSuffix(n, "@"+d.String())
			}
			return strings.HasSuffix(n, ":"+ref) && !strings.Contains(ref, "/")
		},
	}
	if want := normalName(ref); strings.Contains(ref, ":") && want != "" {
		ms = append(ms, func(e indexEntry) bool { return normalName(e.refName()) == want })
	}
	return ms
}

// normalName is a tagged reference in full, "" for anything else.
func normalName(s string) string {
	t, err := name.NewTag(s)
	if err != nil {
		return ""
	}
	return t.Name()
}

func allOf(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// digestRef reads a REF that is a digest: sha256:… or @sha256:….
func digestRef(ref string) (v1.Hash, bool) {
	if !strings.HasPrefix(ref, "sha256:") && !strings.HasPrefix(ref, "@sha256:") {
		return v1.Hash{}, false
	}
	d, err := v1.NewHash(strings.TrimPrefix(ref, "@"))
	return d, err == nil
}

// resolve returns the descriptor ref names: an entry, or for a digest not
// listed, the manifest blob of that digest (a child of an index, a
// referrer).
func (l *Layout) resolve(ref string) (indexEntry, error) {
	l.mu.Lock()
	es, err := l.list()
	l.mu.Unlock()
	if err != nil {
		return indexEntry{}, err
	}
	hits, err := l.find(es, ref)
	if err == nil {
		return es[hits[0]], nil
	}
	d, isDigest := digestRef(ref)
	if !isDigest || l.kind == imageref.DockerArchive {
		return indexEntry{}, err
	}
	name, berr := blobName(d)
	if berr != nil {
		return indexEntry{}, berr
	}
	size, serr := l.stat(name)
	if serr != nil {
		return indexEntry{}, &NotFoundError{Layout: l.name, What: "manifest " + d.String()}
	}
	return indexEntry{Digest: d, Size: size}, nil
}

// GetManifest reads the manifest ref names (a REF as SPEC matches it, a
// digest, or "" for the only image) and checks its digest.
func (l *Layout) GetManifest(ctx context.Context, ref string) (*registry.Manifest, error) {
	e, err := l.resolve(ref)
	if err != nil {
		return nil, err
	}
	if l.kind == imageref.DockerArchive {
		return l.dockerManifest(e.Digest)
	}
	body, err := l.GetBlob(ctx, e.Digest, registry.MaxManifestSize, "manifest")
	if err != nil {
		return nil, err
	}
	mt := e.MediaType
	if mt == "" {
		mt = oci.Declared(body)
	}
	if mt == "" {
		return nil, fmt.Errorf("reading manifest %s of %q: no media type in %s or in the manifest", e.Digest, l.name, indexFile)
	}
	return &registry.Manifest{MediaType: mt, Bytes: body, Digest: e.Digest}, nil
}

// HeadManifest returns the digest ref names now.
func (l *Layout) HeadManifest(ctx context.Context, ref string, mediaType types.MediaType) (v1.Hash, error) {
	e, err := l.resolve(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	return e.Digest, nil
}

// tagRE is a tag's grammar in the distribution spec.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Tags lists the tags the layout holds, in index.json's order, once each:
// a ref.name that is a tag, and the tag of a full name (docker.io/library/
// app:1.0 gives 1.0), which is what a tag pattern is matched against.
func (l *Layout) Tags(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	es, err := l.list()
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var tags []string
	seen := map[string]bool{}
	for _, e := range es {
		t := tagOf(e.refName())
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	return tags, nil
}

// tagOf is the tag a ref.name carries, "" for none.
func tagOf(n string) string {
	if tagRE.MatchString(n) {
		return n
	}
	if strings.Contains(n, "@") {
		return ""
	}
	if i := strings.LastIndexByte(n, ':'); i > strings.LastIndexByte(n, '/') && tagRE.MatchString(n[i+1:]) {
		return n[i+1:]
	}
	return ""
}

// GetBlob reads a whole blob of at most limit bytes and checks its digest.
func (l *Layout) GetBlob(ctx context.Context, d v1.Hash, limit int64, what string) ([]byte, error) {
	name, err := l.blobFile(d)
	if err != nil {
		return nil, err
	}
	body, err := l.readFile(name, limit, what)
	if err != nil {
		return nil, l.blobError(err, what, d)
	}
	if got := oci.Digest(body); got != d {
		return nil, fmt.Errorf("reading %s %s of %q: content has digest %s: %w", what, d, l.name, got, registry.ErrDigestMismatch)
	}
	return body, nil
}

func (l *Layout) blobError(err error, what string, d v1.Hash) error {
	if isNotFound(err) {
		return &NotFoundError{Layout: l.name, What: fmt.Sprintf("%s %s", what, d)}
	}
	return err
}

// OpenBlob streams a blob; the reader fails at its end with an error
// wrapping registry.ErrDigestMismatch when the bytes miss the digest.
func (l *Layout) OpenBlob(ctx context.Context, d v1.Hash) (io.ReadCloser, error) {
	name, err := l.blobFile(d)
	if err != nil {
		return nil, err
	}
	sec, err := l.openSection(name)
	if err != nil {
		return nil, l.blobError(err, "blob", d)
	}
	if sec != nil {
		return sectionVerifier{newVerifier(sec, d, l.name), sec}, nil
	}
	rc, _, err := l.openFile(name)
	if err != nil {
		return nil, l.blobError(err, "blob", d)
	}
	return newVerifier(rc, d, l.name), nil
}

// openSection opens the file name as a store.Section of a file opened for
// it alone: the blob's own file in a directory or the stage, its bytes in
// an archive. An upload to a registry may then hand it to the kernel
// instead of reading it (store.Section). It is nil for an archive opened
// from a reader, or replaced since it was opened.
func (l *Layout) openSection(name string) (*store.Section, error) {
	rc, size, err := l.openFile(name)
	if err != nil {
		return nil, err
	}
	if f, ok := rc.(*os.File); ok {
		sec, err := store.NewSection(f, 0, size)
		if err != nil {
			f.Close()
		}
		return sec, err
	}
	rc.Close()
	l.files.Lock()
	held, p := l.file, l.path
	l.files.Unlock()
	e, ok := l.tar.lookup(name)
	if held == nil || !ok {
		return nil, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	hi, herr := held.Stat()
	if err != nil || herr != nil || !os.SameFile(fi, hi) {
		f.Close()
		return nil, nil
	}
	sec, err := store.NewSection(f, e.offset, e.hdr.Size)
	if err != nil {
		f.Close()
	}
	return sec, err
}

// blobFile is the name of blob d inside the layout.
func (l *Layout) blobFile(d v1.Hash) (string, error) {
	if l.kind == imageref.DockerArchive {
		return l.dockerBlob(d)
	}
	return blobName(d)
}

// Close releases the layout and removes what a write staged and Commit
// did not take. It does not commit.
func (l *Layout) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.files.Lock()
	defer l.files.Unlock()
	var errs []error
	if l.stage != "" {
		errs = append(errs, os.RemoveAll(l.stage))
		l.stage, l.staged = "", nil
	}
	if l.root != nil {
		errs = append(errs, l.root.Close())
	}
	if l.file != nil {
		errs = append(errs, l.file.Close())
	}
	return errors.Join(errs...)
}

// dirOf is the directory beside the archive where temporary files go.
func (l *Layout) dirOf() string { return filepath.Dir(l.path) }
