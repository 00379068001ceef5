// Package patch edits JSON documents (image configs, image manifests and
// image indexes) byte-faithfully.
//
// A document is never decoded into a struct or a map and encoded again: that
// would drop unknown fields, reorder keys and change the digest of content
// nobody asked to change. Instead a small scanner finds the byte range of each
// value, and edits splice new bytes into those ranges. Every byte outside an
// edited member stays as it was: keys, whitespace, escapes, number spellings
// and the order of members.
//
// Documents are refused unless they are a single JSON object, valid, free of
// duplicate keys (which decoders resolve differently) and nested no deeper
// than MaxDepth.
package patch
