package store

// RegistryScheme is the Scheme of a registry's repository: the prefix
// containers/image gives it (docker://).
const RegistryScheme = "docker"

// RepoRef names a repository of a place: the key of its listing and its
// clients, and what opening it takes. The engine and the sweep carry it
// instead of a registry package's types, so that they work over any place.
type RepoRef struct {
	// Scheme is the kind of place, named by its containers/image prefix:
	// RegistryScheme for a registry.
	Scheme string
	// Host is the registry as resolved (index.docker.io for Docker Hub),
	// letter case kept.
	Host string
	// Path is the repository within Host (library/busybox).
	Path string
}

// Name is the repository's full name, host/path: its key, and how
// messages name it.
func (r RepoRef) Name() string { return r.Host + "/" + r.Path }

// Tag is the reference to tag t of r.
func (r RepoRef) Tag(t string) Ref {
	return Ref{Repo: r, id: t, text: r.Name() + ":" + t}
}

// Digest is the reference to digest d (sha256:…) of r.
func (r RepoRef) Digest(d string) Ref {
	return Ref{Repo: r, id: d, digest: true, text: r.Name() + "@" + d}
}

// Ref is an image of a repository, named by tag or by digest.
type Ref struct {
	Repo   RepoRef
	id     string
	digest bool
	// text is the reference as the line wrote it: messages and outputs
	// name an image as the person did.
	text string
}

// WithText is r written as text: the line that named it, for String.
func (r Ref) WithText(text string) Ref {
	r.text = text
	return r
}

// Identifier is the tag or the digest: what the repository is asked for.
func (r Ref) Identifier() string { return r.id }

// IsDigest reports whether r names its image by digest.
func (r Ref) IsDigest() bool { return r.digest }

// String is the reference as it was written.
func (r Ref) String() string { return r.text }

// WithDigest is the reference to digest d of r's repository.
func (r Ref) WithDigest(d string) Ref { return r.Repo.Digest(d) }
