package detect

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/set-image-platform/set-image-platform/internal/platform"
	"github.com/set-image-platform/set-image-platform/internal/safetext"
)

// Layer is one layer to scan, in order from the base (index 0) to the top.
type Layer struct {
	Digest string // for messages
	// MediaType tells the compression (…tar, …tar+gzip, …tar.gzip,
	// …tar+zstd). The content's magic bytes take precedence over it.
	MediaType string
	// Open streams the (compressed) blob. Detect calls it at most once.
	Open func() (io.ReadCloser, error)
}

// Evidence is what was found.
type Evidence struct {
	// Platform is the platform decided on; zero when Detect fails.
	Platform platform.Platform
	// Counts holds the number of executables per platform string, e.g.
	// "linux/amd64": 23.
	Counts map[string]int
	// Examples holds up to 3 example paths per platform string. Paths here
	// and in Ignored are escaped with safetext.Line: file names come from
	// the image and may hold line breaks or terminal escapes.
	Examples map[string][]string
	// Ignored says what was left out and why, e.g.
	// "/usr/bin/qemu-aarch64-static (emulator, linux/arm64)" or
	// "12 scripts (#!), e.g. /cnb/buildpacks/x/1.0/bin/detect, ...".
	Ignored []string
	// Notes says what was assumed, e.g. "arm variant not recorded in 3
	// files; assumed v7", and when reading stopped early.
	Notes []string
	// Files is the number of executables counted.
	Files int
	// BytesRead is the number of compressed bytes read from the layers.
	BytesRead int64
	// LayersRead is the number of layers opened.
	LayersRead int

	formats map[string]int // "ELF" / "PE" -> files
}

// String summarizes e, e.g. "23 ELF files: linux/arm64", or
// "24 ELF files: linux/amd64 (23), linux/arm64 (1)".
func (e *Evidence) String() string {
	if e.Files == 0 {
		return "no ELF or PE executable"
	}
	kinds := slices.Sorted(maps.Keys(e.formats))
	kind := "executable"
	if len(kinds) > 0 {
		kind = strings.Join(kinds, " and ")
	}
	files := "files"
	if e.Files == 1 {
		files = "file"
	}
	s := fmt.Sprintf("%d %s %s: ", e.Files, kind, files)
	switch {
	case len(e.Counts) == 1 && !e.Platform.IsZero():
		s += e.Platform.String()
	default:
		s += formatCounts(e.Counts)
	}
	return s
}

// Options tune Detect.
type Options struct {
	// MaxExecutables stops the scan once this many executables are counted;
	// 0 means 64.
	MaxExecutables int
}

// NoExecutablesError says that the layers hold no ELF or PE executable, as
// in images of scripts or data only.
type NoExecutablesError struct {
	LayersRead int
	Ignored    []string
}

func (e *NoExecutablesError) Error() string {
	msg := fmt.Sprintf("detecting platform: no ELF or PE executable found in %d layers", e.LayersRead)
	if len(e.Ignored) > 0 {
		msg += " (ignored: " + strings.Join(e.Ignored, "; ") + ")"
	}
	return msg + `; set "platform" explicitly, e.g. linux/amd64`
}

// ConflictError says that no platform has a clear majority among the
// executables counted.
type ConflictError struct {
	Counts   map[string]int
	Examples map[string][]string
}

func (e *ConflictError) Error() string {
	var parts []string
	for _, p := range sortedPlatforms(e.Counts) {
		parts = append(parts, fmt.Sprintf("%s: %d (%s)", p, e.Counts[p], strings.Join(e.Examples[p], ", ")))
	}
	return fmt.Sprintf("detecting platform: executables disagree, %s; no platform has %d%% of them: set \"platform\" explicitly",
		strings.Join(parts, "; "), majorityPercent)
}

// majorityPercent is the share of the counted executables the leading
// os/arch needs.
const majorityPercent = 90

