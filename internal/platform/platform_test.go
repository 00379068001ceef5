package platform

import (
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		want        Platform
		wantNotices []string
	}{
		{"linux/amd64", Platform{OS: "linux", Architecture: "amd64"}, nil},
		{"linux/arm64/v8", Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, nil},
		{"linux/arm/v7", Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, nil},
		{"linux/arm/v6", Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, nil},
		{"linux/amd64/v3", Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}, nil},
		{"linux/riscv64", Platform{OS: "linux", Architecture: "riscv64"}, nil},
		{"linux/s390x", Platform{OS: "linux", Architecture: "s390x"}, nil},
		{"linux/ppc64le", Platform{OS: "linux", Architecture: "ppc64le"}, nil},
		{"darwin/arm64", Platform{OS: "darwin", Architecture: "arm64"}, nil},
		{"js/wasm", Platform{OS: "js", Architecture: "wasm"}, nil},
		{"windows/amd64:10.0.17763.6659", Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"}, nil},
		{"windows/arm64/v8:10.0.26100.1", Platform{OS: "windows", Architecture: "arm64", Variant: "v8", OSVersion: "10.0.26100.1"}, nil},
		// A variant that is already normal is kept, even where it is
		// implied.
		{"linux/arm/whatever-1.0", Platform{OS: "linux", Architecture: "arm", Variant: "whatever-1.0"}, nil},
		{"linux/amd64/v1", Platform{OS: "linux", Architecture: "amd64", Variant: "v1"}, nil},
		{"linux/arm/v8", Platform{OS: "linux", Architecture: "arm", Variant: "v8"}, nil},

		// Variants are normalized as containerd does.
		{"linux/arm/V7", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized variant "V7" to "v7"`}},
		{"linux/arm/7", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized variant "7" to "v7"`}},
		{"linux/arm/5", Platform{OS: "linux", Architecture: "arm", Variant: "v5"},
			[]string{`normalized variant "5" to "v5"`}},
		{"linux/arm/8", Platform{OS: "linux", Architecture: "arm", Variant: "v8"},
			[]string{`normalized variant "8" to "v8"`}},
		{"linux/arm64/8", Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
			[]string{`normalized variant "8" to "v8"`}},
		{"linux/arm64/v8.0", Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
			[]string{`normalized variant "v8.0" to "v8"`}},
		{"linux/arm64/V8", Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
			[]string{`normalized variant "V8" to "v8"`}},
		{"linux/AMD64/V3", Platform{OS: "linux", Architecture: "amd64", Variant: "v3"},
			[]string{`normalized architecture "AMD64" to "amd64"`, `normalized variant "V3" to "v3"`}},
		// Digits alone are arm's and arm64's shorthand only.
		{"linux/amd64/3", Platform{OS: "linux", Architecture: "amd64", Variant: "3"}, nil},
		{"linux/arm/9", Platform{OS: "linux", Architecture: "arm", Variant: "9"}, nil},
		{"linux/arm64/v8.2", Platform{OS: "linux", Architecture: "arm64", Variant: "v8.2"}, nil},

		// Aliases.
		{"linux/x86_64", Platform{OS: "linux", Architecture: "amd64"},
			[]string{`normalized architecture "x86_64" to "amd64"`}},
		{"linux/x86-64", Platform{OS: "linux", Architecture: "amd64"},
			[]string{`normalized architecture "x86-64" to "amd64"`}},
		{"linux/aarch64", Platform{OS: "linux", Architecture: "arm64"},
			[]string{`normalized architecture "aarch64" to "arm64"`}},
		{"linux/aarch64/v8", Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
			[]string{`normalized architecture "aarch64" to "arm64"`}},
		{"linux/armhf", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized architecture "armhf" to "arm" variant "v7"`}},
		{"linux/armel", Platform{OS: "linux", Architecture: "arm", Variant: "v6"},
			[]string{`normalized architecture "armel" to "arm" variant "v6"`}},
		{"linux/armhf/v7", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized architecture "armhf" to "arm"`}},
		{"linux/armel/v6", Platform{OS: "linux", Architecture: "arm", Variant: "v6"},
			[]string{`normalized architecture "armel" to "arm"`}},
		{"linux/armhf/V7", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized architecture "armhf" to "arm"`, `normalized variant "V7" to "v7"`}},
		{"linux/armhf/7", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized architecture "armhf" to "arm"`, `normalized variant "7" to "v7"`}},
		{"linux/x64", Platform{OS: "linux", Architecture: "amd64"},
			[]string{`normalized architecture "x64" to "amd64"`}},
		{"linux/armv7l", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized architecture "armv7l" to "arm" variant "v7"`}},
		{"linux/armv6l", Platform{OS: "linux", Architecture: "arm", Variant: "v6"},
			[]string{`normalized architecture "armv6l" to "arm" variant "v6"`}},
		{"linux/ARMV7L/V7", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized architecture "ARMV7L" to "arm"`, `normalized variant "V7" to "v7"`}},
		{"linux/ppc64el", Platform{OS: "linux", Architecture: "ppc64le"},
			[]string{`normalized architecture "ppc64el" to "ppc64le"`}},
		{"linux/mips64el", Platform{OS: "linux", Architecture: "mips64le"},
			[]string{`normalized architecture "mips64el" to "mips64le"`}},
		{"linux/i386", Platform{OS: "linux", Architecture: "386"},
			[]string{`normalized architecture "i386" to "386"`}},
		{"linux/i686", Platform{OS: "linux", Architecture: "386"},
			[]string{`normalized architecture "i686" to "386"`}},
		{"macos/arm64", Platform{OS: "darwin", Architecture: "arm64"},
			[]string{`normalized os "macos" to "darwin"`}},
		{"macos/x86_64", Platform{OS: "darwin", Architecture: "amd64"},
			[]string{`normalized os "macos" to "darwin"`, `normalized architecture "x86_64" to "amd64"`}},
		{"windows/x86_64:10.0.20348.1", Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.1"},
			[]string{`normalized architecture "x86_64" to "amd64"`}},

		// Upper case.
		{"Linux/AMD64", Platform{OS: "linux", Architecture: "amd64"},
			[]string{`normalized os "Linux" to "linux"`, `normalized architecture "AMD64" to "amd64"`}},
		{"LINUX/arm64", Platform{OS: "linux", Architecture: "arm64"},
			[]string{`normalized os "LINUX" to "linux"`}},
		{"linux/X86_64", Platform{OS: "linux", Architecture: "amd64"},
			[]string{`normalized architecture "X86_64" to "amd64"`}},
		{"MacOS/AArch64", Platform{OS: "darwin", Architecture: "arm64"},
			[]string{`normalized os "MacOS" to "darwin"`, `normalized architecture "AArch64" to "arm64"`}},
		{"Linux/ARMHF", Platform{OS: "linux", Architecture: "arm", Variant: "v7"},
			[]string{`normalized os "Linux" to "linux"`, `normalized architecture "ARMHF" to "arm" variant "v7"`}},
		{"Windows/AMD64:10.0.17763.6659", Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"},
			[]string{`normalized os "Windows" to "windows"`, `normalized architecture "AMD64" to "amd64"`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, notices, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error = %v, want nil", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) platform mismatch (-want +got):\n%s", tt.in, diff)
			}
			if diff := cmp.Diff(tt.wantNotices, notices); diff != "" {
				t.Errorf("Parse(%q) notices mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, reason, suggestion string
	}{
		// Unknown values name the closest valid one.
		{"linux/amd65", `unknown architecture "amd65"`, "linux/amd64"},
		{"linus/amd64", `unknown os "linus"`, "linux/amd64"},
		{"linux/amd65/v3", `unknown architecture "amd65"`, "linux/amd64/v3"},
		{"windows/amd65:10.0.17763.6659", `unknown architecture "amd65"`, "windows/amd64:10.0.17763.6659"},
		{"linux/aarch46", `unknown architecture "aarch46"`, "linux/arm64"},
		{"linux/x86_65", `unknown architecture "x86_65"`, "linux/amd64"},
		{"linux/armhg", `unknown architecture "armhg"`, "linux/arm/v7"},
		{"macox/arm64", `unknown os "macox"`, "darwin/arm64"},
		{"Linus/AMD64", `unknown os "Linus"`, "linux/amd64"},
		{"linus/amd65", `unknown os "linus" and architecture "amd65"`, "linux/amd64"},
		// "ppc64" is on aix, linux and openbsd: linux wins the tie.
		{"linx/ppc64", `unknown os "linx"`, "linux/ppc64"},
		// An os far from every one is not guessed.
		{"foo/amd64", `unknown os "foo"`, ""},
		{"lnx/ppc64", `unknown os "lnx"`, ""},
		// Pairs Go does not support: a known os and a known architecture
		// are both kept, so there is nothing to suggest.
		{"windows/s390x", `os/arch pair "windows/s390x" is not one Go supports`, ""},
		{"windows/arm", `os/arch pair "windows/arm" is not one Go supports`, ""},
		{"darwin/386", `os/arch pair "darwin/386" is not one Go supports`, ""},
		{"macos/s390x", `os/arch pair "darwin/s390x" is not one Go supports`, ""},
		{"linux/wasm", `os/arch pair "linux/wasm" is not one Go supports`, ""},
		// An unknown architecture gets one of the same family, word size
		// and byte order as far as its spelling tells, or none.
		{"linux/armv7", `unknown architecture "armv7"`, "linux/arm/v7"},
		{"linux/armv7hl", `unknown architecture "armv7hl"`, "linux/arm/v7"},
		{"linux/armv6hf", `unknown architecture "armv6hf"`, "linux/arm/v6"},
		{"linux/armv5l", `unknown architecture "armv5l"`, "linux/arm/v5"},
		{"linux/armv5tel", `unknown architecture "armv5tel"`, "linux/arm/v5"},
		{"linux/armv8l", `unknown architecture "armv8l"`, "linux/arm/v8"},
		{"linux/aarch32", `unknown architecture "aarch32"`, "linux/arm"},
		{"linux/arm64el", `unknown architecture "arm64el"`, "linux/arm64"},
		{"linux/armbe", `unknown architecture "armbe"`, ""},
		{"linux/x86", `unknown architecture "x86"`, "linux/386"},
		{"linux/i586", `unknown architecture "i586"`, "linux/386"},
		// x32 is amd64 with 32-bit pointers: neither 386 nor amd64.
		{"linux/x32", `unknown architecture "x32"`, ""},
		{"linux/x65", `unknown architecture "x65"`, "linux/amd64"},
		{"linux/ppc64eb", `unknown architecture "ppc64eb"`, "linux/ppc64"},
		{"linux/ppcle", `unknown architecture "ppcle"`, "linux/ppc64le"},
		{"linux/powerpc64le", `unknown architecture "powerpc64le"`, "linux/ppc64le"},
		{"linux/ppc64elf", `unknown architecture "ppc64elf"`, "linux/ppc64le"},
		{"linux/mipsel", `unknown architecture "mipsel"`, "linux/mipsle"},
		{"linux/mips64eb", `unknown architecture "mips64eb"`, "linux/mips64"},
		{"linux/mips64ell", `unknown architecture "mips64ell"`, "linux/mips64le"},
		{"linux/riscv", `unknown architecture "riscv"`, "linux/riscv64"},
		{"linux/loongarch64", `unknown architecture "loongarch64"`, "linux/loong64"},
		{"linux/sparc64", `unknown architecture "sparc64"`, ""},
		{"linux/xyz", `unknown architecture "xyz"`, ""},
		{"linux/amf64", `unknown architecture "amf64"`, "linux/amd64"},

		// Alias and explicit variant that disagree: the explicit one is kept.
		{"linux/armhf/v6", `architecture "armhf" means arm/v7, which contradicts variant "v6"`, "linux/arm/v6"},
		{"linux/armel/v7", `architecture "armel" means arm/v6, which contradicts variant "v7"`, "linux/arm/v7"},
		{"linux/armhf/v8:1.0", `architecture "armhf" means arm/v7, which contradicts variant "v8"`, "linux/arm/v8:1.0"},
		{"linux/armv7l/6", `architecture "armv7l" means arm/v7, which contradicts variant "v6"`, "linux/arm/v6"},

		// A variant or os.version must be a valid name, as it is when a
		// registry serves it back.
		{"linux/amd64:a:b/c", `os.version "a:b/c" is not a valid name (letters, digits, ".", "_", "-")`, ""},
		{"linux/arm/v7+x", `variant "v7+x" is not a valid name (letters, digits, ".", "_", "-")`, ""},
		{"windows/amd64:10.0\u00e9", "os.version \"10.0\u00e9\" is not a valid name (letters, digits, \".\", \"_\", \"-\")", ""},

		// Missing os or architecture.
		{"amd64", "missing os", "linux/amd64"},
		{"arm64", "missing os", "linux/arm64"},
		{"AMD64", "missing os", "linux/amd64"},
		{"x86_64", "missing os", "linux/amd64"},
		{"armhf", "missing os", "linux/arm/v7"},
		{"wasm", "missing os", "js/wasm"},
		{"amd64:10.0.17763.6659", "missing os", "linux/amd64:10.0.17763.6659"},
		{"linux", "missing architecture", "linux/amd64"},
		{"macos", "missing architecture", "darwin/amd64"},
		{"aix", "missing architecture", "aix/ppc64"},
		{"ios", "missing architecture", "ios/amd64"},
		{"amd65", `"amd65" is not os/arch[/variant]`, "linux/amd64"},
		{"linus", `"linus" is not os/arch[/variant]`, "linux/amd64"},
		{"x86", `"x86" is not os/arch[/variant]`, "linux/386"},
		{"armv7", `"armv7" is not os/arch[/variant]`, "linux/arm/v7"},
		{"armv5", `"armv5" is not os/arch[/variant]`, "linux/arm/v5"},
		{"mipsel", `"mipsel" is not os/arch[/variant]`, "linux/mipsle"},
		{"x64", "missing os", "linux/amd64"},
		{"armv7l", "missing os", "linux/arm/v7"},
		{"ppc64el", "missing os", "linux/ppc64le"},
		{"auto", `"auto" is not os/arch[/variant]`, ""},
		{"AUTO", `"AUTO" is not os/arch[/variant]`, ""},
		{"latest", `"latest" is not os/arch[/variant]`, ""},

		// Malformed.
		{"", "empty platform, want os/arch[/variant][:os.version]", ""},
		{"linux/", "empty architecture", "linux/amd64"},
		{"/amd64", "empty os", "linux/amd64"},
		{"/", "empty os and architecture", ""},
		{"linux/amd64/", "empty variant", "linux/amd64"},
		{"linux/amd64/:10.0", "empty variant", "linux/amd64:10.0"},
		{"linux//v7", "empty architecture", "linux/amd64"},
		{"a/b/c/d", `too many "/"-separated parts (4), want os/arch[/variant]`, ""},
		{"linux/arm/v7/extra", `too many "/"-separated parts (4), want os/arch[/variant]`, ""},
		{"linux/amd64:", `empty os.version after ":"`, "linux/amd64"},
		{"linux/amd65:", `empty os.version after ":"`, ""},
		{":10.0", `missing os/arch before ":"`, ""},
		{" linux/amd64", "contains whitespace", "linux/amd64"},
		{"linux/amd64\n", "contains whitespace", "linux/amd64"},
		{"linux/ amd64", "contains whitespace", ""},
		{"windows/amd64:10.0 17763", "contains whitespace", ""},
		{"linux/arm/v\x007", "contains a control character", ""},
		{"linux/arm/\xff", "not valid UTF-8", ""},
		// Go's names are ASCII: a Unicode letter that lowers to one is no
		// alias (U+212A KELVIN SIGN lowers to "k").
		{"linux/\u212Aarm", "unknown architecture \"\u212Aarm\"", "linux/arm"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, notices, err := Parse(tt.in)
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) = %v, %q, %v, want a *ParseError", tt.in, got, notices, err)
			}
			want := &ParseError{Input: tt.in, Reason: tt.reason, Suggestion: tt.suggestion}
			if diff := cmp.Diff(want, perr); diff != "" {
				t.Errorf("Parse(%q) error mismatch (-want +got):\n%s", tt.in, diff)
			}
			if !got.IsZero() || notices != nil {
				t.Errorf("Parse(%q) = %v, %q with an error, want the zero Platform and no notices", tt.in, got, notices)
			}
			if tt.suggestion != "" {
				if _, n, err := Parse(tt.suggestion); err != nil || len(n) != 0 {
					t.Errorf("Parse(%q) = _, %q, %v for the suggestion of %q, want no notices and no error", tt.suggestion, n, err, tt.in)
				}
			}
		})
	}
}

