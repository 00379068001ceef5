package e2e

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/referrers"
)

// namedReferrer is what a test compares of a found referrer.
type namedReferrer struct {
	Digest, FoundBy, ArtifactType string
}

func named(rs []referrers.Referrer) []namedReferrer {
	out := []namedReferrer{}
	for _, r := range rs {
		out = append(out, namedReferrer{r.Digest.String(), r.FoundBy, r.ArtifactType})
	}
	slices.SortFunc(out, func(a, b namedReferrer) int { return strings.Compare(a.Digest, b.Digest) })
	return out
}

// referrerRegistry is a kind of registry the referrer tests run on.
type referrerRegistry struct {
	name     string
	start    func(testing.TB) *testRegistry
	fallback bool
}

// referrerRegistries are the two kinds of registry: one that serves the
// referrers API and one that does not.
var referrerRegistries = []referrerRegistry{
	{"olareg serves the referrers API", newOlaregRegistry, false},
	{"Distribution has only the fallback tag", func(tb testing.TB) *testRegistry { return newRegistry(tb, registryOptions{}) }, true},
}

// onEachReferrerRegistry runs f in a parallel subtest per kind of
// registry, each on a registry of its own.
func onEachReferrerRegistry(t *testing.T, f func(t *testing.T, rr referrerRegistry, reg *testRegistry)) {
	for _, rr := range referrerRegistries {
		t.Run(rr.name, func(t *testing.T) {
			t.Parallel()
			f(t, rr, rr.start(t))
		})
	}
}

// wantReferrers is what Find must name for fx's subject.
func wantReferrers(fx referrerFixture) []namedReferrer {
	by := referrers.ByReferrersAPI
	if fx.fallback {
		by = referrers.ByFallbackTag
	}
	return []namedReferrer{
		{fx.sig, by, cosignSigType},
		{fx.att, by, inTotoType},
		{fx.sbom, by, spdxType},
		{fx.readme, by, readmeType},
		{fx.sigTag, referrers.ByCosignTag, ociConfig},
		{fx.attTag, referrers.ByCosignTag, ociConfig},
	}
}

func TestFindReferrers(t *testing.T) {
	t.Parallel()
	onEachReferrerRegistry(t, func(t *testing.T, rr referrerRegistry, reg *testRegistry) {
		im := buildxImage(t, 1)
		subject := reg.push(t, "app:1.0", im)
		fx := pushReferrers(t, reg, "app", subject, len(im.manifest()), rr.fallback)
		src := referrerSource(t, reg, "app")
		ctx := context.Background()

		got, err := referrers.Find(ctx, src, hashOf(t, subject))
		if err != nil {
			t.Fatalf("Find(%s) = %v", subject, err)
		}
		want := wantReferrers(fx)
		slices.SortFunc(want, func(a, b namedReferrer) int { return strings.Compare(a.Digest, b.Digest) })
		if diff := cmp.Diff(want, named(got.Referrers)); diff != "" {
			t.Errorf("Find(%s) (-want +got):\n%s", subject, diff)
		}
		if got.API == rr.fallback {
			t.Errorf("Find(%s).API = %t, want %t", subject, got.API, !rr.fallback)
		}
		if !rr.fallback && len(reg.proxy.naming("page=")) == 0 {
			reg.proxy.log(t, "requests")
			t.Errorf("Find(%s) read no second page of the referrers list", subject)
		}
		own, err := referrers.Find(ctx, src, hashOf(t, fx.readme))
		if err != nil {
			t.Fatalf("Find(%s) = %v", fx.readme, err)
		}
		by := referrers.ByReferrersAPI
		if rr.fallback {
			by = referrers.ByFallbackTag
		}
		if diff := cmp.Diff([]namedReferrer{{fx.readmeSig, by, cosignSigType}}, named(own.Referrers)); diff != "" {
			t.Errorf("Find(%s) (-want +got):\n%s", fx.readme, diff)
		}
		for _, w := range reg.proxy.writes() {
			t.Errorf("Find wrote: %s", w)
		}
	})
}

