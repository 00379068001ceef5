package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

// member is one top-level key of a JSON object with its value's exact bytes.
type member struct {
	Key string
	Raw string
}

// members returns the top-level (key, raw value) pairs of a JSON object in
// document order.
func members(b []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("reading object start: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object: starts with %v", tok)
	}
	var got []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("reading key: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("key is %v, not a string", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("reading value of %q: %w", key, err)
		}
		got = append(got, member{Key: key, Raw: string(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("reading object end: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the object: %v", err)
	}
	return got, nil
}

// mustMembers is members or a fatal error.
func mustMembers(t testing.TB, what string, b []byte) []member {
	t.Helper()
	m, err := members(b)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b)
	}
	return m
}

// platformKeys are the config keys the tool may change.
var platformKeys = map[string]bool{"architecture": true, "os": true, "variant": true, "os.version": true}

// without returns ms minus the members whose key is in drop.
func without(ms []member, drop map[string]bool) []member {
	var got []member
	for _, m := range ms {
		if !drop[m.Key] {
			got = append(got, m)
		}
	}
	return got
}

// value returns the raw value of key, and whether it is there.
func value(ms []member, key string) (string, bool) {
	for _, m := range ms {
		if m.Key == key {
			return m.Raw, true
		}
	}
	return "", false
}

func keys(ms []member) []string {
	var k []string
	for _, m := range ms {
		k = append(k, m.Key)
	}
	return k
}

func TestMembers(t *testing.T) {
	t.Parallel()
	got, err := members([]byte(` {"b" : [1, 2],"a":"x\u0026","c":{"z":1}} `))
	if err != nil {
		t.Fatal(err)
	}
	want := []member{{"b", "[1, 2]"}, {"a", `"x\u0026"`}, {"c", `{"z":1}`}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("members() = %v, want %v", got, want)
	}
	for _, bad := range []string{`[1]`, `{"a":1} {}`, `{"a":}`} {
		if _, err := members([]byte(bad)); err == nil {
			t.Errorf("members(%s) = nil error, want an error", bad)
		}
	}
}