func TestParseErrorError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *ParseError
		want string
	}{
		{
			&ParseError{Input: "linux/amd65", Reason: `unknown architecture "amd65"`, Suggestion: "linux/amd64"},
			`parsing platform "linux/amd65": unknown architecture "amd65"; did you mean "linux/amd64"?`,
		},
		{
			&ParseError{Input: "auto", Reason: `"auto" is not os/arch[/variant]`},
			`parsing platform "auto": "auto" is not os/arch[/variant]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	// What Parse returns reads the same way.
	_, _, err := Parse("linux/amd65")
	if got, want := err.Error(), tests[0].want; got != want {
		t.Errorf(`Parse("linux/amd65") error = %q, want %q`, got, want)
	}
}

func TestStringDisplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p                        Platform
		wantString, wantDisplay  string
		wantIsZero, wantComplete bool
	}{
		{Platform{}, "", "(none)", true, false},
		{Platform{OS: "linux", Architecture: "amd64"}, "linux/amd64", "linux/amd64", false, true},
		{Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, "linux/arm/v7", "linux/arm/v7", false, true},
		{Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"}, "windows/amd64:10.0.17763.6659", "windows/amd64:10.0.17763.6659", false, true},
		{Platform{OS: "windows", Architecture: "arm64", Variant: "v8", OSVersion: "10.0.1"}, "windows/arm64/v8:10.0.1", "windows/arm64/v8:10.0.1", false, true},
		{Platform{OS: "linux"}, "linux/", "linux/?", false, false},
		{Platform{Architecture: "amd64"}, "/amd64", "?/amd64", false, false},
		{Platform{Architecture: "arm", Variant: "v7"}, "/arm/v7", "?/arm/v7", false, false},
		{Platform{OSVersion: "10.0"}, "/:10.0", "?/?:10.0", false, false},
		// Fields that are not valid names, as a registry may serve them,
		// are quoted: no raw control character, no second platform.
		{Platform{OS: "linux", Architecture: "arm64\nlinux/amd64"}, `linux/"arm64\nlinux/amd64"`, `linux/"arm64\nlinux/amd64"`, false, true},
		{Platform{OS: "linux", Architecture: "amd64\r\r## All images passed"}, `linux/"amd64\r\r## All images passed"`, `linux/"amd64\r\r## All images passed"`, false, true},
		{Platform{Architecture: "\x1b[32mamd64"}, `/"\x1b[32mamd64"`, `?/"\x1b[32mamd64"`, false, false},
		{Platform{OS: "linux", Architecture: "arm", Variant: "v7/x"}, `linux/arm/"v7/x"`, `linux/arm/"v7/x"`, false, true},
		{Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0 \u202e1"}, `windows/amd64:"10.0 \u202e1"`, `windows/amd64:"10.0 \u202e1"`, false, true},
		{Platform{OS: "li\xffnux", Architecture: "amd64"}, `"li\xffnux"/amd64`, `"li\xffnux"/amd64`, false, true},
		// A "?" from a registry is not a missing field.
		{Platform{OS: "linux", Architecture: "?"}, `linux/"?"`, `linux/"?"`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.wantDisplay, func(t *testing.T) {
			t.Parallel()
			if got := tt.p.String(); got != tt.wantString {
				t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.wantString)
			}
			if got := tt.p.Display(); got != tt.wantDisplay {
				t.Errorf("%#v.Display() = %q, want %q", tt.p, got, tt.wantDisplay)
			}
			if got := tt.p.IsZero(); got != tt.wantIsZero {
				t.Errorf("%#v.IsZero() = %v, want %v", tt.p, got, tt.wantIsZero)
			}
			if got := tt.p.Complete(); got != tt.wantComplete {
				t.Errorf("%#v.Complete() = %v, want %v", tt.p, got, tt.wantComplete)
			}
		})
	}
}

// TestRoundTrip parses the canonical form of every pair Go supports, with
// and without a variant and os.version.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, k := range knownPairs {
		for _, p := range []Platform{
			{OS: k.os, Architecture: k.arch},
			{OS: k.os, Architecture: k.arch, Variant: "v7"},
			{OS: k.os, Architecture: k.arch, OSVersion: "10.0.17763.6659"},
			{OS: k.os, Architecture: k.arch, Variant: "v8.2", OSVersion: "1.2_3-4"},
		} {
			s := p.String()
			got, notices, err := Parse(s)
			if err != nil || len(notices) != 0 || got != p {
				t.Errorf("Parse(%q) = %#v, %q, %v, want %#v, no notices, no error", s, got, notices, err, p)
			}
			if p.Display() != s {
				t.Errorf("%#v.Display() = %q, want %q", p, p.Display(), s)
			}
		}
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Platform
		want []string
	}{
		{Platform{}, nil},
		{Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, nil},
		{Platform{OS: "Linux", Architecture: "x86_64", Variant: "V8.0", OSVersion: "10.0.17763.6659-x"}, nil},
		{Platform{OS: "linux", Architecture: "arm64\nlinux/amd64"}, []string{"architecture"}},
		{Platform{OS: "linux ", Architecture: "amd64", Variant: "v1\r", OSVersion: "1:2"}, []string{"os", "variant", "os.version"}},
		{Platform{OS: "linux", Architecture: "arm", Variant: "v7/x"}, []string{"variant"}},
		{Platform{OS: "l\u0131nux", Architecture: "amd64"}, []string{"os"}},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			t.Parallel()
			got := tt.p.Invalid()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%#v.Invalid() mismatch (-want +got):\n%s", tt.p, diff)
			}
			if got, want := tt.p.Valid(), len(tt.want) == 0; got != want {
				t.Errorf("%#v.Valid() = %v, want %v", tt.p, got, want)
			}
		})
	}
}

func TestValidField(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    string
		want bool
	}{
		{"amd64", true}, {"x86_64", true}, {"10.0.17763.6659", true}, {"v8-x_Y.0", true},
		{"", false}, {"a b", false}, {"a/b", false}, {"a:b", false}, {"\"", false},
		{"a\nb", false}, {"\x00", false}, {"\xff", false}, {"\u00e9", false}, {"\u200b", false},
	} {
		if got := ValidField(tt.v); got != tt.want {
			t.Errorf("ValidField(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// FuzzDisplay checks that whatever a registry serves in the platform
// fields, String and Display hold printable text only, and change nothing
// of a platform whose fields are valid.
func FuzzDisplay(f *testing.F) {
	f.Add("linux", "amd64", "", "")
	f.Add("linux", "arm64\nlinux/amd64", "v8", "")
	f.Add("", "amd64\r\r## All images passed", "", "")
	f.Add("windows", "amd64", "", "10.0\u202e\x1b[2K")
	f.Add("li\xffnux", "?", "\u2028", "\x00")
	f.Fuzz(func(t *testing.T, goos, arch, variant, osVersion string) {
		p := Platform{OS: goos, Architecture: arch, Variant: variant, OSVersion: osVersion}
		for _, s := range []string{p.String(), p.Display()} {
			if !utf8.ValidString(s) {
				t.Fatalf("%#v formats as %q, not valid UTF-8", p, s)
			}
			for _, r := range s {
				if !strconv.IsPrint(r) {
					t.Fatalf("%#v formats as %q, which holds %U", p, s, r)
				}
			}
		}
		if p.Valid() && !strings.ContainsRune(p.String(), '"') {
			return
		}
		if p.Valid() {
			t.Fatalf("%#v.String() = %q: valid fields quoted", p, p.String())
		}
		if !strings.ContainsRune(p.String(), '"') {
			t.Fatalf("%#v.String() = %q: invalid fields not quoted", p, p.String())
		}
	})
}

// TestArchInfos keeps archInfos complete: every architecture Go supports
// has a family, a word size and a byte order.
func TestArchInfos(t *testing.T) {
	t.Parallel()
	for _, k := range knownPairs {
		if _, ok := archInfos[k.arch]; !ok {
			t.Errorf("archInfos has no entry for %q", k.arch)
		}
	}
	for alias, a := range archAliases {
		if h := hintOf(alias); !h.allows(a.arch, a.variant) {
			t.Errorf("hintOf(%q) = %+v, which does not allow its own target %v", alias, h, a)
		}
	}
}

func TestSame(t *testing.T) {
	t.Parallel()
	linux := func(arch, variant string) Platform {
		return Platform{OS: "linux", Architecture: arch, Variant: variant}
	}
	tests := []struct {
		name string
		a, b Platform
		want bool
	}{
		{"equal", linux("amd64", ""), linux("amd64", ""), true},
		{"zero", Platform{}, Platform{}, true},
		{"arm64 implies v8", linux("arm64", ""), linux("arm64", "v8"), true},
		{"arm64 v8 implied", linux("arm64", "v8"), linux("arm64", ""), true},
		{"arm64 v9", linux("arm64", ""), linux("arm64", "v9"), false},
		{"amd64 implies v1", linux("amd64", ""), linux("amd64", "v1"), true},
		{"amd64 v2", linux("amd64", ""), linux("amd64", "v2"), false},
		{"amd64 v1 is not arm64 v8", linux("amd64", "v1"), linux("arm64", "v8"), false},
		{"arm implies nothing", linux("arm", ""), linux("arm", "v7"), false},
		{"arm v6 v7", linux("arm", "v6"), linux("arm", "v7"), false},
		{"arm v7", linux("arm", "v7"), linux("arm", "v7"), true},
		{"386 with variant", linux("386", ""), linux("386", "v1"), false},
		{"variant case", linux("arm", "V7"), linux("arm", "v7"), false},
		{"arch", linux("amd64", ""), linux("arm64", ""), false},
		{"os", linux("amd64", ""), Platform{OS: "windows", Architecture: "amd64"}, false},
		{"empty arch", linux("", ""), linux("amd64", ""), false},
		{
			"os.version",
			Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"},
			Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"},
			true,
		},
		{
			"os.version differs",
			Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"},
			Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1"},
			false,
		},
		{
			"os.version missing",
			Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.6659"},
			Platform{OS: "windows", Architecture: "amd64"},
			false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Same(tt.a, tt.b); got != tt.want {
				t.Errorf("Same(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := Same(tt.b, tt.a); got != tt.want {
				t.Errorf("Same(%#v, %#v) = %v, want %v", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

// TestKnownPairs fails when known.go and the Go toolchain disagree; run
// "go generate" in this folder to bring the table up to date.
func TestKnownPairs(t *testing.T) {
	t.Parallel()
	// go test puts the running toolchain's bin directory first on PATH.
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found: %v", err)
	}
	out, err := exec.Command(gocmd, "tool", "dist", "list").Output()
	if err != nil {
		t.Fatalf("go tool dist list: %v", err)
	}
	want := strings.Fields(string(out))
	slices.SortFunc(want, func(a, b string) int {
		aos, aarch, _ := strings.Cut(a, "/")
		bos, barch, _ := strings.Cut(b, "/")
		if c := strings.Compare(aos, bos); c != 0 {
			return c
		}
		return strings.Compare(aarch, barch)
	})
	want = slices.Compact(want)
	var got []string
	for _, k := range knownPairs {
		got = append(got, k.os+"/"+k.arch)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("knownPairs differs from go tool dist list (-want +got); run go generate:\n%s", diff)
	}
}

// TestAliasesTargetKnown keeps the alias tables honest: each alias leads to
// a name Go knows and is not itself one.
func TestAliasesTargetKnown(t *testing.T) {
	t.Parallel()
	for alias, a := range archAliases {
		if !isArch(a.arch) || isArch(alias) || isOS(alias) {
			t.Errorf("archAliases[%q] = %v: the alias must be unknown to Go and its target known", alias, a)
		}
	}
	for alias, o := range osAliases {
		if !isOS(o) || isOS(alias) || isArch(alias) {
			t.Errorf("osAliases[%q] = %q: the alias must be unknown to Go and its target known", alias, o)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"linux/amd64", "linux/arm/v7", "windows/amd64:10.0.17763.6659",
		"Linux/X86_64", "linux/armhf/v6", "macos/aarch64", "linus/amd65",
		"amd64", "auto", "a/b/c/d", "linux/amd64:", "/", ":", "linux/arm/V7:1:2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, notices, err := Parse(s)
		if err != nil {
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) error = %T %v, want a *ParseError", s, err, err)
			}
			if perr.Input != s || perr.Reason == "" {
				t.Fatalf("Parse(%q) error = %#v, want Input %q and a Reason", s, perr, s)
			}
			if perr.Suggestion != "" {
				if _, n, err := Parse(perr.Suggestion); err != nil || len(n) != 0 {
					t.Fatalf("Parse(%q) = _, %q, %v for the suggestion of %q, want no notices and no error", perr.Suggestion, n, err, s)
				}
			}
			return
		}
		if !p.Complete() {
			t.Fatalf("Parse(%q) = %#v, want a complete platform", s, p)
		}
		again, n, err := Parse(p.String())
		if err != nil || len(n) != 0 || again != p {
			t.Fatalf("Parse(%q) = %#v, %q, %v, want %#v, no notices, no error", p.String(), again, n, err, p)
		}
		if len(notices) == 0 && p.String() != s {
			t.Fatalf("Parse(%q) = %q without a notice, want the input back", s, p.String())
		}
	})
}
