package plan

import (
	"fmt"
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// Fix is what fixes a finding or a refusal, as data: the front door words
// it in its own terms (inputs or flags), so that nothing here names either.
type Fix struct {
	// Platform is the platform to pass; zero with Auto, Any and Clear
	// false means no platform is needed.
	Platform platform.Platform
	// Auto passes platform auto: read it from the binaries.
	Auto bool
	// Any passes a platform the person chooses (os/arch).
	Any bool
	// Clear passes no platform at all.
	Clear bool
	// Overwrite allows replacing a platform that is declared.
	Overwrite bool
	// Rebuild says no run of the tool fixes it: the image is rebuilt.
	Rebuild bool
	// Ref is the image a set run that fixes a check finding names; empty
	// for a refusal, which a run with other inputs fixes.
	Ref string
	// Why says what the inputs do ("to settle it from the binaries"), and
	// Otherwise what else fixes it; either may be empty. Neither names an
	// input.
	Why, Otherwise string
}

// Finding is one thing check mode found wrong with an image or an index
// child.
type Finding struct {
	// Child is the digest of the index child it is about; empty for the
	// image Ref names itself.
	Child string
	// Problem says what is wrong, naming neither the image nor the fix.
	Problem string
	Fix     Fix
}

// RefusalError is a plan refused with what would make it go: the front
// door words Fix.
type RefusalError struct {
	Problem string
	Fix     Fix
}

func (e *RefusalError) Error() string { return e.Problem }

// newFinding is a finding about child ("" for the image itself) fixed by a
// set run on ref with fix.
func newFinding(ref, child, problem string, fix Fix) Finding {
	if !fix.Rebuild {
		fix.Ref = ref
	}
	return Finding{Child: child, Problem: problem, Fix: fix}
}

// fixPlatform is the fix that passes p, or auto when p is zero.
func fixPlatform(p platform.Platform, overwrite bool) Fix {
	return Fix{Platform: p, Auto: p.IsZero(), Overwrite: overwrite}
}

// Subject names what a finding is about: ref, or ref's child.
func (f Finding) Subject(ref string) string {
	if f.Child == "" {
		return ref
	}
	return fmt.Sprintf("%s child %s", ref, f.Child)
}

// children names the children of a refusal: "child D" or "children D, E".
func children(ds []string, sep string) string {
	if len(ds) == 1 {
		return "child " + ds[0]
	}
	return "children " + strings.Join(ds, sep)
}
