package patch

import (
	"fmt"
)

// SetSubject points the "subject" descriptor of an artifact manifest (or
// index) at digest and size: a referrer carried to a new digest. The
// subject's mediaType, annotations and every byte outside its digest and
// size stay as they were. A document without a subject is an error wrapping
// ErrNotFound: there is nothing to re-point.
func SetSubject(doc []byte, digest string, size int64) ([]byte, error) {
	return SetDescriptor(doc, Path{"subject"}, digest, size)
}

// PutManifestEntry adds descriptor (one JSON object) to the "manifests"
// array of an index, as a fallback tag's index lists a new referrer: it
// replaces the entry with the same "digest", or is appended last, laid out
// like the entries before it. Every other byte stays as it was.
func PutManifestEntry(index, descriptor []byte) ([]byte, error) {
	desc, err := parseDocument(descriptor)
	if err != nil {
		return nil, fmt.Errorf("reading descriptor: %w", err)
	}
	digest, ok, err := stringMember(descriptor, desc, "digest")
	switch {
	case err != nil:
		return nil, fmt.Errorf("reading descriptor: %w", err)
	case !ok:
		return nil, fmt.Errorf("reading descriptor: %w: no digest", ErrNotFound)
	}
	root, err := parseDocument(index)
	if err != nil {
		return nil, err
	}
	list, err := lookup(root, Path{"manifests"})
	switch {
	case err != nil:
		return nil, err
	case list == nil:
		return nil, fmt.Errorf("adding manifest %s: %w: no manifests array", digest, ErrNotFound)
	case list.kind != kindArray:
		return nil, fmt.Errorf("adding manifest %s: manifests is a %s, not an array", digest, list.kind)
	}
	at := len(list.items)
	for i, it := range list.items {
		if it.value.kind != kindObject {
			continue
		}
		if d, _, err := stringMember(index, it.value, "digest"); err == nil && d == digest {
			at = i
			break
		}
	}
	out, err := Apply(index, Edit{Path: Path{"manifests", at}, Value: descriptor})
	if err != nil {
		return nil, fmt.Errorf("adding manifest %s: %w", digest, err)
	}
	return out, nil
}
