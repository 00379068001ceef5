package imageref

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/sweep"
)

// Transport is where an image lives, named by its containers/image prefix.
type Transport string

// The transports an image line may name.
const (
	Registry      Transport = "docker"
	OCI           Transport = "oci"
	OCIArchive    Transport = "oci-archive"
	DockerArchive Transport = "docker-archive"
	DockerDaemon  Transport = "docker-daemon"
)

// Local reports whether t is a file or directory on this machine.
func (t Transport) Local() bool { return t == OCI || t == OCIArchive || t == DockerArchive }

// Archive reports whether t is a tar file, rewritten as a whole when written.
func (t Transport) Archive() bool { return t == OCIArchive || t == DockerArchive }

// unsupported are the other transports of containers/image: without this
// list "dir:out" would parse as the Docker Hub image library/dir:out.
var unsupported = []string{"dir", "containers-storage", "docker-image", "ostree", "sif", "tarball"}

// Reference is a parsed image line.
type Reference struct {
	Transport Transport
	// Line is the image line as given, trimmed.
	Line string

	// Name is the registry reference (Transport Registry, no pattern).
	Name name.Reference
	// Pattern is set when the line ends in a tag pattern: on a registry
	// its Repository is set, on a layout or archive only Line and Glob.
	Pattern *sweep.Pattern

	// Path is the layout or archive, absolute and clean (local transports).
	Path string
	// GivenPath is Path as the line wrote it, cleaned: what outputs show,
	// since an absolute path inside the action's container means nothing
	// to the steps that run on the runner's host.
	GivenPath string
	// Ref is what follows PATH's colon: a tag, a full name as crane and
	// pack write them into org.opencontainers.image.ref.name, or a
	// digest (sha256:… or @sha256:…); "" when the line has none.
	Ref string

	// Daemon is the Docker engine's image: a tag, or DaemonID.
	Daemon name.Tag
	// DaemonID is the image ID of docker-daemon:sha256:ID.
	DaemonID v1.Hash
}

// Parse parses an image line. wd is the absolute directory relative paths
// are resolved against; opts are passed to the name package for registry
// references (name.Insecure, say).
func Parse(line, wd string, opts ...name.Option) (Reference, error) {
	s := strings.TrimSpace(line)
	r, err := parse(s, wd, opts)
	if err != nil {
		return Reference{}, fmt.Errorf("parsing reference %q: %w", s, err)
	}
	r.Line = s
	if r.Pattern != nil && r.Transport.Local() {
		r.Pattern.Line = s
	}
	return r, nil
}

// IsPattern reports whether a layout's REF is a tag pattern: it holds one
// of * ? [ (none can appear in a tag or a digest).
func IsPattern(ref string) bool { return strings.ContainsAny(ref, "*?[") }

func parse(s, wd string, opts []name.Option) (Reference, error) {
	prefix, rest, found := strings.Cut(s, ":")
	switch t := Transport(prefix); {
	case !found:
	case t == Registry && strings.HasPrefix(rest, "//"):
		return parseRegistry(strings.TrimPrefix(rest, "//"), opts)
	case t.Local():
		return parseLocal(t, rest, wd)
	case t == DockerDaemon:
		return parseDaemon(rest, opts)
	case isUnsupported(prefix):
		return Reference{}, fmt.Errorf("the %s: transport is not supported (use a registry reference, or oci:, oci-archive:, docker-archive: or docker-daemon:)", prefix)
	}
	return parseRegistry(s, opts)
}

func isUnsupported(prefix string) bool {
	for _, u := range unsupported {
		if prefix == u {
			return true
		}
	}
	return false
}

func parseRegistry(s string, opts []name.Option) (Reference, error) {
	if IsTagPattern(s) {
		p, err := ParsePattern(s, opts...)
		if err != nil {
			return Reference{}, err
		}
		return Reference{Transport: Registry, Pattern: &p}, nil
	}
	n, err := name.ParseReference(s, opts...)
	if err != nil {
		return Reference{}, err
	}
	return Reference{Transport: Registry, Name: n}, nil
}

// Errors of a local reference, for callers and tests to branch on.
var (
	ErrNoPath      = errors.New("no path: write it after the transport, such as oci:out or oci-archive:bp.cnb")
	ErrRelativeDir = errors.New("the working directory to resolve a relative path against is not absolute")
)

