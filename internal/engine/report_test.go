package engine

import (
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

func TestWrittenErrorText(t *testing.T) {
	t.Parallel()
	d := v1.Hash{Algorithm: "sha256", Hex: "2222222222222222222222222222222222222222222222222222222222222222"}
	held := v1.Hash{Algorithm: "sha256", Hex: "3333333333333333333333333333333333333333333333333333333333333333"}
	cause := errors.New("context canceled")
	for _, tc := range []struct {
		err  *WrittenError
		want string
	}{
		{&WrittenError{Target: "r.test/app:1.0", Digest: d, Err: cause}, "r.test/app:1.0 now points at " + d.String() + "; reading it back failed: context canceled"},
		{&WrittenError{Target: "r.test/app", Digest: d, ByDigest: true, Err: cause}, "r.test/app now holds " + d.String() + "; reading it back failed: context canceled"},
		{&WrittenError{Target: "r.test/app:1.0", Digest: d, Held: held}, "r.test/app:1.0 was written with " + d.String() + " but reads back as " + held.String() + ": another run may have moved the tag since"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("WrittenError.Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestSummaryLine(t *testing.T) {
	t.Parallel()
	amd := []platform.Platform{{OS: "linux", Architecture: "amd64"}}
	none := []platform.Platform{{OS: "linux"}}
	changed := Result{Source: "r.test/app:1", Before: none, After: amd, PreviousDigest: "sha256:1", Digest: "sha256:2", Changed: true}
	same := Result{Source: "r.test/app:1", Before: amd, After: amd, PreviousDigest: "sha256:1", Digest: "sha256:1"}
	dry, drySame := changed, same
	dry.DryRun, drySame.DryRun = true, true
	for _, tc := range []struct {
		name string
		r    Result
		want string
	}{
		{"changed", changed, "r.test/app:1  linux/? -> linux/amd64  sha256:1 -> sha256:2"},
		{"unchanged", same, "r.test/app:1  linux/amd64  sha256:1  unchanged"},
		{"dry run", dry, "dry run: would change r.test/app:1  linux/? -> linux/amd64  sha256:1 -> sha256:2"},
		{"dry run, unchanged", drySame, "dry run: r.test/app:1  linux/amd64  sha256:1  unchanged"},
	} {
		if got := SummaryLine(tc.r); got != tc.want {
			t.Errorf("SummaryLine(%s) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
