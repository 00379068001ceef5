package platform

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Platform is what an image config or an index entry says it runs on.
type Platform struct {
	OS, Architecture, Variant, OSVersion string
}

// String returns the canonical form "os/arch[/variant][:os.version]", or ""
// for the zero Platform. A field that is not a valid name (see Valid), as a
// registry may serve, is quoted the way strconv.Quote does, so that the
// result never holds a control character and cannot pass for another
// platform, or for several.
func (p Platform) String() string {
	if p.IsZero() {
		return ""
	}
	return p.format("")
}

// Display returns the form used in logs: "(none)" when every field is empty,
// otherwise String with an empty OS or architecture shown as "?", e.g.
// "linux/?".
func (p Platform) Display() string {
	if p.IsZero() {
		return "(none)"
	}
	return p.format("?")
}

// format writes p with each field quoted unless valid, and an empty OS or
// architecture written as empty.
func (p Platform) format(empty string) string {
	field := func(v string) string {
		switch {
		case v == "":
			return empty
		case ValidField(v):
			return v
		}
		return strconv.Quote(v)
	}
	s := field(p.OS) + "/" + field(p.Architecture)
	if p.Variant != "" {
		s += "/" + field(p.Variant)
	}
	if p.OSVersion != "" {
		s += ":" + field(p.OSVersion)
	}
	return s
}