// maxExamples bounds the example paths kept per platform and per kind of
// ignored file.
const maxExamples = 3

// Detect scans layers, from the top one down, and decides the platform by
// clear majority; doc.go gives the rules. On *NoExecutablesError and
// *ConflictError it returns the Evidence gathered along with the error; on
// other errors, a nil Evidence.
func Detect(ctx context.Context, layers []Layer, opts Options) (*Evidence, error) {
	if opts.MaxExecutables <= 0 {
		opts.MaxExecutables = 64
	}
	s := &scanner{
		ctx:      ctx,
		max:      opts.MaxExecutables,
		replaced: map[string]bool{},
		covered:  map[string]bool{},
		ev: &Evidence{
			Counts:   map[string]int{},
			Examples: map[string][]string{},
			formats:  map[string]int{},
		},
		ignored: map[string]*ignoredKind{},
		head:    make([]byte, headSize+tailSize),
		tail:    make([]byte, tailSize),
	}
	for i := len(layers) - 1; i >= 0 && len(s.found) < s.max; i-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.scanLayer(layers[i]); err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", layers[i].Digest, err)
		}
	}
	if s.stoppedInLayer || len(s.found) >= s.max && s.ev.LayersRead < len(layers) {
		s.ev.Notes = append(s.ev.Notes, fmt.Sprintf("stopped after %d executables, having read %d of %d layers",
			len(s.found), s.ev.LayersRead, len(layers)))
	}
	return s.decide()
}

// finding is one executable counted.
type finding struct {
	path string
	info *binaryInfo
	seq  int // order of discovery within its layer
}

// ignoredKind gathers the files ignored for one reason.
type ignoredKind struct {
	one, many string
	n         int
	examples  []string
	listAll   bool // name each file rather than giving a count
}

type scanner struct {
	ctx context.Context
	max int
	ev  *Evidence

	// What the layers above the current one hold. A lower file at p is
	// hidden when p is in replaced (any entry at p, directories included),
	// or p or one of its parents is in covered (whiteouts, opaque
	// directories, and entries that are not directories, which hide
	// everything below them).
	replaced, covered map[string]bool

	found          []finding
	stoppedInLayer bool
	ignored        map[string]*ignoredKind
	ignoredOrder   []string
	armAssumed     int

	head, tail []byte // reused buffers for one file's kept bytes
}

// ignore records a file left out. one says why, for a single file; many,
// when set, for several ("12 scripts (#!)"); listAll names every file (up to
// 10) rather than giving a count.
func (s *scanner) ignore(one, many, p string, listAll bool) {
	k, ok := s.ignored[one]
	if !ok {
		k = &ignoredKind{one: one, many: many, listAll: listAll}
		s.ignored[one] = k
		s.ignoredOrder = append(s.ignoredOrder, one)
	}
	k.n++
	if len(k.examples) < maxExamples || (listAll && len(k.examples) < 10) {
		k.examples = append(k.examples, safetext.Line(p))
	}
}

func (s *scanner) hidden(p string) bool {
	if s.replaced[p] {
		return true
	}
	for {
		if s.covered[p] {
			return true
		}
		if p == "/" {
			return false
		}
		p = path.Dir(p)
	}
}

// countingReader counts the bytes read and stops on cancellation.
type countingReader struct {
	ctx context.Context
	r   io.Reader
	n   *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress returns the tar stream of a layer, from its magic bytes. The
// media type only serves to say what was expected when neither matches.
func decompress(r io.Reader, mediaType string) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 32<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("opening gzip stream: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, fmt.Errorf("opening zstd stream: %w", err)
		}
		return zr, zr.Close, nil
	}
	// Plain tar has no magic at offset 0: anything else fails in the tar
	// reader, whose error then names the media type that was expected.
	if strings.Contains(mediaType, "gzip") || strings.Contains(mediaType, "zstd") {
		return &mediaTypeNote{r: br, mediaType: mediaType}, func() {}, nil
	}
	return br, func() {}, nil
}

