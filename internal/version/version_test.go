package version

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	build := func(v string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Version: v}, Settings: settings}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	tests := []struct {
		name    string
		stamped string
		read    func() (*debug.BuildInfo, bool)
		want    string
	}{
		{"release tag wins", "v1.2.3", build("v0.0.0-2026"), "v1.2.3"},
		{"go install", "", build("v1.4.0"), "v1.4.0"},
		{"branch build", "", build("(devel)", debug.BuildSetting{Key: "vcs.revision", Value: "abc123"}), "(devel) abc123"},
		{"dirty branch build", "", build("(devel)", debug.BuildSetting{Key: "vcs.revision", Value: "abc123"}, debug.BuildSetting{Key: "vcs.modified", Value: "true"}), "(devel) abc123-dirty"},
		{"no vcs", "", build("(devel)"), "(devel)"},
		{"no build info", "", none, "(devel)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := resolve(tt.stamped, tt.read); got != tt.want {
				t.Errorf("resolve(%q) = %q, want %q", tt.stamped, got, tt.want)
			}
		})
	}
}
