package patch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Path addresses a value inside a document: string elements are object keys,
// int elements array indexes. The empty path is the document itself.
type Path []any

// String formats the path for messages, e.g. manifests[0].platform.
func (p Path) String() string {
	if len(p) == 0 {
		return "(document)"
	}
	var b strings.Builder
	for i, el := range p {
		switch el := el.(type) {
		case string:
			if isIdent(el) {
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(el)
			} else {
				b.WriteString("[" + strconv.Quote(el) + "]")
			}
		case int:
			b.WriteString("[" + strconv.Itoa(el) + "]")
		default:
			fmt.Fprintf(&b, "[%v]", el)
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			return false
		}
	}
	return true
}

// Edit replaces (or inserts, when absent) the value at Path with Value, which
// must be valid JSON; a nil Value deletes the member (or array element).
type Edit struct {
	Path  Path
	Value []byte
}

// Validate checks doc is one JSON object (with nothing but whitespace around
// it), valid JSON, with no duplicate keys in any object and nesting depth at
// most MaxDepth.
func Validate(doc []byte) error {
	_, err := parseDocument(doc)
	return err
}

// Get returns the raw bytes of the value at path, and whether it exists. raw
// shares memory with doc (capacity clipped, so appending to it copies). A path
// that crosses a value of the wrong kind (a key into an array, an index into
// an object, anything into a string) is an error.
func Get(doc []byte, path Path) (raw []byte, ok bool, err error) {
	root, err := parseDocument(doc)
	if err != nil {
		return nil, false, err
	}
	n, err := lookup(root, path)
	if err != nil || n == nil {
		return nil, false, err
	}
	return doc[n.start:n.end:n.end], true, nil
}

// lookup walks path from root. It returns nil and no error when a member or
// element along the path is missing.
func lookup(root *node, path Path) (*node, error) { return walk(root, path, false) }

// walk follows path from root; with strictCase an object along the way that
// holds a key differing from the path's only in case is an error.
func walk(root *node, path Path, strictCase bool) (*node, error) {
	cur := root
	for i, el := range path {
		next, err := child(cur, el)
		if key, ok := el.(string); err == nil && ok && strictCase && cur.kind == kindObject {
			err = checkCase(cur, key)
		}
		if err != nil {
			return nil, fmt.Errorf("following path %s at element %d: %w", path, i, err)
		}
		if next == nil {
			return nil, nil
		}
		cur = next
	}
	return cur, nil
}

