package action

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
		{"check, platform and overwrite", plan.Fix{Platform: amd, Overwrite: true, Ref: "r"}, "fix it by running this action with `mode: set`, `platform: linux/amd64`, `overwrite: true`"},
		{"check, any platform", plan.Fix{Any: true, Ref: "r"}, "fix it by running this action with `mode: set`, `platform: <os/arch>`"},
		{"check, no platform", plan.Fix{Ref: "r"}, "fix it by running this action with `mode: set`, `platform` empty"},
		{"refusal, auto and overwrite", plan.Fix{Auto: true, Overwrite: true, Why: "to settle it", Otherwise: "fix the image"}, "set `platform: auto` and `overwrite: true` to settle it, or fix the image"},
		{"refusal, no platform", plan.Fix{Clear: true, Why: "to make each child consistent"}, "leave `platform` empty to make each child consistent"},
		{"rebuild", plan.Fix{Rebuild: true}, "rebuild the image for the right platform"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := words.FixText(tt.fix)
			if got != tt.want {
				t.Errorf("words.Fix(%+v) = %q, want %q", tt.fix, got, tt.want)
			}
			if strings.Contains(got, "--") || strings.Contains(got, "set-image-platform") {
				t.Errorf("words.Fix(%+v) = %q, which names the command line", tt.fix, got)
			}
		})
	}
}

// TestWordsHints holds the action's hints to its inputs: none names a flag.
func TestWordsHints(t *testing.T) {
	t.Parallel()
	for h := engine.NoHint + 1; h < engine.HintFix; h++ {
		w := words.Hints.Words(h, "ghcr.io/o/r")
		if w == "" || strings.Contains(w, "--") {
			t.Errorf("words.Hints.Words(%d) = %q, want words that name no flag", h, w)
		}
	}
	for h, want := range map[engine.Hint]string{
		engine.HintInsecure:  "`insecure: true`",
		engine.HintOverwrite: "`overwrite: true`",
		engine.HintLoopback:  "localhost (or any loopback address) is the container itself",
	} {
		if w := words.Hints.Words(h, "localhost:5000/app"); !strings.Contains(w, want) {
			t.Errorf("words.Hints.Words(%d) = %q, want it to hold %q", h, w, want)
		}
	}
}
