package version

import (
	"runtime/debug"
)

// version is the release tag, stamped by release builds with
//
//	-ldflags "-X github.com/set-image-platform/set-image-platform/internal/version.version=v1.2.3"
//
// Empty in every other build.
var version string

// String returns "set-image-platform <version>": the stamped tag, else the
// module version (a `go install …@vX.Y.Z` binary), else the VCS commit of a
// branch build (with "-dirty" when the tree had changes), else "(devel)".
func String() string { return "set-image-platform " + resolve(version, debug.ReadBuildInfo) }

func resolve(stamped string, read func() (*debug.BuildInfo, bool)) string {
	if stamped != "" {
		return stamped
	}
	bi, ok := read()
	if !ok {
		return "(devel)"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" {
		return "(devel) " + rev + dirty
	}
	return "(devel)"
}
