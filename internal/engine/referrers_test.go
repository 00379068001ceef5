package engine

import (
	"errors"
	"fmt"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// pushSBOM pushes to path an SBOM artifact whose subject is the manifest
// subject (of size bytes), listed by the subject's fallback tag too, and
// returns its digest.
func pushSBOM(t *testing.T, reg *testRegistry, path string, subject v1.Hash, size int) v1.Hash {
	t.Helper()
	art := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","artifactType":"application/spdx+json","config":%s,"layers":[%s],"subject":{"mediaType":"%s","digest":"%s","size":%d}}`,
		types.OCIManifestSchema1, reg.blob(path, "application/vnd.oci.empty.v1+json", []byte("{}")), reg.blob(path, "application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`)),
		types.OCIManifestSchema1, subject, size))
	d := reg.manifest(path, "", types.OCIManifestSchema1, art)
	idx := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%d,"artifactType":"application/spdx+json"}]}`,
		types.OCIImageIndex, types.OCIManifestSchema1, d, len(art))
	reg.manifest(path, subject.Algorithm+"-"+subject.Hex, types.OCIImageIndex, []byte(idx))
	return d
}

// TestRunReferrerPolicies: fail writes nothing when a referrer would be
// orphaned; carry re-points the SBOM to the new digest, in a dry run only
// saying so.
func TestRunReferrerPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		policy    string
		dryRun    bool
		wantWrite bool
		wantLog   []string
	}{
		{name: "fail", policy: "fail", wantLog: []string{"error: ", "nothing written: the new digest would orphan 1 referrer (1 SBOM"}},
		{name: "carry", policy: "carry", wantWrite: true, wantLog: []string{"notice: ", ": carried 1 referrer of "}},
		{name: "carry, dry run", policy: "carry", dryRun: true, wantLog: []string{"notice: ", "dry run: ", "would carry 1 referrer of "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newTestRegistry(t, nil)
			d, m := reg.image("img", "1", `"architecture":"","os":"linux",`)
			sbom := pushSBOM(t, reg, "img", d, len(m))
			results, rec := run(t, Input{Images: []string{reg.ref("img:1")}, Platform: "linux/amd64", Referrers: tc.policy, DryRun: tc.dryRun})
			r := results[0]
			var oe *OrphanError
			if (tc.policy == "fail") != errors.As(r.Err, &oe) || tc.policy != "fail" && r.Err != nil {
				t.Fatalf("Run(referrers %s) = %v, want an *OrphanError only for fail\n%s", tc.policy, r.Err, rec)
			}
			if len(r.Referrers) != 1 || r.Referrers[0].Digest != sbom {
				t.Errorf("Run(referrers %s) referrers = %v, want the SBOM %s", tc.policy, r.Referrers, sbom)
			}
			held, err := reg.repo("img").HeadManifest(t.Context(), "1", types.OCIManifestSchema1)
			if err != nil {
				t.Fatal(err)
			}
			if written := held != d; written != tc.wantWrite {
				t.Errorf("Run(referrers %s) wrote img:1: %t, want %t", tc.policy, written, tc.wantWrite)
			}
			if !rec.logged(tc.wantLog...) {
				t.Errorf("Run(referrers %s) logged no line with %q:\n%s", tc.policy, tc.wantLog, rec)
			}
		})
	}
}

func TestParseReferrerPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    ReferrerPolicy
		wantErr bool
	}{
		{in: "", want: WarnReferrers},
		{in: " Carry ", want: CarryReferrers},
		{in: "fail", want: FailOnReferrers},
		{in: "move", wantErr: true},
	} {
		got, err := ParseReferrerPolicy(tc.in)
		var ie *InputError
		if got != tc.want || tc.wantErr != errors.As(err, &ie) {
			t.Errorf("ParseReferrerPolicy(%q) = %s, %v, want %s and an *InputError %t", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestOrphanAndCarryErrors(t *testing.T) {
	t.Parallel()
	w := &WrittenError{Target: "r/app", Digest: v1.Hash{Algorithm: "sha256", Hex: "ab"}, ByDigest: true}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{err: &OrphanError{Failed: []error{errors.New("x"), errors.New("y")}}, want: "nothing written: 2 lookups could not be checked (warned above); sign, attest or attach them again after the change"},
		{err: &CarryError{Written: w, Failed: []string{"could not carry 1 referrer"}}, want: "r/app now holds sha256:ab, but referrers: could not carry 1 referrer"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%T.Error() = %q, want %q", tc.err, got, tc.want)
		}
	}
	if !errors.Is(&CarryError{Written: w}, w) {
		t.Errorf("errors.Is(CarryError, its WrittenError) = false, want true: the result keeps what was written")
	}
}
