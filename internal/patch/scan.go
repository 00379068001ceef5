package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays a document may have;
// the top-level object is at depth 1.
const MaxDepth = 64

// Sentinel errors, returned wrapped with context; test them with errors.Is.
var (
	// ErrNotObject: the document (or the value at a path) is not a JSON object.
	ErrNotObject = errors.New("not a JSON object")
	// ErrDuplicateKey: an object holds the same key twice, or a key the
	// platform and descriptor edits care about in two spellings that differ
	// only in case (Go's encoding/json, and with it most registries and
	// runtimes, matches struct fields case-insensitively).
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrTooDeep: objects and arrays nest deeper than MaxDepth.
	ErrTooDeep = errors.New("nesting too deep")
	// ErrInvalidJSON: the bytes are not valid JSON.
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrNotFound: a path crosses a member or element that does not exist.
	ErrNotFound = errors.New("path not found")
)

type kind uint8

const (
	kindObject kind = iota + 1
	kindArray
	kindString
	kindNumber
	kindLiteral
)

func (k kind) String() string {
	switch k {
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindLiteral:
		return "literal"
	}
	return "value"
}

// node is one scanned value: its kind, its byte range [start, end) in the
// document and, for objects and arrays, its items in document order.
type node struct {
	kind       kind
	start, end int
	items      []item
}

// item is an object member or an array element. For an array element key is
// empty and keyStart/keyEnd equal value.start.
type item struct {
	key              string // decoded key
	keyStart, keyEnd int    // raw key, quotes included
	value            *node
}

// itemStart is where the item's own bytes begin: its key, or its value in an
// array.
func (it item) itemStart() int { return it.keyStart }

// scanner is a strict JSON scanner that records byte offsets.
type scanner struct {
	data []byte
	pos  int
}

func syntaxErr(pos int, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrInvalidJSON, fmt.Sprintf(format, args...), pos)
}

// parseDocument scans doc, which must be a single JSON object surrounded by
// nothing but whitespace.
func parseDocument(doc []byte) (*node, error) {
	s := &scanner{data: doc}
	s.skipWS()
	if s.pos >= len(doc) {
		return nil, fmt.Errorf("reading document: %w: document is empty", ErrNotObject)
	}
	if doc[s.pos] != '{' {
		return nil, fmt.Errorf("reading document: %w: it starts with %q", ErrNotObject, doc[s.pos])
	}
	root, err := s.value(1)
	if err != nil {
		return nil, fmt.Errorf("reading document: %w", err)
	}
	s.skipWS()
	if s.pos != len(doc) {
		return nil, fmt.Errorf("reading document: %w: data after the object at offset %d", ErrNotObject, s.pos)
	}
	return root, nil
}

// parseValue scans b, which must be one JSON value of any kind surrounded by
// nothing but whitespace, and returns it with the surrounding whitespace cut.
func parseValue(b []byte) ([]byte, *node, error) {
	s := &scanner{data: b}
	s.skipWS()
	if s.pos >= len(b) {
		return nil, nil, syntaxErr(s.pos, "empty value")
	}
	v, err := s.value(1)
	if err != nil {
		return nil, nil, err
	}
	s.skipWS()
	if s.pos != len(b) {
		return nil, nil, syntaxErr(s.pos, "data after the value")
	}
	return b[v.start:v.end], v, nil
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) skipWS() {
	for s.pos < len(s.data) && isWS(s.data[s.pos]) {
		s.pos++
	}
}

func (s *scanner) value(depth int) (*node, error) {
	if s.pos >= len(s.data) {
		return nil, syntaxErr(s.pos, "unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		start := s.pos
		if _, err := s.str(); err != nil {
			return nil, err
		}
		return &node{kind: kindString, start: start, end: s.pos}, nil
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return nil, syntaxErr(s.pos, "unexpected character %q", c)
	}
}

func (s *scanner) object(depth int) (*node, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: more than %d levels at offset %d", ErrTooDeep, MaxDepth, s.pos)
	}
	n := &node{kind: kindObject, start: s.pos}
	s.pos++ // {
	s.skipWS()
	if s.accept("}") {
		n.end = s.pos
		return n, nil
	}
	var keys keySet
	for {
		it, err := s.memberKey()
		if err != nil {
			return nil, err
		}
		// A duplicate is reported before its value is read.
		if keys.dup(n.items, it.key) {
			return nil, fmt.Errorf("%w %q at offset %d", ErrDuplicateKey, it.key, it.keyStart)
		}
		if it.value, err = s.memberValue(depth); err != nil {
			return nil, err
		}
		n.items = append(n.items, it)
		done, err := s.next('}', "object", "expected ',' or '}' after object member")
		if err != nil {
			return nil, err
		}
		if done {
			n.end = s.pos
			return n, nil
		}
	}
}

// memberKey scans an object member's key.
func (s *scanner) memberKey() (item, error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return item{}, syntaxErr(s.pos, "expected a string key")
	}
	it := item{keyStart: s.pos}
	key, err := s.str()
	if err != nil {
		return item{}, err
	}
	it.key, it.keyEnd = key, s.pos
	return it, nil
}

