package patch

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// The keys of a platform, in the order SetPlatform writes new ones.
const (
	keyArchitecture = "architecture"
	keyOS           = "os"
	keyVariant      = "variant"
	keyOSVersion    = "os.version"
)

var platformKeys = []string{keyArchitecture, keyOS, keyVariant, keyOSVersion}

// ReadPlatform reads the string keys "os", "architecture", "variant" and
// "os.version" of the object at path: the empty path is the top level (an
// image config), Path{"manifests", i, "platform"} an index entry's platform.
// Missing keys, and a missing object at path, read as "". A non-string value,
// or a key spelled in another case next to (or instead of) one of these, is
// an error.
func ReadPlatform(doc []byte, path Path) (platform.Platform, error) {
	_, obj, err := objectAt(doc, path)
	if err != nil || obj == nil {
		return platform.Platform{}, err
	}
	return readPlatform(doc, obj, path)
}

func readPlatform(doc []byte, obj *node, path Path) (platform.Platform, error) {
	if err := checkCase(obj, platformKeys...); err != nil {
		return platform.Platform{}, fmt.Errorf("reading platform at %s: %w", path, err)
	}
	var vals [4]string
	for i, k := range platformKeys {
		v, _, err := stringMember(doc, obj, k)
		if err != nil {
			return platform.Platform{}, fmt.Errorf("reading platform at %s: %w", path, err)
		}
		vals[i] = v
	}
	return platform.Platform{Architecture: vals[0], OS: vals[1], Variant: vals[2], OSVersion: vals[3]}, nil
}

// SetPlatform sets the platform keys of the object at path (see
// ReadPlatform). "architecture" and "os" are always written, replaced in
// place or appended; "variant" and "os.version" are written when non-empty
// and deleted when empty. Keys that already hold the wanted value are not
// touched, so setting the platform a document already has returns it
// unchanged. When the object at path is absent (an index entry without
// "platform") it is appended to its parent as a new object, keys in the order
// architecture, os, variant, os.version, laid out like the parent (one member
// a line, one indentation step deeper, when the parent is indented). p must
// have an OS and an architecture, all in valid UTF-8.
func SetPlatform(doc []byte, path Path, p platform.Platform) ([]byte, error) {
	if err := checkPlatformArg(path, p); err != nil {
		return nil, err
	}
	root, obj, err := objectAt(doc, path)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return insertPlatform(doc, root, path, p)
	}
	have, err := readPlatform(doc, obj, path)
	if err != nil {
		return nil, err
	}
	var edits []Edit
	set := func(key, old, val string, optional bool) {
		_, present, _ := stringMember(doc, obj, key) // read without error above
		switch {
		case optional && val == "":
			if present {
				edits = append(edits, Edit{Path: with(path, key)})
			}
		case !present || old != val:
			edits = append(edits, Edit{Path: with(path, key), Value: encodeString(val)})
		}
	}
	set(keyArchitecture, have.Architecture, p.Architecture, false)
	set(keyOS, have.OS, p.OS, false)
	set(keyVariant, have.Variant, p.Variant, true)
	set(keyOSVersion, have.OSVersion, p.OSVersion, true)
	return applyAll(doc, edits, "setting platform", path)
}

// checkPlatformArg checks what SetPlatform is asked to write: an OS and an
// architecture, every field valid UTF-8 (it would be written as U+FFFD:
// not what was asked for).
func checkPlatformArg(path Path, p platform.Platform) error {
	if p.OS == "" || p.Architecture == "" {
		return fmt.Errorf("setting platform %q at %s: os and architecture are required", p.String(), path)
	}
	for _, v := range []string{p.OS, p.Architecture, p.Variant, p.OSVersion} {
		if !utf8.ValidString(v) {
			return fmt.Errorf("setting platform %q at %s: %q is not valid UTF-8", p.String(), path, v)
		}
	}
	return nil
}

// insertPlatform appends a platform object at path, whose parent must be
// an object. path is not empty: the empty path is the root object, which
// is always there.
func insertPlatform(doc []byte, root *node, path Path, p platform.Platform) ([]byte, error) {
	parent, err := lookup(root, path[:len(path)-1])
	if err != nil {
		return nil, err
	}
	if parent == nil || parent.kind != kindObject {
		return nil, fmt.Errorf("setting platform at %s: %w: no object to insert it into", path, ErrNotFound)
	}
	return applyAll(doc, []Edit{{Path: path, Value: newPlatformObject(doc, parent, p)}}, "setting platform", path)
}

// applyAll applies edits to doc, or returns a copy of doc when there are
// none; what and path say what failed.
func applyAll(doc []byte, edits []Edit, what string, path Path) ([]byte, error) {
	if len(edits) == 0 {
		return bytes.Clone(doc), nil
	}
	out, err := Apply(doc, edits...)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", what, path, err)
	}
	return out, nil
}