// mediaTypeNote adds the expected media type to read errors of a layer that
// is neither gzip nor zstd although its media type says so.
type mediaTypeNote struct {
	r         io.Reader
	mediaType string
}

func (m *mediaTypeNote) Read(p []byte) (int, error) { return m.r.Read(p) }

func (s *scanner) scanLayer(l Layer) error {
	if l.Open == nil {
		return errors.New("layer has no Open function")
	}
	rc, err := l.Open()
	if err != nil {
		return fmt.Errorf("opening blob: %w", err)
	}
	defer rc.Close()
	s.ev.LayersRead++
	r, closeFn, err := decompress(countingReader{ctx: s.ctx, r: rc, n: &s.ev.BytesRead}, l.MediaType)
	if err != nil {
		return err
	}
	defer closeFn()

	lay := newLayerState()
	tr := tar.NewReader(r)
	for len(s.found)+len(lay.found) < s.max {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return s.endLayer(lay)
		}
		if err != nil {
			return s.streamErr(r, "reading tar stream", err)
		}
		if err := s.entry(lay, tr, hdr); err != nil {
			return err
		}
	}
	s.stoppedInLayer = true
	return s.endLayer(lay)
}

// layerState is what one layer's entries say, kept apart until the layer
// ends: within a layer the later entry for a path wins, and the layers
// below see this one's entries only as a whole.
type layerState struct {
	found    map[string]finding
	replaced map[string]bool
	covered  map[string]bool
	seq      int
}

func newLayerState() *layerState {
	return &layerState{found: map[string]finding{}, replaced: map[string]bool{}, covered: map[string]bool{}}
}

// add records a finding for name, in entry order.
func (l *layerState) add(name string, info *binaryInfo) {
	l.seq++
	l.found[name] = finding{path: name, info: info, seq: l.seq}
}

// whiteout records what a whiteout entry (dir + base) hides and reports
// whether base is one.
func (l *layerState) whiteout(dir, base string) bool {
	if !strings.HasPrefix(base, ".wh.") {
		return false
	}
	switch {
	case base == ".wh..wh..opq":
		l.covered[path.Clean(dir)] = true
	case strings.HasPrefix(base, ".wh..wh."):
		// Other aufs metadata (.wh..wh.plnk, ...): not a deletion.
	default:
		l.covered[path.Join(dir, base[len(".wh."):])] = true
	}
	return true
}

// entry records one tar entry of a layer.
func (s *scanner) entry(lay *layerState, tr *tar.Reader, hdr *tar.Header) error {
	name := path.Clean("/" + hdr.Name)
	if name == "/" {
		return nil
	}
	if lay.whiteout(path.Split(name)) || s.hidden(name) {
		return nil
	}
	delete(lay.found, name)
	lay.replaced[name] = true
	if hdr.Typeflag != tar.TypeDir {
		lay.covered[name] = true
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		s.ignore("symbolic link, not followed", "symbolic links, not followed", name, false)
	case tar.TypeLink:
		// A hard link shares the content of an earlier entry of the
		// same layer.
		if f, ok := lay.found[path.Clean("/"+hdr.Linkname)]; ok {
			lay.add(name, f.info)
		}
	case tar.TypeReg:
		info, err := s.examine(tr, hdr, name)
		if err != nil {
			return s.streamErr(nil, fmt.Sprintf("reading %q", name), err)
		}
		if info != nil {
			lay.add(name, info)
		}
	}
	return nil
}

