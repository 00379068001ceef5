package patch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// The helpers here check edits with encoding/json alone, independently of
// the scanner under test.

// keyValue is one object member: its decoded key and its raw value bytes.
type keyValue struct {
	Key string
	Raw string
}

// locate returns the byte range of the value at path, found with
// json.Decoder, and whether it exists.
func locate(doc []byte, path Path) (start, end int, ok bool, err error) {
	start, end = 0, len(doc)
	// Trim the whitespace around the document.
	for start < end && isWS(doc[start]) {
		start++
	}
	for end > start && isWS(doc[end-1]) {
		end--
	}
	for _, el := range path {
		raw := doc[start:end]
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil {
			return 0, 0, false, err
		}
		found := false
		for i := 0; dec.More(); i++ {
			var match bool
			switch el := el.(type) {
			case string:
				tok, err := dec.Token()
				if err != nil {
					return 0, 0, false, err
				}
				key, isKey := tok.(string)
				if !isKey {
					return 0, 0, false, fmt.Errorf("key %q into a non-object", el)
				}
				match = key == el
			case int:
				match = i == el
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return 0, 0, false, err
			}
			if match {
				e := int(dec.InputOffset())
				start, end = start+e-len(v), start+e
				found = true
				break
			}
		}
		if !found {
			return 0, 0, false, nil
		}
	}
	return start, end, true, nil
}

// membersOf lists the members of the JSON object raw, in order.
func membersOf(raw []byte) ([]keyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("reading object: token %v, error %v", tok, err)
	}
	var out []keyValue
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, keyValue{Key: tok.(string), Raw: string(v)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("reading object: data after it")
	}
	return out, nil
}

// checkPreserved checks the property every edit must keep: after parses; the
// object at objPath starts at the same offset in both documents, every byte
// before and after it is the same, and its members other than edited are
// the same (key, raw value) pairs in the same order.
func checkPreserved(before, after []byte, objPath Path, edited ...string) error {
	if !json.Valid(after) {
		return fmt.Errorf("result is not valid JSON: %q", after)
	}
	if err := Validate(after); err != nil {
		return fmt.Errorf("result does not validate: %v", err)
	}
	bs, be, ok, err := locate(before, objPath)
	if err != nil || !ok {
		return fmt.Errorf("locating %s in input: found %v, error %v", objPath, ok, err)
	}
	as, ae, ok, err := locate(after, objPath)
	if err != nil || !ok {
		return fmt.Errorf("locating %s in result: found %v, error %v", objPath, ok, err)
	}
	if !bytes.Equal(before[:bs], after[:as]) {
		return fmt.Errorf("bytes before %s changed: %q -> %q", objPath, before[:bs], after[:as])
	}
	if !bytes.Equal(before[be:], after[ae:]) {
		return fmt.Errorf("bytes after %s changed: %q -> %q", objPath, before[be:], after[ae:])
	}
	bm, err := membersOf(before[bs:be])
	if err != nil {
		return fmt.Errorf("reading input members of %s: %v", objPath, err)
	}
	am, err := membersOf(after[as:ae])
	if err != nil {
		return fmt.Errorf("reading result members of %s: %v", objPath, err)
	}
	keep := func(kv keyValue) bool { return !slices.Contains(edited, kv.Key) }
	bm, am = slices.DeleteFunc(bm, func(kv keyValue) bool { return !keep(kv) }), slices.DeleteFunc(am, func(kv keyValue) bool { return !keep(kv) })
	if !slices.Equal(bm, am) {
		return fmt.Errorf("unedited members of %s changed:\n%v\n->\n%v", objPath, bm, am)
	}
	return nil
}
