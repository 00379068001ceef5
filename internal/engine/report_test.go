package engine

import (
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
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
