package action

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/engine"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

func TestOutputsAfterAWrite(t *testing.T) {
	t.Parallel()
	newDigest := v1.Hash{Algorithm: "sha256", Hex: "2222222222222222222222222222222222222222222222222222222222222222"}
	base := engine.Result{
		Source: "r.test/app:1.0", Target: "r.test/app:1.0", TargetRepository: "r.test/app",
		PreviousDigest: "sha256:1111111111111111111111111111111111111111111111111111111111111111", Digest: newDigest.String(),
		Changed: true, After: []platform.Platform{{OS: "linux", Architecture: "amd64"}},
	}
	written := base
	written.Err = &engine.WrittenError{Target: base.Target, Digest: newDigest, Err: errors.New("HEAD /v2/app/manifests/1.0: 500 Internal Server Error")}
	failed := base
	failed.Err = errors.New("pushing manifest: 503 Service Unavailable")
	for _, tc := range []struct {
		name      string
		r         engine.Result
		wantEmpty bool
	}{
		{"written, then the read-back failed", written, false},
		{"failed before the write", failed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Outputs([]engine.Result{tc.r}, nil)
			if err != nil {
				t.Fatal(err)
			}
			delete(got, "results")
			want := map[string]string{
				"digest": base.Digest, "image": "r.test/app@" + base.Digest, "previous-digest": base.PreviousDigest,
				"changed": "true", "platform": "linux/amd64",
			}
			if tc.wantEmpty {
				want = map[string]string{"digest": "", "image": "", "previous-digest": "", "changed": "", "platform": ""}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Outputs(%s) mismatch (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

func TestMarkdownDryRun(t *testing.T) {
	t.Parallel()
	r := engine.Result{Source: "r.test/app:1", PreviousDigest: "sha256:1", Digest: "sha256:2", Changed: true, DryRun: true}
	got := Markdown(&engine.Config{DryRun: true}, &engine.Outcome{Results: []engine.Result{r}})
	for _, want := range []string{"### set-image-platform dry run\n", "Nothing was pushed", "| dry run: would change |"} {
		if !strings.Contains(got, want) {
			t.Errorf("Markdown(dry run) = %q, want it to hold %q", got, want)
		}
	}
}

func TestTrimmed(t *testing.T) {
	t.Parallel()
	keep := func(r engine.ResultJSON) bool { return r.Changed }
	all := []engine.ResultJSON{{Changed: true}, {Changed: false}, {Changed: true}, {Changed: true}}
	tests := []struct {
		name    string
		omitted int
		want    string
	}{
		{"only the unchanged", 1, "the results output holds only the changed and failed images: 1 unchanged images are left out"},
		{"changed ones too", 3, "the results output holds the first 1 of 3 changed or failed images and no unchanged one: 3 left out (2 changed or failed, 1 unchanged)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := trimmed(all, keep, tt.omitted); !strings.HasPrefix(got, tt.want) {
				t.Errorf("trimmed(%d) = %q, want it to start %q", tt.omitted, got, tt.want)
			}
		})
	}
}
