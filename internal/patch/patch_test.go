package patch

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestApply(t *testing.T) {
	t.Parallel()
	const pretty = "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ],\n  \"c\": {\n    \"d\": true\n  }\n}\n"
	tests := []struct {
		name  string
		doc   string
		edits []Edit
		want  string
	}{
		{"replace compact", `{"a":1,"b":2}`, []Edit{{Path{"b"}, []byte(`3`)}}, `{"a":1,"b":3}`},
		{"replace keeps spacing", `{ "a" : 1 , "b" : 2 }`, []Edit{{Path{"a"}, []byte(`"x"`)}}, `{ "a" : "x" , "b" : 2 }`},
		{"replace value trimmed", `{"a":1}`, []Edit{{Path{"a"}, []byte(" \n{\"x\": 1}\t")}}, `{"a":{"x": 1}}`},
		{"replace object by scalar", pretty, []Edit{{Path{"c"}, []byte(`null`)}}, "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ],\n  \"c\": null\n}\n"},
		{"delete first", `{"a":1,"b":2,"c":3}`, []Edit{{Path: Path{"a"}}}, `{"b":2,"c":3}`},
		{"delete middle", `{"a":1,"b":2,"c":3}`, []Edit{{Path: Path{"b"}}}, `{"a":1,"c":3}`},
		{"delete last", `{"a":1,"b":2,"c":3}`, []Edit{{Path: Path{"c"}}}, `{"a":1,"b":2}`},
		{"delete only", `{"a":1}`, []Edit{{Path: Path{"a"}}}, `{}`},
		{"delete only pretty", "{\n  \"a\": 1\n}", []Edit{{Path: Path{"a"}}}, `{}`},
		{"delete first pretty", pretty, []Edit{{Path: Path{"a"}}}, "{\n  \"b\": [\n    2\n  ],\n  \"c\": {\n    \"d\": true\n  }\n}\n"},
		{"delete middle pretty", pretty, []Edit{{Path: Path{"b"}}}, "{\n  \"a\": 1,\n  \"c\": {\n    \"d\": true\n  }\n}\n"},
		{"delete last pretty", pretty, []Edit{{Path: Path{"c"}}}, "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n"},
		{"delete spaced", `{ "a" : 1 , "b" : 2 }`, []Edit{{Path: Path{"a"}}}, `{ "b" : 2 }`},
		{"delete absent", `{"a":1}`, []Edit{{Path: Path{"z"}}}, `{"a":1}`},
		{"delete crlf", "{\r\n  \"a\": 1,\r\n  \"b\": 2\r\n}\r\n", []Edit{{Path: Path{"b"}}}, "{\r\n  \"a\": 1\r\n}\r\n"},
		{"insert into empty", `{}`, []Edit{{Path{"k"}, []byte(`"v"`)}}, `{"k":"v"}`},
		{"insert into empty spaced", "{ \n }", []Edit{{Path{"k"}, []byte(`"v"`)}}, `{"k":"v"}`},
		{"insert after one compact", `{"a":1}`, []Edit{{Path{"k"}, []byte(`2`)}}, `{"a":1,"k":2}`},
		{"insert after one spaced", `{ "a": 1 }`, []Edit{{Path{"k"}, []byte(`2`)}}, `{ "a": 1, "k": 2 }`},
		{"insert after one pretty", "{\n  \"a\": 1\n}", []Edit{{Path{"k"}, []byte(`2`)}}, "{\n  \"a\": 1,\n  \"k\": 2\n}"},
		{"insert pretty", pretty, []Edit{{Path{"k"}, []byte(`"v"`)}}, "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ],\n  \"c\": {\n    \"d\": true\n  },\n  \"k\": \"v\"\n}\n"},
		{"insert nested pretty", pretty, []Edit{{Path{"c", "e"}, []byte(`false`)}}, "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ],\n  \"c\": {\n    \"d\": true,\n    \"e\": false\n  }\n}\n"},
		{"insert tabs", "{\n\t\"a\":\t1,\n\t\"b\":\t2\n}", []Edit{{Path{"k"}, []byte(`3`)}}, "{\n\t\"a\":\t1,\n\t\"b\":\t2,\n\t\"k\":\t3\n}"},
		{"insert crlf", "{\r\n  \"a\": 1,\r\n  \"b\": 2\r\n}", []Edit{{Path{"k"}, []byte(`3`)}}, "{\r\n  \"a\": 1,\r\n  \"b\": 2,\r\n  \"k\": 3\r\n}"},
		{"insert copies colon of last", `{"a" :1,"b": 2}`, []Edit{{Path{"k"}, []byte(`3`)}}, `{"a" :1,"b": 2,"k": 3}`},
		{"insert key not html escaped", `{}`, []Edit{{Path{"a<b>&"}, []byte(`1`)}}, `{"a<b>&":1}`},
		{"insert key escaped", `{}`, []Edit{{Path{"q\"\\\n\u2028"}, []byte(`1`)}}, `{"q\"\\\n\u2028":1}`},
		{"escaped key matched", `{"os\u002eversion":"1","b":2}`, []Edit{{Path{"os.version"}, []byte(`"2"`)}}, `{"os\u002eversion":"2","b":2}`},
		{"escaped key deleted", `{"a":0,"os\u002eversion":"1"}`, []Edit{{Path: Path{"os.version"}}}, `{"a":0}`},
		{"escaped key equal to plain", `{"\u0061":1}`, []Edit{{Path{"a"}, []byte(`2`)}}, `{"\u0061":2}`},
		{"unicode key", `{"é":1,"\u00e8":2}`, []Edit{{Path{"è"}, []byte(`3`)}}, `{"é":1,"\u00e8":3}`},
		{"numbers untouched", `{"n":1e3,"m":-0,"f":1.5E-7,"z":0}`, []Edit{{Path{"m"}, []byte(`-0.0`)}}, `{"n":1e3,"m":-0.0,"f":1.5E-7,"z":0}`},
		{"strings with escapes untouched", `{"s":"\"\\\/\b\f\n\r\t\u00e9","t":1}`, []Edit{{Path: Path{"t"}}}, `{"s":"\"\\\/\b\f\n\r\t\u00e9"}`},
		{"array replace", `{"a":[1,2,3]}`, []Edit{{Path{"a", 1}, []byte(`"x"`)}}, `{"a":[1,"x",3]}`},
		{"array delete first", `{"a":[1, 2, 3]}`, []Edit{{Path: Path{"a", 0}}}, `{"a":[2, 3]}`},
		{"array delete last", `{"a":[1, 2, 3]}`, []Edit{{Path: Path{"a", 2}}}, `{"a":[1, 2]}`},
		{"array delete only", `{"a":[ 1 ]}`, []Edit{{Path: Path{"a", 0}}}, `{"a":[]}`},
		{"array append", `{"a":[1, 2]}`, []Edit{{Path{"a", 2}, []byte(`3`)}}, `{"a":[1, 2, 3]}`},
		{"array append empty", `{"a":[]}`, []Edit{{Path{"a", 0}, []byte(`3`)}}, `{"a":[3]}`},
		{"object in array", `{"m":[{"x":1},{"y":2}]}`, []Edit{{Path{"m", 1, "z"}, []byte(`3`)}}, `{"m":[{"x":1},{"y":2,"z":3}]}`},
		{"edits in order", `{"a":1,"b":2}`, []Edit{{Path{"c"}, []byte(`3`)}, {Path: Path{"a"}}, {Path{"c"}, []byte(`4`)}}, `{"b":2,"c":4}`},
		{"no edits", " {\"a\":1} \n", nil, " {\"a\":1} \n"},
		{"whitespace around document kept", "\n\t {\"a\":1}\r\n", []Edit{{Path{"a"}, []byte(`2`)}}, "\n\t {\"a\":2}\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := []byte(tt.doc)
			got, err := Apply(doc, tt.edits...)
			if err != nil {
				t.Fatalf("Apply(%q) = error %v, want %q", tt.doc, err, tt.want)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Apply(%q) mismatch (-want +got):\n%s", tt.doc, diff)
			}
			if string(doc) != tt.doc {
				t.Errorf("Apply modified its input: %q", doc)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	t.Parallel()
	// At "a" the value starts at depth 2, so MaxDepth arrays end at 65.
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	tests := []struct {
		name    string
		doc     string
		edits   []Edit
		wantErr error // nil: any error
	}{
		{"invalid value", `{"a":1}`, []Edit{{Path{"a"}, []byte(`{`)}}, ErrInvalidJSON},
		{"empty value", `{"a":1}`, []Edit{{Path{"a"}, []byte(` `)}}, ErrInvalidJSON},
		{"two values", `{"a":1}`, []Edit{{Path{"a"}, []byte(`1 2`)}}, ErrInvalidJSON},
		{"value with duplicate keys", `{"a":1}`, []Edit{{Path{"a"}, []byte(`{"x":1,"x":2}`)}}, ErrDuplicateKey},
		{"value too deep", `{"a":1}`, []Edit{{Path{"a"}, []byte(deep)}}, ErrTooDeep},
		{"missing parent", `{"a":1}`, []Edit{{Path{"b", "c"}, []byte(`1`)}}, ErrNotFound},
		{"index past end", `{"a":[1]}`, []Edit{{Path{"a", 2}, []byte(`1`)}}, ErrNotFound},
		{"negative index", `{"a":[1]}`, []Edit{{Path{"a", -1}, []byte(`1`)}}, nil},
		{"key into array", `{"a":[1]}`, []Edit{{Path{"a", "b"}, []byte(`1`)}}, ErrNotObject},
		{"key through string", `{"a":"s"}`, []Edit{{Path{"a", "b", "c"}, []byte(`1`)}}, nil},
		{"index into object", `{"a":{}}`, []Edit{{Path{"a", 0}, []byte(`1`)}}, nil},
		{"bad path element", `{"a":{}}`, []Edit{{Path{"a", 1.5}, []byte(`1`)}}, nil},
		{"key not utf-8", `{"a":{}}`, []Edit{{Path{"\xff"}, []byte(`1`)}}, nil},
		{"empty path", `{"a":{}}`, []Edit{{Path{}, []byte(`{}`)}}, nil},
		{"invalid document", `{"a":}`, []Edit{{Path{"a"}, []byte(`1`)}}, ErrInvalidJSON},
		{"document not object", `[1]`, []Edit{{Path{0}, []byte(`1`)}}, ErrNotObject},
		{"document with duplicates", `{"a":1,"a":2}`, []Edit{{Path{"b"}, []byte(`1`)}}, ErrDuplicateKey},
		{"later edit fails", `{"a":1}`, []Edit{{Path{"b"}, []byte(`1`)}, {Path{"c", "d"}, []byte(`1`)}}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Apply([]byte(tt.doc), tt.edits...)
			if err == nil {
				t.Fatalf("Apply(%q) = %q, want an error", tt.doc, got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Apply(%q) = error %v, want one wrapping %v", tt.doc, err, tt.wantErr)
			}
		})
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	const doc = `{"a":{"b":[10, {"c":"x"}]},"os\u002eversion":"10.0","n":-1.5e3,"s":"str"}`
	tests := []struct {
		name    string
		path    Path
		want    string
		wantOK  bool
		wantErr bool
	}{
		{"document", nil, doc, true, false},
		{"member", Path{"a"}, `{"b":[10, {"c":"x"}]}`, true, false},
		{"array element", Path{"a", "b", 0}, `10`, true, false},
		{"deep", Path{"a", "b", 1, "c"}, `"x"`, true, false},
		{"escaped key", Path{"os.version"}, `"10.0"`, true, false},
		{"number raw", Path{"n"}, `-1.5e3`, true, false},
		{"missing key", Path{"z"}, "", false, false},
		{"missing below", Path{"z", "y"}, "", false, false},
		{"index past end", Path{"a", "b", 2}, "", false, false},
		{"key through string", Path{"s", "x"}, "", false, true},
		{"index into object", Path{"a", 0}, "", false, true},
		{"key into array", Path{"a", "b", "c"}, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := Get([]byte(doc), tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Get(%s) error = %v, want error %v", tt.path, err, tt.wantErr)
			}
			if string(got) != tt.want || ok != tt.wantOK {
				t.Errorf("Get(%s) = %q, %v, want %q, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	nest := func(n int, open, close string) string {
		return "{\"x\":" + strings.Repeat(open, n-1) + "1" + strings.Repeat(close, n-1) + "}"
	}
	tests := []struct {
		name    string
		doc     string
		wantErr error // nil: valid
		invalid bool  // an error is wanted even if wantErr is nil
	}{
		{"empty object", `{}`, nil, false},
		{"whitespace around", " \t\r\n{ }\r\n ", nil, false},
		{"all kinds", `{"a":[1,-0,1e3,1.5E+2,2e-1,true,false,null,"s",{},[]]}`, nil, false},
		{"escapes", `{"s":"\"\\\/\b\f\n\r\t\u00E9\ud83d\ude00"}`, nil, false},
		{"lone surrogate", `{"s":"\ud800"}`, nil, false},
		{"invalid utf-8 as encoding/json", "{\"s\":\"\xff\"}", nil, false},
		{"raw unicode", `{"ключ":"значение ✓"}`, nil, false},
		{"depth 64 objects", strings.Repeat(`{"a":`, MaxDepth-1) + "{}" + strings.Repeat("}", MaxDepth-1), nil, false},
		{"depth 64 arrays", nest(MaxDepth, "[", "]"), nil, false},
		{"depth 65 objects", strings.Repeat(`{"a":`, MaxDepth) + "{}" + strings.Repeat("}", MaxDepth), ErrTooDeep, true},
		{"depth 65 arrays", nest(MaxDepth+1, "[", "]"), ErrTooDeep, true},
		{"depth 65 mixed", strings.Repeat(`{"a":[`, 33) + strings.Repeat("]}", 33), ErrTooDeep, true},
		{"duplicate key", `{"a":1,"b":2,"a":3}`, ErrDuplicateKey, true},
		{"duplicate through escape", `{"a":1,"\u0061":2}`, ErrDuplicateKey, true},
		{"duplicate nested", `{"x":[{"k":1,"k":1}]}`, ErrDuplicateKey, true},
		{"duplicate in big object", `{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"c":2}`, ErrDuplicateKey, true},
		{"same key in different objects", `{"a":{"a":1},"b":{"a":1}}`, nil, false},
		{"keys differing in case", `{"a":1,"A":2}`, nil, false},
		{"duplicate after utf-8 repair", "{\"\xff\":1,\"\xfe\":2}", ErrDuplicateKey, true},
		{"empty", ``, ErrNotObject, true},
		{"only whitespace", " \n", ErrNotObject, true},
		{"top-level array", `[{"a":1}]`, ErrNotObject, true},
		{"top-level string", `"{}"`, ErrNotObject, true},
		{"top-level number", `1`, ErrNotObject, true},
		{"trailing garbage", `{"a":1} x`, ErrNotObject, true},
		{"two objects", `{}{}`, ErrNotObject, true},
		{"byte order mark", "\ufeff{}", ErrNotObject, true},
		{"unterminated", `{"a":1`, ErrInvalidJSON, true},
		{"trailing comma", `{"a":1,}`, ErrInvalidJSON, true},
		{"trailing comma array", `{"a":[1,]}`, ErrInvalidJSON, true},
		{"missing colon", `{"a" 1}`, ErrInvalidJSON, true},
		{"unquoted key", `{a:1}`, ErrInvalidJSON, true},
		{"single quotes", `{'a':1}`, ErrInvalidJSON, true},
		{"leading zero", `{"a":01}`, ErrInvalidJSON, true},
		{"bare dot", `{"a":1.}`, ErrInvalidJSON, true},
		{"leading dot", `{"a":.5}`, ErrInvalidJSON, true},
		{"plus sign", `{"a":+1}`, ErrInvalidJSON, true},
		{"lone minus", `{"a":-}`, ErrInvalidJSON, true},
		{"empty exponent", `{"a":1e}`, ErrInvalidJSON, true},
		{"NaN", `{"a":NaN}`, ErrInvalidJSON, true},
		{"bad literal", `{"a":tru}`, ErrInvalidJSON, true},
		{"bad escape", `{"a":"\x"}`, ErrInvalidJSON, true},
		{"short unicode escape", `{"a":"\u12"}`, ErrInvalidJSON, true},
		{"control character", "{\"a\":\"\t\"}", ErrInvalidJSON, true},
		{"comment", `{"a":1 /* c */}`, ErrInvalidJSON, true},
		{"vertical tab whitespace", "{\v}", ErrInvalidJSON, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate([]byte(tt.doc))
			if (err != nil) != tt.invalid {
				t.Fatalf("Validate(%q) = %v, want error %v", tt.doc, err, tt.invalid)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate(%q) = %v, want one wrapping %v", tt.doc, err, tt.wantErr)
			}
		})
	}
}

func TestPathString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path Path
		want string
	}{
		{nil, "(document)"},
		{Path{"config"}, "config"},
		{Path{"manifests", 0, "platform"}, "manifests[0].platform"},
		{Path{"os.version"}, `["os.version"]`},
	}
	for _, tt := range tests {
		if got := tt.path.String(); got != tt.want {
			t.Errorf("Path%#v.String() = %q, want %q", []any(tt.path), got, tt.want)
		}
	}
}