// memberValue scans the ':' after a key and the value after it.
func (s *scanner) memberValue(depth int) (*node, error) {
	s.skipWS()
	if !s.accept(":") {
		return nil, syntaxErr(s.pos, "expected ':' after object key")
	}
	s.skipWS()
	return s.value(depth + 1)
}

// keySet finds a key seen before in one object: small objects by a linear
// scan of their items, big ones by a set.
type keySet struct{ seen map[string]struct{} }

func (k *keySet) dup(items []item, key string) bool {
	if len(items) < 8 {
		for _, it := range items {
			if it.key == key {
				return true
			}
		}
		return false
	}
	if k.seen == nil {
		k.seen = make(map[string]struct{}, 2*len(items))
		for _, it := range items {
			k.seen[it.key] = struct{}{}
		}
	}
	if _, dup := k.seen[key]; dup {
		return true
	}
	k.seen[key] = struct{}{}
	return false
}

// next scans what follows a member or element of a container: a ',' (and
// the white space after it) when another follows, or the closing byte,
// when done is true. in and msg word the errors.
func (s *scanner) next(closing byte, in, msg string) (done bool, err error) {
	s.skipWS()
	switch {
	case s.pos >= len(s.data):
		return false, syntaxErr(s.pos, "unexpected end of input in %s", in)
	case s.accept(","):
		s.skipWS()
		return false, nil
	case s.data[s.pos] == closing:
		s.pos++
		return true, nil
	}
	return false, syntaxErr(s.pos, "%s", msg)
}

// accept consumes the next byte when it is one of set.
func (s *scanner) accept(set string) bool {
	if s.pos < len(s.data) && strings.IndexByte(set, s.data[s.pos]) >= 0 {
		s.pos++
		return true
	}
	return false
}

// digits consumes a run of decimal digits and returns its length.
func (s *scanner) digits() int {
	start := s.pos
	for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
		s.pos++
	}
	return s.pos - start
}

func (s *scanner) array(depth int) (*node, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: more than %d levels at offset %d", ErrTooDeep, MaxDepth, s.pos)
	}
	n := &node{kind: kindArray, start: s.pos}
	s.pos++ // [
	s.skipWS()
	if s.accept("]") {
		n.end = s.pos
		return n, nil
	}
	for {
		v, err := s.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, item{keyStart: v.start, keyEnd: v.start, value: v})
		done, err := s.next(']', "array", "expected ',' or ']' after array element")
		if err != nil {
			return nil, err
		}
		if done {
			n.end = s.pos
			return n, nil
		}
	}
}

// str scans a string starting at the opening quote and returns its decoded
// value, decoded exactly as encoding/json decodes it.
func (s *scanner) str() (string, error) {
	start := s.pos
	s.pos++ // the opening quote
	// plain: no escapes and only ASCII, so the raw bytes are the value.
	plain := true
	for {
		if s.pos >= len(s.data) {
			return "", syntaxErr(start, "unterminated string")
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			raw := s.data[start:s.pos]
			if plain {
				return string(raw[1 : len(raw)-1]), nil
			}
			return decodeString(raw)
		case c == '\\':
			plain = false
			if s.pos+1 >= len(s.data) {
				return "", syntaxErr(s.pos, "unterminated escape")
			}
			switch s.data[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if s.pos+6 > len(s.data) {
					return "", syntaxErr(s.pos, "short \\u escape")
				}
				for _, h := range s.data[s.pos+2 : s.pos+6] {
					if !isHex(h) {
						return "", syntaxErr(s.pos, "invalid \\u escape")
					}
				}
				s.pos += 6
			default:
				return "", syntaxErr(s.pos, "invalid escape %q", s.data[s.pos+1])
			}
		case c < 0x20:
			return "", syntaxErr(s.pos, "control character %q in string", c)
		default:
			if c >= utf8.RuneSelf {
				plain = false
			}
			s.pos++
		}
	}
}

// decodeString decodes a raw JSON string the way encoding/json does (invalid
// UTF-8 and lone surrogates become U+FFFD), so keys match as Go decoders
// match them.
func decodeString(raw []byte) (string, error) {
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%w: decoding string %s: %v", ErrInvalidJSON, raw, err)
	}
	return v, nil
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (s *scanner) number() (*node, error) {
	start := s.pos
	s.accept("-")
	switch {
	case s.accept("0"):
	case s.pos < len(s.data) && '1' <= s.data[s.pos] && s.data[s.pos] <= '9':
		s.digits()
	default:
		return nil, syntaxErr(s.pos, "invalid number")
	}
	if s.accept(".") && s.digits() == 0 {
		return nil, syntaxErr(s.pos, "invalid number: digit expected after '.'")
	}
	if s.accept("eE") {
		s.accept("+-")
		if s.digits() == 0 {
			return nil, syntaxErr(s.pos, "invalid number: digit expected in exponent")
		}
	}
	return &node{kind: kindNumber, start: start, end: s.pos}, nil
}

func (s *scanner) literal(lit string) (*node, error) {
	start := s.pos
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return nil, syntaxErr(s.pos, "invalid literal, %s expected", lit)
	}
	s.pos += len(lit)
	return &node{kind: kindLiteral, start: start, end: s.pos}, nil
}

// member returns the index of the member with the decoded key, or -1.
func (n *node) member(key string) int {
	for i, it := range n.items {
		if it.key == key {
			return i
		}
	}
	return -1
}