// newPlatformObject is the object SetPlatform inserts where there was
// none, laid out like the members of parent.
func newPlatformObject(doc []byte, parent *node, p platform.Platform) []byte {
	members := [][2]string{{keyArchitecture, p.Architecture}, {keyOS, p.OS}}
	if p.Variant != "" {
		members = append(members, [2]string{keyVariant, p.Variant})
	}
	if p.OSVersion != "" {
		members = append(members, [2]string{keyOSVersion, p.OSVersion})
	}
	return objectLike(doc, parent, members)
}

// SetDescriptor sets "digest" (a string) and "size" (a number) of the
// descriptor object at path: Path{"config"} in a manifest, Path{"manifests",
// i} in an index. Nothing else changes; values already equal are not
// touched.
func SetDescriptor(doc []byte, path Path, digest string, size int64) ([]byte, error) {
	algo, hex, ok := strings.Cut(digest, ":")
	if !ok || algo == "" || hex == "" || !utf8.ValidString(digest) {
		return nil, fmt.Errorf("setting descriptor at %s: digest %q is not of the form algorithm:hex", path, digest)
	}
	if size < 0 {
		return nil, fmt.Errorf("setting descriptor at %s: negative size %d", path, size)
	}
	_, obj, err := objectAt(doc, path)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("setting descriptor: %w: no object at %s", ErrNotFound, path)
	}
	if err := checkCase(obj, "digest", "size"); err != nil {
		return nil, fmt.Errorf("setting descriptor at %s: %w", path, err)
	}
	edits, err := descriptorEdits(doc, obj, path, digest, size)
	if err != nil {
		return nil, fmt.Errorf("setting descriptor at %s: %w", path, err)
	}
	return applyAll(doc, edits, "setting descriptor", path)
}

// descriptorEdits are the edits that give the descriptor obj, at path,
// digest and size: none for a value already equal.
func descriptorEdits(doc []byte, obj *node, path Path, digest string, size int64) ([]Edit, error) {
	var edits []Edit
	old, present, err := stringMember(doc, obj, "digest")
	if err != nil {
		return nil, err
	}
	if !present || old != digest {
		edits = append(edits, Edit{Path: with(path, "digest"), Value: encodeString(digest)})
	}
	sz := []byte(strconv.FormatInt(size, 10))
	if i := obj.member("size"); i < 0 || string(doc[obj.items[i].value.start:obj.items[i].value.end]) != string(sz) {
		edits = append(edits, Edit{Path: with(path, "size"), Value: sz})
	}
	return edits, nil
}

// lookupObject returns the object at path, nil if it is absent, and an error
// if something else is there, or if an object along the path holds a key
// that differs from the path's key only in case.
// objectAt parses doc and finds the object at path (nil when absent).
func objectAt(doc []byte, path Path) (root, obj *node, err error) {
	if root, err = parseDocument(doc); err != nil {
		return nil, nil, err
	}
	obj, err = lookupObject(root, path)
	return root, obj, err
}

func lookupObject(root *node, path Path) (*node, error) {
	n, err := walk(root, path, true)
	if err != nil || n == nil {
		return nil, err
	}
	if n.kind != kindObject {
		return nil, fmt.Errorf("reading %s: %w: it is a %s", path, ErrNotObject, n.kind)
	}
	return n, nil
}

// stringMember returns the decoded string value of key in obj, and whether
// it is present. A value that is not a string is an error.
func stringMember(doc []byte, obj *node, key string) (string, bool, error) {
	i := obj.member(key)
	if i < 0 {
		return "", false, nil
	}
	v := obj.items[i].value
	if v.kind != kindString {
		return "", true, fmt.Errorf("key %q holds %s, want a string", key, doc[v.start:v.end])
	}
	s, err := decodeString(doc[v.start:v.end])
	return s, true, err
}

// errCaseVariant is wrapped in ErrDuplicateKey errors about keys that differ
// only in case.
var errCaseVariant = errors.New("keys that differ only in case are read as one by Go decoders")

// checkCase refuses an object with a key that equals one of keys except for
// case: Go's encoding/json (and so most registries and runtimes) would read
// it as that key, so what this package reads and writes would not be what
// they see.
func checkCase(obj *node, keys ...string) error {
	for _, it := range obj.items {
		for _, k := range keys {
			if it.key != k && strings.EqualFold(it.key, k) {
				return fmt.Errorf("%w: key %q next to or instead of %q: %w", ErrDuplicateKey, it.key, k, errCaseVariant)
			}
		}
	}
	return nil
}

// with returns path extended by el, never sharing path's backing array.
func with(path Path, el any) Path {
	out := make(Path, 0, len(path)+1)
	return append(append(out, path...), el)
}
