package sweep

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type tagged struct{ tag, digest string }

func TestByDigest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		items []tagged
		want  []Group[tagged]
	}{
		{"none", nil, nil},
		{"shared and alone, in first-seen order", []tagged{{"v1", "sha256:a"}, {"v2", "sha256:b"}, {"latest", "sha256:a"}, {"v1.0", "sha256:a"}, {"v3", "sha256:c"}}, []Group[tagged]{
			{"sha256:a", []tagged{{"v1", "sha256:a"}, {"latest", "sha256:a"}, {"v1.0", "sha256:a"}}},
			{"sha256:b", []tagged{{"v2", "sha256:b"}}},
			{"sha256:c", []tagged{{"v3", "sha256:c"}}},
		}},
		{"unknown digests stay apart", []tagged{{"x", ""}, {"y", ""}, {"z", "sha256:a"}}, []Group[tagged]{
			{"", []tagged{{"x", ""}}},
			{"", []tagged{{"y", ""}}},
			{"sha256:a", []tagged{{"z", "sha256:a"}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ByDigest(tt.items, func(x tagged) string { return x.digest })
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(tagged{})); diff != "" {
				t.Errorf("ByDigest() (-want +got):\n%s", diff)
			}
		})
	}
}