// ValidField reports whether v, a non-empty value of a platform field, is a
// valid name: ASCII letters, digits, ".", "_" and "-" only. Every real
// os, architecture, variant and os.version is; anything else read from a
// registry is invalid, whatever it looks like.
func ValidField(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Invalid returns the JSON keys ("os", "architecture", "variant",
// "os.version") of the fields of p that are present but not valid names;
// an empty field is missing, not invalid.
func (p Platform) Invalid() []string {
	var keys []string
	for _, f := range []struct{ key, v string }{
		{"os", p.OS}, {"architecture", p.Architecture}, {"variant", p.Variant}, {"os.version", p.OSVersion},
	} {
		if f.v != "" && !ValidField(f.v) {
			keys = append(keys, f.key)
		}
	}
	return keys
}

// Valid reports whether every present field of p is a valid name.
func (p Platform) Valid() bool { return len(p.Invalid()) == 0 }

// IsZero reports whether every field of p is empty.
func (p Platform) IsZero() bool {
	return p == Platform{}
}

// Complete reports whether p names both an OS and an architecture.
func (p Platform) Complete() bool {
	return p.OS != "" && p.Architecture != ""
}

// Same reports whether a and b name the same platform. An empty variant
// equals the variant it implies: "v8" for arm64 and "v1" for amd64, as
// container runtimes treat them. Every other field must match exactly; for
// arm in particular the variant is not implied, since v6 and v7 binaries
// differ.
func Same(a, b Platform) bool {
	return a.OS == b.OS &&
		a.Architecture == b.Architecture &&
		a.OSVersion == b.OSVersion &&
		impliedVariant(a) == impliedVariant(b)
}

func impliedVariant(p Platform) string {
	if p.Variant != "" {
		return p.Variant
	}
	switch p.Architecture {
	case "arm64":
		return "v8"
	case "amd64":
		return "v1"
	}
	return ""
}

// ParseError is returned by Parse. Suggestion is the closest valid platform,
// e.g. "linux/amd64", or "" when there is none worth naming.
type ParseError struct {
	Input, Reason, Suggestion string
}

// Error returns e.g. `parsing platform "linux/amd65": unknown architecture
// "amd65"; did you mean "linux/amd64"?`.
func (e *ParseError) Error() string {
	msg := fmt.Sprintf("parsing platform %q: %s", e.Input, e.Reason)
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", e.Suggestion)
	}
	return msg
}

// osArch is one os/arch pair Go supports; known.go lists them.
type osArch struct{ os, arch string }

// osAliases and archAliases map the names people commonly use to Go's.
var osAliases = map[string]string{
	"macos": "darwin",
}

type archAlias struct{ arch, variant string }

// archAliases are the names uname -m, Debian and vendors use.
var archAliases = map[string]archAlias{
	"x86_64":   {"amd64", ""},
	"x86-64":   {"amd64", ""},
	"x64":      {"amd64", ""},
	"aarch64":  {"arm64", ""},
	"armhf":    {"arm", "v7"},
	"armv7l":   {"arm", "v7"},
	"armel":    {"arm", "v6"},
	"armv6l":   {"arm", "v6"},
	"i386":     {"386", ""},
	"i686":     {"386", ""},
	"ppc64el":  {"ppc64le", ""},
	"mips64el": {"mips64le", ""},
}

// Parse parses "os/arch[/variant][:os.version]", normalizes the aliases,
// upper case and the variant (see normalizeVariant), and checks that Go
// supports the os/arch pair and that the variant and os.version are valid
// names (see ValidField). The notices say what was normalized, one per
// changed component, for the caller to print. The os.version is kept exactly
// as given. Errors are *ParseError.
func Parse(s string) (p Platform, notices []string, err error) {
	p, notices, perr := parse(s, true)
	if perr != nil {
		return Platform{}, nil, perr
	}
	return p, notices, nil
}

// canonical returns the canonical form of s, or "" when s does not parse.
// It computes no suggestion, so that checking one cannot recurse.
func canonical(s string) string {
	p, _, err := parse(s, false)
	if err != nil {
		return ""
	}
	return p.String()
}

// parse does the work of Parse. Suggestions are computed, lazily, only when
// suggest is set: they parse candidates themselves.
func parse(s string, suggest bool) (Platform, []string, *ParseError) {
	p, notices, f := parseSteps(s)
	if f != nil {
		err := &ParseError{Input: s, Reason: f.reason}
		if suggest && f.suggest != nil {
			err.Suggestion = f.suggest()
		}
		return Platform{}, nil, err
	}
	return p, notices, nil
}

// failure is why a platform does not parse, with its suggestion computed
// only when asked for.
type failure struct {
	reason  string
	suggest func() string
}

// parseSteps runs the steps of parsing in order, each a table of checks or
// a normalization: the text as a whole, its parts, the names, the variant
// and the fields.
func parseSteps(s string) (Platform, []string, *failure) {
	if f := checkText(s); f != nil {
		return Platform{}, nil, f
	}
	fs, f := split(s)
	if f != nil {
		return Platform{}, nil, f
	}
	n := normalizeNames(fs.os, fs.arch)
	if f := checkPair(fs, n); f != nil {
		return Platform{}, nil, f
	}
	variant, notices, f := settleVariant(fs, n)
	if f != nil {
		return Platform{}, nil, f
	}
	return Platform{OS: n.os, Architecture: n.arch, Variant: variant, OSVersion: fs.osVersion}, append(n.notices, notices...), nil
}

// checkText checks the platform text as a whole.
func checkText(s string) *failure {
	// The tables of checks are built where they are used: their
	// suggestions parse, which would make package-level tables an
	// initialization cycle.
	textChecks := []struct {
		bad     func(s string) bool
		reason  string
		suggest func(s string) string
	}{
		{func(s string) bool { return s == "" }, "empty platform, want os/arch[/variant][:os.version]", nil},
		{func(s string) bool { return !utf8.ValidString(s) }, "not valid UTF-8", nil},
		{func(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }, "contains whitespace",
			func(s string) string { return canonical(strings.TrimSpace(s)) }},
		{func(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }, "contains a control character", nil},
	}
	for _, c := range textChecks {
		if !c.bad(s) {
			continue
		}
		f := &failure{reason: c.reason}
		if c.suggest != nil {
			f.suggest = func() string { return c.suggest(s) }
		}
		return f
	}
	return nil
}

// fields are the parts of a platform as given.
type fields struct {
	main                     string // os/arch[/variant], without the os.version
	os, arch, variant        string
	osVersion                string
	hasVariant, hasOSVersion bool
	parts                    int
}

// split cuts s into its parts and checks that each is there.
func split(s string) (fields, *failure) {
	var fs fields
	fs.main, fs.osVersion, fs.hasOSVersion = strings.Cut(s, ":")
	parts := strings.Split(fs.main, "/")
	fs.parts = len(parts)
	if fs.parts > 1 {
		fs.os, fs.arch = parts[0], parts[1]
	}
	if fs.parts == 3 {
		fs.variant, fs.hasVariant = parts[2], true
	}
	for _, c := range partChecks() {
		if c.bad(fs) {
			return fs, c.fail(fs)
		}
	}
	return fs, nil
}

// partCheck is one check of the parts of a platform.
type partCheck struct {
	bad  func(fields) bool
	fail func(fields) *failure
}

// partChecks are the checks of the parts, in order.
func partChecks() []partCheck {
	return []partCheck{
		{func(fs fields) bool { return fs.hasOSVersion && fs.osVersion == "" }, func(fs fields) *failure {
			return &failure{`empty os.version after ":"`, func() string { return canonical(fs.main) }}
		}},
		{func(fs fields) bool { return fs.parts > 3 }, func(fs fields) *failure {
			return &failure{reason: fmt.Sprintf(`too many "/"-separated parts (%d), want os/arch[/variant]`, fs.parts)}
		}},
		{func(fs fields) bool { return fs.parts == 1 && fs.main == "" }, func(fields) *failure {
			return &failure{reason: `missing os/arch before ":"`}
		}},
		{func(fs fields) bool { return fs.parts == 1 }, func(fs fields) *failure {
			reason, suggest := bare(fs.main, fs.osVersion)
			return &failure{reason, suggest}
		}},
		{func(fs fields) bool { return fs.hasVariant && fs.variant == "" }, func(fs fields) *failure {
			return &failure{"empty variant", func() string {
				return canonical(strings.TrimSuffix(fs.main, "/") + versionSuffix(fs.osVersion))
			}}
		}},
		{func(fs fields) bool { return fs.os == "" && fs.arch == "" }, func(fields) *failure {
			return &failure{reason: "empty os and architecture"}
		}},
		{func(fs fields) bool { return fs.os == "" }, func(fs fields) *failure {
			return &failure{"empty os", func() string { return forArch(fs.arch, fs.variant, fs.osVersion) }}
		}},
		{func(fs fields) bool { return fs.arch == "" }, func(fs fields) *failure {
			return &failure{"empty architecture", func() string { return forOS(fs.os, fs.osVersion) }}
		}},
	}
}

// names are the os and architecture normalized: lower case, aliases
// resolved, with the notices that say so.
type names struct {
	os, arch     string
	aliasVariant string // the variant an architecture alias implies
	notices      []string
}

func normalizeNames(goos, goarch string) names {
	n := names{os: lowerASCII(goos), arch: lowerASCII(goarch)}
	if alias, ok := osAliases[n.os]; ok {
		n.os = alias
	}
	if n.os != goos {
		n.notices = append(n.notices, fmt.Sprintf("normalized os %q to %q", goos, n.os))
	}
	if alias, ok := archAliases[n.arch]; ok {
		n.arch, n.aliasVariant = alias.arch, alias.variant
	}
	return n
}

// checkPair checks that Go knows the os, the architecture and the pair.
func checkPair(fs fields, n names) *failure {
	knownOS, knownArch := isOS(n.os), isArch(n.arch)
	var reason string
	switch {
	case !knownOS && !knownArch:
		reason = fmt.Sprintf("unknown os %q and architecture %q", fs.os, fs.arch)
	case !knownOS:
		reason = fmt.Sprintf("unknown os %q", fs.os)
	case !knownArch:
		reason = fmt.Sprintf("unknown architecture %q", fs.arch)
	case !isPair(n.os, n.arch):
		reason = fmt.Sprintf("os/arch pair %q is not one Go supports", n.os+"/"+n.arch)
	default:
		return nil
	}
	return &failure{reason, func() string { return closestPair(n.os, n.arch, fs.variant, fs.osVersion) }}
}

// settleVariant normalizes the variant given, or takes the one an alias
// implies, and checks the variant and os.version are valid names. The
// notices say what was normalized about the architecture and variant.
func settleVariant(fs fields, n names) (string, []string, *failure) {
	var notices []string
	switch {
	case n.aliasVariant != "" && fs.variant == "":
		notices = append(notices, fmt.Sprintf("normalized architecture %q to %q variant %q", fs.arch, n.arch, n.aliasVariant))
	case n.arch != fs.arch:
		notices = append(notices, fmt.Sprintf("normalized architecture %q to %q", fs.arch, n.arch))
	}
	variant := fs.variant
	if v := normalizeVariant(n.arch, variant); v != variant {
		notices = append(notices, fmt.Sprintf("normalized variant %q to %q", variant, v))
		variant = v
	}
	if n.aliasVariant != "" && variant != "" && variant != n.aliasVariant {
		// The explicit variant is the more precise statement (Raspbian's
		// "armhf" is ARMv6, for one), so the suggestion keeps it.
		return "", nil, &failure{
			fmt.Sprintf("architecture %q means %s/%s, which contradicts variant %q", fs.arch, n.arch, n.aliasVariant, variant),
			func() string { return checked(n.os+"/"+n.arch, variant, fs.osVersion) }}
	}
	for _, f := range []struct{ name, v string }{{"variant", variant}, {"os.version", fs.osVersion}} {
		if f.v != "" && !ValidField(f.v) {
			return "", nil, &failure{reason: fmt.Sprintf(`%s %q is not a valid name (letters, digits, ".", "_", "-")`, f.name, f.v)}
		}
	}
	if variant == "" {
		variant = n.aliasVariant
	}
	return variant, notices, nil
}

// normalizeVariant normalizes a variant as containerd does: lower case;
// for arm, "5" to "8" mean "v5" to "v8"; for arm64, "8" and "v8.0" mean
// "v8".
func normalizeVariant(arch, variant string) string {
	v := lowerASCII(variant)
	switch {
	case arch == "arm" && len(v) == 1 && '5' <= v[0] && v[0] <= '8':
		return "v" + v
	case arch == "arm64" && (v == "8" || v == "v8.0"):
		return "v8"
	}
	return v
}

// bare explains a platform without "/" and suggests one: a known
// architecture gets linux, a known os gets its usual architecture, and a
// near miss of either gets the same treatment.
func bare(word, osVersion string) (reason string, suggestion func() string) {
	lw := lowerASCII(word)
	_, isArchAlias := archAliases[lw]
	_, isOSAlias := osAliases[lw]
	switch {
	case isArch(lw) || isArchAlias:
		return "missing os", func() string { return forArch(word, "", osVersion) }
	case isOS(lw) || isOSAlias:
		return "missing architecture", func() string { return forOS(word, osVersion) }
	}
	return fmt.Sprintf("%q is not os/arch[/variant]", word), func() string {
		n := utf8.RuneCountInString(lw)
		if n > maxFuzzyLen {
			return ""
		}
		hint := hintOf(lw)
		best, bestDist, bestIsOS := "", fuzzyBound(lw)+1, false
		if hint.specific() {
			bestDist = n + 1 // any name of the family its spelling tells
		}
		// Architectures first: a bare word is more often one of them, and
		// ties keep the first.
		for _, c := range archWords() {
			a, v := resolveArch(c)
			if d := distance(lw, c); d < bestDist && hint.allows(a, v) {
				best, bestDist, bestIsOS = c, d, false
			}
		}
		bestDist = min(bestDist, fuzzyBound(lw)+1)
		for _, c := range osWords() {
			if d := distance(lw, c); d < bestDist {
				best, bestDist, bestIsOS = c, d, true
			}
		}
		switch {
		case best == "":
			return ""
		case bestIsOS:
			return forOS(best, osVersion)
		}
		return forArch(best, hint.armVariant(best), osVersion)
	}
}

// fuzzyBound is the largest edit distance at which a name is taken for a
// misspelling of word.
func fuzzyBound(word string) int {
	return max(1, utf8.RuneCountInString(word)/3)
}

// resolveArch returns the architecture and variant word stands for: itself,
// or an alias's target.
func resolveArch(word string) (arch, variant string) {
	if a, ok := archAliases[word]; ok {
		return a.arch, a.variant
	}
	return word, ""
}

// armVariant returns the variant the hint spells when archWord stands for
// arm, else "": "armv5" means arm/v5 even when the nearest name is "arm".
func (h archHint) armVariant(archWord string) string {
	if a, _ := resolveArch(lowerASCII(archWord)); a == "arm" {
		return h.variant
	}
	return ""
}

// forArch suggests a platform for an architecture given without an os:
// linux when Go supports it there, else the first os that does.
func forArch(arch, variant, osVersion string) string {
	a, v := resolveArch(lowerASCII(arch))
	if variant == "" {
		variant = v
	}
	if !isArch(a) {
		return closestPair("linux", a, variant, osVersion)
	}
	goos := ""
	for _, p := range knownPairs {
		if p.arch == a && (goos == "" || p.os == "linux") {
			goos = p.os
		}
	}
	return checked(goos+"/"+a, variant, osVersion)
}

// forOS suggests a platform for an os given without an architecture: amd64,
// else arm64, else the first architecture Go supports there.
func forOS(goos, osVersion string) string {
	o := lowerASCII(goos)
	if alias, ok := osAliases[o]; ok {
		o = alias
	}
	if !isOS(o) {
		return closestPair(o, "amd64", "", osVersion)
	}
	arch := ""
	for _, p := range knownPairs {
		if p.os != o {
			continue
		}
		if arch == "" || p.arch == "amd64" || (p.arch == "arm64" && arch != "amd64") {
			arch = p.arch
		}
	}
	return checked(o+"/"+arch, "", osVersion)
}

// maxFuzzyLen bounds the inputs compared by edit distance, which is
// quadratic; no valid name is nearly this long.
const maxFuzzyLen = 64

// closestPair returns the valid platform nearest to goos/goarch (lower
// case, aliases resolved), with variant and osVersion carried over, or ""
// when there is none worth naming. A known os or architecture is kept; an
// unknown os must be a near miss of a valid one. An unknown architecture is
// only replaced by one of the same family, word size and byte order as far
// as its spelling tells (see hintOf), and must be a near miss unless its
// family is plain. Candidates are ranked by edit distance over both parts,
// alias spellings included, preferring linux on ties.
func closestPair(goos, goarch, variant, osVersion string) string {
	if utf8.RuneCountInString(goos)+utf8.RuneCountInString(goarch) > maxFuzzyLen {
		return ""
	}
	q := pairQuery{goos: goos, goarch: goarch, hint: hintOf(goarch)}
	var best candidate
	bestDist, bestArchDist := -1, 0
	for _, c := range candidates() {
		osDist, archDist := distance(goos, c.osText), distance(goarch, c.archText)
		if !q.admits(c, osDist, archDist) {
			continue
		}
		d := osDist + archDist
		if bestDist < 0 || d < bestDist || (d == bestDist && c.os == "linux" && best.os != "linux") {
			best, bestDist, bestArchDist = c, d, archDist
		}
	}
	if bestDist < 0 {
		return ""
	}
	return checked(best.os+"/"+best.arch, q.variant(best, variant, bestArchDist), osVersion)
}

// pairQuery is what closestPair looks for.
type pairQuery struct {
	goos, goarch string
	hint         archHint
}

// admits reports whether candidate c, at the given edit distances, may be
// suggested: a known os or architecture is kept, an unknown os must be a
// near miss, and an unknown architecture keeps its family, word size and
// byte order, and must be a near miss unless its family is plain.
func (q pairQuery) admits(c candidate, osDist, archDist int) bool {
	if isOS(q.goos) {
		if c.os != q.goos {
			return false
		}
	} else if osDist > fuzzyBound(q.goos) {
		return false
	}
	if isArch(q.goarch) {
		return c.arch == q.goarch
	}
	return q.hint.allows(c.arch, c.variant) && (q.hint.specific() || archDist <= fuzzyBound(q.goarch))
}

// variant is the variant of the suggestion: the one given, else the arm
// variant the word spells, else the alias's when the word is a
// misspelling of the alias: "armhg" is armhf, but "aarch32" says no
// variant.
func (q pairQuery) variant(best candidate, given string, archDist int) string {
	switch {
	case given != "":
		return given
	case best.arch == "arm" && q.hint.variant != "":
		return q.hint.variant
	case archDist <= fuzzyBound(q.goarch):
		return best.variant
	}
	return ""
}

// checked formats a suggestion and returns it only if it parses, so that an
// error never suggests another error.
func checked(pair, variant, osVersion string) string {
	s := pair
	if variant != "" {
		s += "/" + variant
	}
	return canonical(s + versionSuffix(osVersion))
}

func versionSuffix(osVersion string) string {
	if osVersion == "" {
		return ""
	}
	return ":" + osVersion
}

// candidate is one spelling of a valid pair a suggestion may be matched
// against, with the platform it stands for.
type candidate struct {
	osText, archText  string
	os, arch, variant string
}

// candidates lists every valid pair, then the same pairs spelled with
// aliases, in a fixed order so that ties resolve the same way every time.
func candidates() []candidate {
	var cs []candidate
	for _, p := range knownPairs {
		cs = append(cs, candidate{osText: p.os, archText: p.arch, os: p.os, arch: p.arch})
	}
	for _, p := range knownPairs {
		for _, alias := range sortedKeys(osAliases) {
			if osAliases[alias] == p.os {
				cs = append(cs, candidate{osText: alias, archText: p.arch, os: p.os, arch: p.arch})
			}
		}
		for _, alias := range sortedKeys(archAliases) {
			if a := archAliases[alias]; a.arch == p.arch {
				cs = append(cs, candidate{osText: p.os, archText: alias, os: p.os, arch: p.arch, variant: a.variant})
			}
		}
	}
	return cs
}

func archWords() []string {
	var ws []string
	for _, p := range knownPairs {
		ws = appendNew(ws, p.arch)
	}
	return append(ws, sortedKeys(archAliases)...)
}

func osWords() []string {
	var ws []string
	for _, p := range knownPairs {
		ws = appendNew(ws, p.os)
	}
	return append(ws, sortedKeys(osAliases)...)
}

func appendNew(ws []string, w string) []string {
	for _, x := range ws {
		if x == w {
			return ws
		}
	}
	return append(ws, w)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func isOS(goos string) bool {
	for _, p := range knownPairs {
		if p.os == goos {
			return true
		}
	}
	return false
}

func isArch(goarch string) bool {
	for _, p := range knownPairs {
		if p.arch == goarch {
			return true
		}
	}
	return false
}

func isPair(goos, goarch string) bool {
	for _, p := range knownPairs {
		if p.os == goos && p.arch == goarch {
			return true
		}
	}
	return false
}

// lowerASCII lowers only ASCII letters: Go's names are ASCII, and Unicode
// case folding could turn a foreign letter into an ASCII one.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// distance is the Levenshtein edit distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