func TestFindReferrersKeepsTheRestWhenALookupFails(t *testing.T) {
	t.Parallel()
	onEachReferrerRegistry(t, func(t *testing.T, rr referrerRegistry, reg *testRegistry) {
		im := buildxImage(t, 1)
		subject := reg.push(t, "app:1.0", im)
		fx := pushReferrers(t, reg, "app", subject, len(im.manifest()), rr.fallback)
		reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/manifests/"+fx.sigTagName) {
				return http.StatusInternalServerError, nil, `{"errors":[{"code":"UNKNOWN","message":"proxy broke"}]}`, true
			}
			return 0, nil, "", false
		})
		got, err := referrers.Find(context.Background(), referrerSource(t, reg, "app"), hashOf(t, subject))
		var ie *referrers.IncompleteError
		if !errors.As(err, &ie) || len(ie.Lookups) != 1 || ie.Lookups[0].What != "cosign tag "+fx.sigTagName {
			t.Fatalf("Find(%s) = %v, want an *IncompleteError naming cosign tag %s alone", subject, err, fx.sigTagName)
		}
		if !strings.Contains(err.Error(), "500") {
			t.Errorf("Find(%s) = %q, want the 500 in it", subject, err)
		}
		want := slices.DeleteFunc(wantReferrers(fx), func(r namedReferrer) bool { return r.Digest == fx.sigTag })
		slices.SortFunc(want, func(a, b namedReferrer) int { return strings.Compare(a.Digest, b.Digest) })
		if diff := cmp.Diff(want, named(got.Referrers)); diff != "" {
			t.Errorf("Find(%s) (-want +got):\n%s", subject, diff)
		}
	})
}

func TestCarryReferrers(t *testing.T) {
	t.Parallel()
	onEachReferrerRegistry(t, func(t *testing.T, rr referrerRegistry, reg *testRegistry) {
		im := buildxImage(t, 1)
		subject := reg.push(t, "app:1.0", im)
		fx := pushReferrers(t, reg, "app", subject, len(im.manifest()), rr.fallback)
		next := im.withConfig([]byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
		newSubject := reg.push(t, "app:1.1", next)
		src := referrerSource(t, reg, "app")
		ctx := context.Background()

		found, err := referrers.Find(ctx, src, hashOf(t, subject))
		if err != nil {
			t.Fatalf("Find(%s) = %v", subject, err)
		}
		var carry []referrers.Referrer
		for _, r := range found.Referrers {
			own, err := referrers.Find(ctx, src, r.Digest)
			if err != nil {
				t.Fatalf("Find(%s) = %v", r.Digest, err)
			}
			if referrers.CanCarry(r, len(own.Referrers) > 0) {
				carry = append(carry, r)
			}
		}
		if len(carry) != 1 || carry[0].Digest.String() != fx.sbom {
			t.Fatalf("CanCarry allows %v, want the SBOM %s alone", named(carry), fx.sbom)
		}
		reg.proxy.reset()
		moved, err := referrers.Carry(ctx, src, carry, hashOf(t, newSubject), int64(len(next.manifest())), found.API)
		if err != nil {
			t.Fatalf("Carry() = %v", err)
		}
		wantBody := strings.Replace(string(fx.sbomImage.manifest()), subject, newSubject, 1)
		wantBody = strings.Replace(wantBody, `"size":`+strconv.Itoa(fx.subjectSize)+`}`, `"size":`+strconv.Itoa(len(next.manifest()))+`}`, 1)
		if diff := cmp.Diff(wantBody, string(moved[0].To.Manifest)); diff != "" {
			t.Errorf("carried SBOM (-want +got):\n%s", diff)
		}
		wantWrites := 1 // the SBOM
		if rr.fallback {
			wantWrites++ // the new fallback tag
		}
		if w := reg.proxy.writes(); len(w) != wantWrites {
			t.Errorf("Carry wrote %d requests, want %d:\n%s", len(w), wantWrites, formatRequests(w))
		}
		after, err := referrers.Find(ctx, src, hashOf(t, newSubject))
		if err != nil {
			t.Fatalf("Find(%s) = %v", newSubject, err)
		}
		by := referrers.ByReferrersAPI
		if rr.fallback {
			by = referrers.ByFallbackTag
		}
		if diff := cmp.Diff([]namedReferrer{{sha256Digest([]byte(wantBody)), by, spdxType}}, named(after.Referrers)); diff != "" {
			t.Errorf("Find(%s) after Carry (-want +got):\n%s", newSubject, diff)
		}
	})
}
