package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// pushTags pushes to img the tags 1 and 2 sharing one digest, 3 another,
// all without an architecture, and returns the shared manifest.
func pushTags(t *testing.T, reg *testRegistry) []byte {
	t.Helper()
	_, m := reg.image("img", "1", `"architecture":"","os":"linux",`)
	reg.manifest("img", "2", types.OCIManifestSchema1, m)
	reg.image("img", "3", `"os":"linux",`)
	return m
}

// TestRunPatternPlanThenSet plans a tag pattern, then sets it: the tags
// sharing a digest are one unit of the matrix, worked once and the other
// tag pointed at the result; a check of the pattern then passes.
func TestRunPatternPlanThenSet(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	pushTags(t, reg)
	pattern := reg.ref("img:*")

	cfg, err := NewConfig(Input{Images: []string{pattern}, Platform: "linux/amd64", Mode: Plan, Shards: 2})
	if err != nil {
		t.Fatalf("NewConfig(plan %s) = %v", pattern, err)
	}
	o, err := Run(context.Background(), cfg, Deps{Log: &lines{}, Words: testWords})
	if err != nil {
		t.Fatalf("Run(plan %s) = %v", pattern, err)
	}
	var matrix []string
	if err := json.Unmarshal([]byte(o.Matrix), &matrix); err != nil {
		t.Fatalf("Run(plan %s) matrix %q: %v", pattern, o.Matrix, err)
	}
	want := []string{reg.ref("img:1") + "\n" + reg.ref("img:2"), reg.ref("img:3")}
	if diff := cmp.Diff(want, matrix, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("Run(plan %s) matrix (-want +got):\n%s", pattern, diff)
	}
	if err := o.Failed(); err != nil {
		t.Errorf("Run(plan %s).Failed() = %v, want nil: a plan never fails on its images", pattern, err)
	}

	results, rec := run(t, Input{Images: []string{pattern}, Platform: "linux/amd64"})
	got := map[string]string{}
	for _, r := range results {
		if r.Err != nil || !r.Changed {
			t.Errorf("Run(set %s) %s = changed %t err %v, want changed\n%s", pattern, r.Source, r.Changed, r.Err, rec)
		}
		got[r.Source] = r.Digest
	}
	if got[reg.ref("img:1")] != got[reg.ref("img:2")] || got[reg.ref("img:1")] == got[reg.ref("img:3")] {
		t.Errorf("Run(set %s) digests = %v, want 1 and 2 alike, 3 another", pattern, got)
	}
	for tag, d := range got {
		held, err := reg.repo("img").HeadManifest(context.Background(), tag[strings.LastIndex(tag, ":")+1:], types.OCIManifestSchema1)
		if err != nil || held.String() != d {
			t.Errorf("%s holds %s (err %v), want %s", tag, held, err, d)
		}
	}

	check, rec := run(t, Input{Images: []string{pattern}, Platform: "linux/amd64", Mode: Check})
	for _, r := range check {
		if r.Err != nil || len(r.Findings) > 0 {
			t.Errorf("Run(check %s) %s = findings %q err %v, want it to pass\n%s", pattern, r.Source, r.Findings, r.Err, rec)
		}
	}
}

// TestRunPatternDryRunAndNoMatch: in a dry run a tag sharing the lead's
// digest says what the lead would do; a pattern matching no tag is a bad
// input.
func TestRunPatternDryRunAndNoMatch(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	pushTags(t, reg)
	// A dry run writes nothing: the followers say what the lead would.
	results, rec := run(t, Input{Images: []string{reg.ref("img:*")}, Platform: "linux/amd64", DryRun: true})
	if len(results) != 3 {
		t.Fatalf("Run(dry run) = %d results, want 3\n%s", len(results), rec)
	}
	if results[0].Digest != results[1].Digest || !results[1].DryRun || !results[1].Changed {
		t.Errorf("Run(dry run) follower = %+v, want the lead's digest %s, changed, dry run", results[1], results[0].Digest)
	}
	// A pattern that matches nothing is the input's fault: nothing read.
	cfg, err := NewConfig(Input{Images: []string{reg.ref("img:v*")}, Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), cfg, Deps{Log: &lines{}, Words: testWords})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Input != "image" || ie.Arg == "" {
		t.Errorf("Run(%s) = %v, want an *InputError for the image line", reg.ref("img:v*"), err)
	}
}

// TestResultsJSON: the results output names each image's platform, its
// digests and referrers.
func TestResultsJSON(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	pushTags(t, reg)
	results, _ := run(t, Input{Images: []string{reg.ref("img:1"), reg.ref("missing:1")}, Platform: "linux/amd64", DryRun: true})
	b, err := JSON(results)
	if err != nil {
		t.Fatalf("JSON() = %v", err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("JSON() = %s: %v", b, err)
	}
	if len(got) != 2 || got[0]["platform"] != "linux/amd64" || got[0]["digest"] != results[0].Digest || got[0]["changed"] != true || got[1]["error"] == nil {
		t.Errorf("JSON() = %s, want the first image changed to linux/amd64 with its digest, the second's error", b)
	}
}