func parseLocal(t Transport, rest, wd string) (Reference, error) {
	p, ref, _ := strings.Cut(rest, ":")
	if p == "" {
		return Reference{}, ErrNoPath
	}
	if strings.ContainsRune(p, 0) {
		return Reference{}, errors.New("the path holds a NUL byte")
	}
	r := Reference{Transport: t, GivenPath: filepath.Clean(p), Path: filepath.Clean(p), Ref: ref}
	if !filepath.IsAbs(p) {
		if !filepath.IsAbs(wd) {
			return Reference{}, fmt.Errorf("resolving %q against %q: %w", p, wd, ErrRelativeDir)
		}
		r.Path = filepath.Join(wd, p)
	}
	if err := checkRef(ref); err != nil {
		return Reference{}, err
	}
	if IsPattern(ref) {
		r.Pattern = &sweep.Pattern{Glob: ref}
	}
	return r, nil
}

// checkRef refuses what no name in a layout can hold; anything else may be
// a ref.name (the OCI layout spec allows far more than a tag).
func checkRef(ref string) error {
	if i := strings.IndexFunc(ref, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fmt.Errorf("REF %q holds a space or control character", ref)
	}
	if strings.HasPrefix(ref, "@") || strings.HasPrefix(ref, "sha256:") {
		if _, err := v1.NewHash(strings.TrimPrefix(ref, "@")); err != nil {
			return fmt.Errorf("parsing digest %q: %w", ref, err)
		}
		return nil
	}
	if IsPattern(ref) {
		// path.Match checks the whole pattern whatever the name.
		if _, err := path.Match(ref, ""); err != nil {
			return fmt.Errorf("parsing tag pattern %q: %w: see Go's path.Match for the syntax", ref, err)
		}
	}
	return nil
}

func parseDaemon(rest string, opts []name.Option) (Reference, error) {
	if strings.HasPrefix(rest, "sha256:") {
		h, err := v1.NewHash(rest)
		if err != nil {
			return Reference{}, fmt.Errorf("parsing image ID %q: %w", rest, err)
		}
		return Reference{Transport: DockerDaemon, DaemonID: h}, nil
	}
	if strings.Contains(rest, "@") {
		return Reference{}, fmt.Errorf("%q: the Docker engine names an image by tag or by sha256:ID, not by digest", rest)
	}
	t, err := name.NewTag(rest, opts...)
	if err != nil {
		return Reference{}, err
	}
	return Reference{Transport: DockerDaemon, Daemon: t}, nil
}

// String is the reference in the form Parse reads, with a local path
// absolute.
func (r Reference) String() string {
	switch {
	case r.Transport.Local():
		if r.Ref == "" {
			return string(r.Transport) + ":" + r.Path
		}
		return string(r.Transport) + ":" + r.Path + ":" + r.Ref
	case r.Transport == DockerDaemon && r.DaemonID != (v1.Hash{}):
		return string(DockerDaemon) + ":" + r.DaemonID.String()
	case r.Transport == DockerDaemon:
		return string(DockerDaemon) + ":" + r.Daemon.Name()
	case r.Pattern != nil:
		return r.Pattern.Line
	case r.Name != nil:
		return r.Name.Name()
	}
	return ""
}

// WithDigest is the image output of a result at digest d:
// <transport>:<path>@<digest> for a layout or archive (the path as given),
// docker-daemon:<name>@<id> for the engine, repository@digest for a
// registry.
func (r Reference) WithDigest(d v1.Hash) string {
	switch {
	case r.Transport.Local():
		return string(r.Transport) + ":" + r.GivenPath + "@" + d.String()
	case r.Transport == DockerDaemon && r.DaemonID != (v1.Hash{}):
		return string(DockerDaemon) + ":" + d.String()
	case r.Transport == DockerDaemon:
		return string(DockerDaemon) + ":" + r.Daemon.Context().Name() + "@" + d.String()
	case r.Pattern != nil:
		return r.Pattern.Repository.Digest(d.String()).String()
	case r.Name != nil:
		return r.Name.Context().Digest(d.String()).Name()
	}
	return ""
}
