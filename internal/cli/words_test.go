package cli

import (
	"strings"
	"testing"

	"github.com/set-image-platform/set-image-platform/internal/engine"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

func TestWordsFix(t *testing.T) {
	t.Parallel()
	amd := platform.Platform{OS: "linux", Architecture: "amd64"}
	for _, tt := range []struct {
		name string
		fix  plan.Fix
		want string
	}{
		{"check, platform and overwrite", plan.Fix{Platform: amd, Overwrite: true, Ref: "r"}, "fix it with set-image-platform --platform linux/amd64 --overwrite r"},
		{"check, any platform", plan.Fix{Any: true, Ref: "r"}, "fix it with set-image-platform --platform <os/arch> r"},
		{"check, no platform", plan.Fix{Ref: "r"}, "fix it with set-image-platform r"},
		{"refusal, auto and overwrite", plan.Fix{Auto: true, Overwrite: true, Why: "to settle it", Otherwise: "fix the image"}, "pass --platform auto --overwrite to settle it, or fix the image"},
		{"refusal, no platform", plan.Fix{Clear: true, Why: "to make each child consistent"}, "leave out --platform to make each child consistent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := words.FixText(tt.fix)
			if got != tt.want {
				t.Errorf("words.Fix(%+v) = %q, want %q", tt.fix, got, tt.want)
			}
			if strings.Contains(got, "input") || strings.Contains(got, "`") {
				t.Errorf("words.Fix(%+v) = %q, which names the action's inputs", tt.fix, got)
			}
		})
	}
}

// TestWordsHints holds the command line's hints to its flags: none names
// an input the way the action does.
func TestWordsHints(t *testing.T) {
	t.Parallel()
	for h := engine.NoHint + 1; h < engine.HintFix; h++ {
		if w := words.Hints.Words(h, "ghcr.io/o/r"); w == "" || strings.Contains(w, "set overwrite") || strings.Contains(w, "insecure to") {
			t.Errorf("words.Hints.Words(%d) = %q, want words that name flags", h, w)
		}
	}
	if w := words.Hints.Words(engine.HintInsecure, "r"); !strings.Contains(w, "--insecure") {
		t.Errorf("words.Hints.Words(HintInsecure) = %q, want it to name --insecure", w)
	}
}

func TestFlagName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"tag": "--tag", "platform": "--platform", "password": "--password-stdin", "image": "argument", engine.StallTimeoutEnv: engine.StallTimeoutEnv} {
		if got := flagName(in); got != want {
			t.Errorf("flagName(%q) = %q, want %q", in, got, want)
		}
	}
}