// streamErr words a failure to read a layer: the run's own end when it
// was cancelled, else what was being read, with the media type the layer
// claimed when it is read through a mediaTypeNote.
func (s *scanner) streamErr(r io.Reader, what string, err error) error {
	if ctxErr := s.ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if m, ok := r.(*mediaTypeNote); ok {
		return fmt.Errorf("%s (media type %q, but no gzip or zstd magic): %w", what, m.mediaType, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// endLayer adds what a layer said to what the layers above said: the
// layers below see its entries as well as those above it.
func (s *scanner) endLayer(lay *layerState) error {
	maps.Copy(s.replaced, lay.replaced)
	maps.Copy(s.covered, lay.covered)
	for _, f := range slices.SortedFunc(maps.Values(lay.found), func(a, b finding) int { return a.seq - b.seq }) {
		s.count(f)
	}
	return nil
}

// examine reads the header of a regular file and returns what it says, or
// nil when the file is not evidence. Ignored binaries are recorded.
func (s *scanner) examine(r io.Reader, hdr *tar.Header, name string) (*binaryInfo, error) {
	executable := hdr.Mode&0o111 != 0
	windowsLayer := strings.HasPrefix(name, "/Files/") || strings.HasPrefix(name, "/UtilityVM/Files/")
	sharedLib := isSharedLibName(path.Base(name))
	if !worthReading(executable, sharedLib, windowsLayer, hdr.Size) {
		return nil, nil
	}
	w, err := s.readHead(r, hdr.Size)
	if err != nil {
		return nil, err
	}
	var info *binaryInfo
	switch {
	case bytes.HasPrefix(w.head, []byte("#!")):
		if executable {
			s.ignore("script, #!", "scripts (#!)", name, false)
		}
		return nil, nil
	case isELF(w.head) && (executable || sharedLib):
		if err := s.readARMTail(r, w); err != nil {
			return nil, err
		}
		info = parseELF(w, executable)
	case isPE(w.head) && (executable || windowsLayer):
		info = parsePE(w.head)
	}
	return s.keep(info, name), nil
}

// worthReading reports whether a file may be evidence: an executable, a
// shared library or a file of a Windows layer, long enough for a magic
// number.
func worthReading(executable, sharedLib, windowsLayer bool, size int64) bool {
	return (executable || sharedLib || windowsLayer) && size >= 4
}

// readHead reads the first bytes of a file of size bytes, all of it when
// it is small enough to keep whole.
func (s *scanner) readHead(r io.Reader, size int64) (*window, error) {
	n := min(size, headSize)
	if size <= headSize+tailSize {
		n = size
	}
	if _, err := io.ReadFull(r, s.head[:n]); err != nil {
		return nil, err
	}
	return &window{size: size, head: s.head[:n]}, nil
}

// readARMTail keeps the tail of a 32-bit ARM ELF file, where GNU ld puts
// .ARM.attributes and the section headers, and drops what lies between.
func (s *scanner) readARMTail(r io.Reader, w *window) error {
	n := int64(len(w.head))
	if _, _, _, _, machine, ok := elfIdent(w.head); !ok || machine != elf.EM_ARM || w.size <= n {
		return nil
	}
	w.tailOff = w.size - tailSize
	if _, err := io.CopyN(io.Discard, r, w.tailOff-n); err != nil {
		return err
	}
	if _, err := io.ReadFull(r, s.tail); err != nil {
		return err
	}
	w.tail = s.tail
	return nil
}

// keep returns info when it is evidence; a binary to skip, or an
// emulator, is recorded as ignored instead.
func (s *scanner) keep(info *binaryInfo, name string) *binaryInfo {
	switch {
	case info == nil:
		return nil
	case info.skip != "":
		s.ignore(info.skip, "", name, false)
		return nil
	case isEmulator(name):
		s.ignore("emulator, "+info.platform.String(), "", name, true)
		return nil
	}
	return info
}

// isSharedLibName reports whether base is named like a shared library:
// *.so or *.so.*.
func isSharedLibName(base string) bool {
	return strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.")
}

// isEmulator reports whether p is a user-mode emulator or binfmt_misc
// helper, which an image may carry to run binaries of another architecture
// (qemu-aarch64-static, /usr/libexec/qemu-binfmt/aarch64-binfmt-P).
func isEmulator(p string) bool {
	return strings.HasPrefix(path.Base(p), "qemu-") || strings.Contains(p, "/qemu-binfmt/")
}

func (s *scanner) count(f finding) {
	s.found = append(s.found, f)
	key := f.info.platform.String()
	s.ev.Counts[key]++
	if len(s.ev.Examples[key]) < maxExamples {
		s.ev.Examples[key] = append(s.ev.Examples[key], safetext.Line(f.path))
	}
	s.ev.formats[f.info.format]++
	if !f.info.variantKnown {
		s.armAssumed++
	}
}

// decide applies the majority rule to what was counted.
func (s *scanner) decide() (*Evidence, error) {
	ev := s.ev
	ev.Files = len(s.found)
	ev.Ignored = append(ev.Ignored, s.ignoredLines()...)
	if len(s.found) == 0 {
		return ev, &NoExecutablesError{LayersRead: ev.LayersRead, Ignored: ev.Ignored}
	}

	// Majority by os/arch; arm variants are merged (see doc.go).
	byArch := map[string]int{}
	for _, f := range s.found {
		byArch[f.info.platform.OS+"/"+f.info.platform.Architecture]++
	}
	leader := sortedPlatforms(byArch)[0]
	if byArch[leader]*100 < len(s.found)*majorityPercent {
		return ev, &ConflictError{Counts: ev.Counts, Examples: ev.Examples}
	}
	if s.armAssumed > 0 {
		ev.Notes = append(ev.Notes, fmt.Sprintf("arm variant not recorded in %d files; assumed v7", s.armAssumed))
	}
	ev.Platform = s.chosen(leader)
	return ev, nil
}

// ignoredLines words what was ignored, one line per reason, in the order
// the reasons were first met.
func (s *scanner) ignoredLines() []string {
	var lines []string
	for _, reason := range s.ignoredOrder {
		k := s.ignored[reason]
		switch {
		case k.listAll:
			for _, p := range k.examples {
				lines = append(lines, fmt.Sprintf("%s (%s)", p, k.one))
			}
			if k.n > len(k.examples) {
				lines = append(lines, fmt.Sprintf("%d more (%s)", k.n-len(k.examples), k.one))
			}
		case k.n == 1:
			lines = append(lines, fmt.Sprintf("%s (%s)", k.examples[0], k.one))
		case k.many != "":
			lines = append(lines, fmt.Sprintf("%d %s, e.g. %s", k.n, k.many, strings.Join(k.examples, ", ")))
		default:
			lines = append(lines, fmt.Sprintf("%d files (%s), e.g. %s", k.n, k.one, strings.Join(k.examples, ", ")))
		}
	}
	return lines
}

// chosen is the platform of the first file of os/arch leader, with the
// newest variant any of them recorded: v7 hardware runs v6 code, not the
// other way round. Variants are "v5" to "v8", so they compare as strings.
func (s *scanner) chosen(leader string) platform.Platform {
	var chosen platform.Platform
	var recorded string
	for _, f := range s.found {
		p := f.info.platform
		if p.OS+"/"+p.Architecture != leader {
			continue
		}
		if chosen.IsZero() {
			chosen = p
		}
		if f.info.variantKnown && p.Variant > recorded {
			recorded = p.Variant
		}
	}
	if recorded != "" {
		chosen.Variant = recorded
	}
	return chosen
}

// sortedPlatforms returns the keys of counts, most counted first, then by
// name.
func sortedPlatforms(counts map[string]int) []string {
	return slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
}

// formatCounts gives counts as "linux/amd64 (23), linux/arm64 (1)".
func formatCounts(counts map[string]int) string {
	var parts []string
	for _, p := range sortedPlatforms(counts) {
		parts = append(parts, fmt.Sprintf("%s (%d)", p, counts[p]))
	}
	return strings.Join(parts, ", ")
}
