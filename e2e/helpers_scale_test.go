package e2e

import (
	"flag"
	"os"
	"testing"
)

// atScaleEnv, set to 1, runs the tests that work at the size of a real
// sweep (TestPlanAtScale: 20,000 tags, over a minute of two busy cores).
// The default go test leaves them out so that a change is checked in
// seconds; .ci/run sets it, so the tests still guard every merge.
const atScaleEnv = "SET_IMAGE_PLATFORM_AT_SCALE"

var atScale = flag.Bool("at-scale", os.Getenv(atScaleEnv) == "1", "run the tests at full size (TestPlanAtScale); "+atScaleEnv+"=1 does the same")

// requireAtScale skips t unless -at-scale or SET_IMAGE_PLATFORM_AT_SCALE=1
// asks for the full size, and says how to ask.
func requireAtScale(t *testing.T) {
	t.Helper()
	if !*atScale {
		t.Skipf("at full size only: run with -at-scale or %s=1 (.ci/run does)", atScaleEnv)
	}
}