// child returns the value of n at key or index el, nil when absent.
func child(n *node, el any) (*node, error) {
	switch el := el.(type) {
	case string:
		if n.kind != kindObject {
			return nil, fmt.Errorf("key %q into a %s", el, n.kind)
		}
		if i := n.member(el); i >= 0 {
			return n.items[i].value, nil
		}
		return nil, nil
	case int:
		if n.kind != kindArray {
			return nil, fmt.Errorf("index %d into a %s", el, n.kind)
		}
		if el < 0 {
			return nil, fmt.Errorf("negative index %d", el)
		}
		if el < len(n.items) {
			return n.items[el].value, nil
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("path element %v of type %T, want string or int", el, el)
	}
}

// Apply returns doc with the edits applied in order; every byte not inside an
// edited member stays as it was. Replacing splices only the value's bytes;
// deleting removes the member with one separating comma and the whitespace
// that belonged to it; inserting appends the member last in its object,
// spaced like its siblings. Inserting into a missing parent is an error
// wrapping ErrNotFound. The result never shares memory with doc.
func Apply(doc []byte, edits ...Edit) ([]byte, error) {
	root, err := parseDocument(doc)
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(doc)
	for i, e := range edits {
		if i > 0 {
			if root, err = parseDocument(out); err != nil {
				return nil, fmt.Errorf("applying edit %d at %s: result: %w", i-1, edits[i-1].Path, err)
			}
		}
		if out, err = apply(out, root, e); err != nil {
			return nil, fmt.Errorf("applying edit %d at %s: %w", i, e.Path, err)
		}
	}
	if len(edits) > 0 {
		// The edited document must still be valid: a value may push the
		// nesting past MaxDepth, or insert a key twice through escapes.
		if err := Validate(out); err != nil {
			return nil, fmt.Errorf("applying edits: result: %w", err)
		}
	}
	return out, nil
}

func apply(doc []byte, root *node, e Edit) ([]byte, error) {
	if len(e.Path) == 0 {
		return nil, fmt.Errorf("editing the whole document: %w: empty path", ErrNotFound)
	}
	var value []byte
	if e.Value != nil {
		v, _, err := parseValue(e.Value)
		if err != nil {
			return nil, fmt.Errorf("reading new value: %w", err)
		}
		value = v
	}
	parentPath, last := e.Path[:len(e.Path)-1], e.Path[len(e.Path)-1]
	parent, err := lookup(root, parentPath)
	if err != nil {
		return nil, err
	}
	if parent == nil {
		return nil, fmt.Errorf("%w: parent %s is missing", ErrNotFound, parentPath)
	}
	switch el := last.(type) {
	case string:
		return setMember(doc, parent, el, value)
	case int:
		return setElement(doc, parent, el, value)
	default:
		return nil, fmt.Errorf("path element %v of type %T, want string or int", last, last)
	}
}

// setMember replaces, inserts or (value nil) deletes member key of the
// object parent.
func setMember(doc []byte, parent *node, key string, value []byte) ([]byte, error) {
	if parent.kind != kindObject {
		return nil, fmt.Errorf("setting key %q: %w: parent is a %s", key, ErrNotObject, parent.kind)
	}
	if !utf8.ValidString(key) {
		// It would be written as U+FFFD and never match itself again.
		return nil, fmt.Errorf("setting key %q: key is not valid UTF-8", key)
	}
	i := parent.member(key)
	switch {
	case i >= 0 && value == nil:
		return deleteItem(doc, parent, i), nil
	case i >= 0:
		v := parent.items[i].value
		return splice(doc, v.start, v.end, value), nil
	case value == nil:
		return doc, nil // deleting what is not there
	default:
		return insertItem(doc, parent, encodeString(key), value), nil
	}
}

// setElement replaces, appends (at index len) or (value nil) deletes
// element i of the array parent.
func setElement(doc []byte, parent *node, i int, value []byte) ([]byte, error) {
	if parent.kind != kindArray {
		return nil, fmt.Errorf("setting index %d: parent is a %s, not an array", i, parent.kind)
	}
	switch {
	case i < 0 || i > len(parent.items):
		return nil, fmt.Errorf("setting index %d: %w: array has %d elements", i, ErrNotFound, len(parent.items))
	case i == len(parent.items) && value == nil:
		return doc, nil
	case i == len(parent.items):
		return insertItem(doc, parent, nil, value), nil
	case value == nil:
		return deleteItem(doc, parent, i), nil
	default:
		v := parent.items[i].value
		return splice(doc, v.start, v.end, value), nil
	}
}

// splice returns a new slice: doc with doc[start:end] replaced by ins.
func splice(doc []byte, start, end int, ins ...[]byte) []byte {
	size := len(doc) - (end - start)
	for _, b := range ins {
		size += len(b)
	}
	out := make([]byte, 0, size)
	out = append(out, doc[:start]...)
	for _, b := range ins {
		out = append(out, b...)
	}
	return append(out, doc[end:]...)
}

// deleteItem removes item i of the object or array n. A member that is
// followed by another loses everything up to that next one's start (its own
// comma and the whitespace after it; the indentation before it stays and
// now serves the next one). The last member loses everything from the end of
// the previous value (so the comma before it goes). A lone member leaves an
// empty container.
func deleteItem(doc []byte, n *node, i int) []byte {
	items := n.items
	switch {
	case len(items) == 1:
		return splice(doc, n.start+1, n.end-1)
	case i < len(items)-1:
		return splice(doc, items[i].itemStart(), items[i+1].itemStart())
	default:
		return splice(doc, items[i-1].value.end, items[i].value.end)
	}
}

// insertItem appends a member (key non-nil) or element (key nil) to n,
// copying the separator between its last two items and, for a member, the
// spacing around the colon of its last member.
func insertItem(doc []byte, n *node, key, value []byte) []byte {
	items := n.items
	var member []byte
	if key != nil {
		colon := []byte(":")
		if len(items) > 0 {
			last := items[len(items)-1]
			colon = doc[last.keyEnd:last.value.start]
		}
		member = append(append(bytes.Clone(key), colon...), value...)
	} else {
		member = value
	}
	switch len(items) {
	case 0:
		// The whitespace of an empty container is dropped: there is no
		// sibling to copy the layout from.
		return splice(doc, n.start+1, n.end-1, member)
	case 1:
		// Separator: a comma, then the whitespace that precedes the only
		// item ("\n  " when indented, "" when compact).
		sep := append([]byte(","), doc[n.start+1:items[0].itemStart()]...)
		end := items[0].value.end
		return splice(doc, end, end, sep, member)
	default:
		prev, last := items[len(items)-2], items[len(items)-1]
		sep := doc[prev.value.end:last.itemStart()]
		end := last.value.end
		return splice(doc, end, end, sep, member)
	}
}

// encodeString encodes s as encoding/json does with HTML escaping off.
func encodeString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// objectLike formats a new object of string members to be inserted as the
// next member of parent, laid out like parent's members: on its own lines,
// one indentation step deeper, when parent is indented; on one line
// otherwise. The indentation step is the difference between the indentation
// of parent's members and that of its closing brace.
func objectLike(doc []byte, parent *node, members [][2]string) []byte {
	colon, sep, open, close := []byte(":"), []byte(","), []byte(nil), []byte(nil)
	if n := len(parent.items); n > 0 {
		last := parent.items[n-1]
		colon = doc[last.keyEnd:last.value.start]
		lead := doc[parent.start+1 : last.itemStart()]
		if n > 1 {
			between := doc[parent.items[n-2].value.end:last.itemStart()]
			lead = between[bytes.IndexByte(between, ',')+1:]
		}
		closing := doc[last.value.end : parent.end-1]
		i, j := bytes.LastIndexByte(lead, '\n'), bytes.LastIndexByte(closing, '\n')
		switch {
		case i >= 0 && j >= 0:
			indent, closeIndent := lead[i+1:], closing[j+1:]
			if len(indent) > len(closeIndent) && bytes.HasPrefix(indent, closeIndent) {
				nl := []byte("\n")
				if i > 0 && lead[i-1] == '\r' {
					nl = []byte("\r\n")
				}
				inner := append(bytes.Clone(indent), indent[len(closeIndent):]...)
				open = append(bytes.Clone(nl), inner...)
				sep = append(append([]byte(","), nl...), inner...)
				close = append(bytes.Clone(nl), indent...)
			}
		case i < 0 && len(lead) > 0 && len(bytes.Trim(lead, " \t")) == 0:
			sep = append([]byte(","), lead...) // {"a": 1, "b": 2}
		}
	}
	out := []byte{'{'}
	out = append(out, open...)
	for i, m := range members {
		if i > 0 {
			out = append(out, sep...)
		}
		out = append(out, encodeString(m[0])...)
		out = append(out, colon...)
		out = append(out, encodeString(m[1])...)
	}
	out = append(out, close...)
	return append(out, '}')
}
