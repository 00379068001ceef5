package platform

import "strings"

// archInfo is what makes two architectures interchangeable or not: the
// instruction set family, the word size and the byte order. A suggestion
// never changes any of them: a binary built for one does not run on the
// other, so no suggestion beats such a one.
type archInfo struct {
	family string
	bits   int
	big    bool // big-endian
}

// archInfos describes every architecture in knownPairs; TestArchInfos keeps
// it complete when known.go is regenerated.
var archInfos = map[string]archInfo{
	"386":      {"x86", 32, false},
	"amd64":    {"x86", 64, false},
	"arm":      {"arm", 32, false},
	"arm64":    {"arm", 64, false},
	"loong64":  {"loong", 64, false},
	"mips":     {"mips", 32, true},
	"mipsle":   {"mips", 32, false},
	"mips64":   {"mips", 64, true},
	"mips64le": {"mips", 64, false},
	"ppc64":    {"ppc", 64, true},
	"ppc64le":  {"ppc", 64, false},
	"riscv64":  {"riscv", 64, false},
	"s390x":    {"s390", 64, true},
	"wasm":     {"wasm", 32, false},
}

// familyPrefixes name the family a word starting with the prefix belongs
// to, as people write architectures (uname -m, Debian, vendors).
var familyPrefixes = []struct{ prefix, family string }{
	{"aarch", "arm"}, {"arm", "arm"},
	{"amd", "x86"}, {"x86", "x86"}, {"x64", "x86"}, {"ia32", "x86"},
	{"i386", "x86"}, {"i486", "x86"}, {"i586", "x86"}, {"i686", "x86"}, {"386", "x86"},
	{"ppc", "ppc"}, {"power", "ppc"},
	{"mips", "mips"},
	{"riscv", "riscv"},
	{"s390", "s390"},
	{"loong", "loong"},
	{"wasm", "wasm"},
}

// archHint is what a word that is not an architecture says about the one
// meant; zero fields say nothing.
type archHint struct {
	family  string
	bits    int
	order   int    // 0 unknown, 1 little-endian, 2 big-endian
	variant string // an arm variant spelled in the word, e.g. "v7" in "armv7hl"
}

// hintOf reads what a lower-case word says about the architecture meant.
func hintOf(word string) archHint {
	h := archHint{family: familyOf(word), order: orderOf(word)}
	h.bits = bitsOf(word, h.family)
	if h.family == "arm" {
		h.variant = armVariantIn(word)
		if h.variant != "" && h.variant != "v8" && h.bits == 0 {
			h.bits = 32 // ARMv5 to ARMv7 are 32-bit only
		}
	}
	return h
}

func familyOf(word string) string {
	for _, fp := range familyPrefixes {
		if strings.HasPrefix(word, fp.prefix) {
			return fp.family
		}
	}
	return ""
}

func bitsOf(word, family string) int {
	switch {
	case strings.Contains(word, "64"):
		return 64
	case strings.Contains(word, "32"):
		return 32
	case family == "x86" && strings.HasSuffix(word, "86"):
		return 32 // i386, i586, x86
	case strings.HasPrefix(word, "aarch"):
		return 64
	}
	return 0
}

func orderOf(word string) int {
	switch {
	case strings.HasSuffix(word, "le"), strings.HasSuffix(word, "el"):
		return 1
	case strings.HasSuffix(word, "be"), strings.HasSuffix(word, "eb"):
		return 2
	}
	return 0
}

// armVariantIn returns the arm variant a word spells, "v5" to "v8" as in
// "armv7hl", or "".
func armVariantIn(word string) string {
	if i := strings.Index(word, "v"); i >= 0 && i+1 < len(word) && '5' <= word[i+1] && word[i+1] <= '8' {
		return "v" + word[i+1:i+2]
	}
	return ""
}

// allows reports whether an architecture a, with the variant it stands
// for (an alias's), may be suggested for a word with hint h.
func (h archHint) allows(a, variant string) bool {
	info, ok := archInfos[a]
	switch {
	case !ok:
		return false
	case h.family != "" && h.family != info.family,
		h.bits != 0 && h.bits != info.bits,
		h.order == 1 && info.big, h.order == 2 && !info.big:
		return false
	case h.variant != "" && variant != "" && h.variant != variant:
		return false
	}
	return true
}

// specific reports whether the hint names a family: only then may a word
// far from every name still get a suggestion.
func (h archHint) specific() bool { return h.family != "" }
