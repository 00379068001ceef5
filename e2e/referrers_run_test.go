package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/referrers"
)

// referrerCase is an image with referrers, pushed to a registry: what a run
// must name in results and in its warnings.
type referrerCase struct {
	ref, old string
	// want are the referrers results must list, in any order.
	want []resultObject
	// words are, per referrer digest, the kind a warning names it by.
	words map[string]string
	fx    referrerFixture
	im    image
}

// pushImageWithReferrers pushes a single image whose platform is missing as
// app:1.0, with every kind of referrer pushReferrers makes.
func pushImageWithReferrers(t *testing.T, reg *testRegistry, fallback bool) referrerCase {
	t.Helper()
	im := buildxImage(t, 1)
	old := reg.push(t, "app:1.0", im)
	fx := pushReferrers(t, reg, "app", old, len(im.manifest()), fallback)
	c := referrerCase{ref: reg.ref("app:1.0"), old: old, fx: fx, im: im, words: map[string]string{}}
	c.add(fx)
	return c
}

// pushIndexWithReferrers pushes an index as app:1.0 whose first child
// changes, with every kind of referrer on that child and a cosign
// signature on the index itself.
func pushIndexWithReferrers(t *testing.T, reg *testRegistry, fallback bool) referrerCase {
	t.Helper()
	idx := buildxIndex(t)
	old := reg.pushIndex(t, "app", "1.0", idx)
	child := idx.children[0].im
	fx := pushReferrers(t, reg, "app", child.manifestDigest(), len(child.manifest()), fallback)
	c := referrerCase{ref: reg.ref("app:1.0"), old: old, fx: fx, words: map[string]string{}}
	c.add(fx)
	sig := reg.push(t, "app:"+referrers.FallbackTag(hashOf(t, old))+".sig", cosignTagImage(simpleSigning, `{"critical":{"of":"the index"}}`))
	c.want = append(c.want, referrerObject(old, sig, ociConfig, referrers.ByCosignTag))
	c.words[sig] = "signature"
	return c
}

// add adds what fx pushed for its subject: not the readme's own signature,
// which refers to the readme.
func (c *referrerCase) add(fx referrerFixture) {
	for _, r := range wantReferrers(fx) {
		c.want = append(c.want, referrerObject(fx.subject, r.Digest, r.ArtifactType, r.FoundBy))
	}
	for d, w := range map[string]string{fx.sig: "signature", fx.att: "attestation", fx.sbom: "SBOM", fx.readme: "other", fx.sigTag: "signature", fx.attTag: "attestation"} {
		c.words[d] = w
	}
}

func referrerObject(subject, digest, artifactType, foundBy string) resultObject {
	return resultObject{"subject": subject, "digest": digest, "mediaType": ociManifest, "artifactType": artifactType, "found-by": foundBy}
}

// expectReferrers fails t unless result lists exactly want, each once.
func expectReferrers(t *testing.T, result resultObject, want []resultObject) {
	t.Helper()
	list, ok := result["referrers"].([]any)
	if !ok {
		t.Fatalf("result %v has no referrers list", result)
	}
	var got []resultObject
	for _, r := range list {
		m, _ := r.(map[string]any)
		got = append(got, m)
	}
	byDigest := func(a, b resultObject) int { return strings.Compare(a["digest"].(string), b["digest"].(string)) }
	want = slices.Clone(want)
	slices.SortFunc(want, byDigest)
	slices.SortFunc(got, byDigest)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results referrers (-want +got):\n%s", diff)
	}
}

// orphanWarnings are the ::warning:: lines that name referrers left behind.
func orphanWarnings(res Result) []string {
	var out []string
	for _, w := range res.commandLines("warning") {
		if strings.Contains(w, "carry over to") {
			out = append(out, w)
		}
	}
	return out
}

// expectNamedInLog fails t unless the log names each digest once, after
// its kind in words.
func expectNamedInLog(t *testing.T, res Result, words map[string]string) {
	t.Helper()
	for d, kind := range words {
		if n := strings.Count(res.Stdout, d); n != 1 {
			t.Errorf("the log names %s %d times, want once:\n%s", d, n, res.Stdout)
		}
		if !strings.Contains(res.Stdout, kind+" "+d) {
			t.Errorf("the log does not call %s a %s:\n%s", d, kind, res.Stdout)
		}
	}
}

func TestRunNamesReferrers(t *testing.T) {
	t.Parallel()
	for _, rr := range referrerRegistries {
		for _, shape := range []struct {
			name, platform string
			push           func(*testing.T, *testRegistry, bool) referrerCase
			// pattern names the image by a tag pattern: the sweep's
			// listing then stands in for the tag look-ups.
			pattern bool
		}{
			{"single image", "linux/amd64", pushImageWithReferrers, false},
			{"single image by tag pattern", "linux/amd64", pushImageWithReferrers, true},
			{"index whose child changes", "", pushIndexWithReferrers, false},
		} {
			t.Run(rr.name+"/"+shape.name, func(t *testing.T) {
				t.Parallel()
				reg := rr.start(t)
				c := shape.push(t, reg, rr.fallback)
				image := c.ref
				if shape.pattern {
					image = strings.TrimSuffix(c.ref, ".0") + ".*"
				}
				res := runAction(t, map[string]string{"image": image, "platform": shape.platform})
				expectExit(t, res, 0)
				expectNoErrors(t, res)
				expectReferrers(t, res.results(t)[0], c.want)
				expectNamedInLog(t, res, c.words)
				newDigest := res.Outputs["digest"]
				all := strings.Join(orphanWarnings(res), "\n")
				if !strings.Contains(all, "cosign sign --key <key> "+reg.ref("app@")) || !strings.Contains(all, "--type https://slsa.dev/provenance/v1") {
					t.Errorf("warnings give no cosign commands for %s:\n%s", newDigest, all)
				}
				if strings.Contains(all, c.fx.readmeSig) {
					t.Errorf("warnings name the readme's own signature %s, which refers to the readme:\n%s", c.fx.readmeSig, all)
				}
				for d := range c.words {
					if !strings.Contains(res.Summary, d) {
						t.Errorf("job summary does not list referrer %s:\n%s", d, res.Summary)
					}
				}
			})
		}
	}
}

func TestRunReferrersFailWritesNothing(t *testing.T) {
	t.Parallel()
	onEachReferrerRegistry(t, func(t *testing.T, rr referrerRegistry, reg *testRegistry) {
		c := pushImageWithReferrers(t, reg, rr.fallback)
		reg.proxy.reset()
		res := runAction(t, map[string]string{"image": c.ref, "platform": "linux/amd64", "referrers": "fail"})
		expectErrorMentions(t, res, "nothing written", "would orphan 6 referrers (2 signatures, 2 attestations, 1 SBOM, 1 other artifact", "`referrers: carry`")
		expectNamedInLog(t, res, c.words)
		expectExit(t, res, 1)
		expectNoWrites(t, reg.proxy)
		expectAt(t, reg, "app:1.0", c.old)
		expectReferrers(t, res.results(t)[0], c.want)
	})
	t.Run("nothing to orphan", func(t *testing.T) {
		t.Parallel()
		reg := newRegistry(t, registryOptions{})
		old := reg.push(t, "app:1.0", buildxImage(t, 1))
		res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "referrers": "fail"})
		expectExit(t, res, 0)
		if reg.digestOf(t, "app:1.0") == old {
			t.Errorf("app:1.0 still at %s: referrers fail refused an image nothing refers to", old)
		}
	})
}

// listedFor reads what refers to subject in repo app of reg, as a client
// does: the referrers API, or the fallback tag.
func listedFor(t *testing.T, reg *testRegistry, subject string, fallback bool) []string {
	t.Helper()
	path := "/v2/app/referrers/" + subject
	if fallback {
		path = "/v2/app/manifests/" + referrers.FallbackTag(hashOf(t, subject))
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+reg.host+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", ociIndex)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s: %s", path, resp.Status, body)
	}
	var idx struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
	var out []string
	for _, m := range idx.Manifests {
		out = append(out, m.Digest)
	}
	return out
}

func TestRunReferrersCarry(t *testing.T) {
	t.Parallel()
	onEachReferrerRegistry(t, func(t *testing.T, rr referrerRegistry, reg *testRegistry) {
		c := pushImageWithReferrers(t, reg, rr.fallback)
		reg.proxy.reset()
		res := runAction(t, map[string]string{"image": c.ref, "platform": "linux/amd64", "referrers": "carry"})
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		newDigest := res.Outputs["digest"]
		newSize := len(reg.get(t, "app@"+newDigest).body)
		carried := strings.Replace(string(c.fx.sbomImage.manifest()), c.old, newDigest, 1)
		carried = strings.Replace(carried, `"size":`+strconv.Itoa(c.fx.subjectSize)+`}`, `"size":`+strconv.Itoa(newSize)+`}`, 1)
		carriedDigest := sha256Digest([]byte(carried))
		if got := listedFor(t, reg, newDigest, rr.fallback); !slices.Equal(got, []string{carriedDigest}) {
			t.Errorf("referrers of the new digest %s = %v, want the carried SBOM %s alone", newDigest, got, carriedDigest)
		}
		// The image's config and manifest, the SBOM, and on a registry
		// without the API the new fallback tag: nothing else.
		var puts []string
		for _, w := range reg.proxy.writes() {
			if w.Method == http.MethodPut && strings.Contains(w.Path, "/manifests/") {
				puts = append(puts, w.Path[strings.LastIndex(w.Path, "/")+1:])
			}
		}
		wantPuts := []string{"1.0", carriedDigest}
		if rr.fallback {
			wantPuts = append(wantPuts, referrers.FallbackTag(hashOf(t, newDigest)))
		}
		slices.Sort(puts)
		slices.Sort(wantPuts)
		if diff := cmp.Diff(wantPuts, puts); diff != "" {
			t.Errorf("manifests written (-want +got):\n%s\nall requests:\n%s", diff, formatRequests(reg.proxy.requests()))
		}
		words := c.words
		delete(words, c.fx.sbom)
		expectNamedInLog(t, res, words)
		if !anyContainsAll(res.commandLines("notice"), []string{"carried 1 referrer of " + c.old + " over to " + newDigest}) || !strings.Contains(res.Stdout, "SBOM "+c.fx.sbom+", now "+carriedDigest) {
			t.Errorf("no notice says the SBOM %s was carried as %s:\n%s", c.fx.sbom, carriedDigest, res.Stdout)
		}
		expectReferrers(t, res.results(t)[0], c.want)
	})
}

func TestRunReferrersLookupFailureWarns(t *testing.T) {
	t.Parallel()
	onEachReferrerRegistry(t, func(t *testing.T, rr referrerRegistry, reg *testRegistry) {
		c := pushImageWithReferrers(t, reg, rr.fallback)
		reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/manifests/"+c.fx.sigTagName) {
				return http.StatusInternalServerError, nil, `{"errors":[{"code":"UNKNOWN","message":"proxy broke"}]}`, true
			}
			return 0, nil, "", false
		})
		res := runAction(t, map[string]string{"image": c.ref, "platform": "linux/amd64"})
		expectExit(t, res, 0)
		expectNoErrors(t, res)
		if !anyContainsAll(res.commandLines("warning"), []string{"could not check cosign tag " + c.fx.sigTagName, "500"}) {
			t.Errorf("no ::warning:: names the cosign tag %s that could not be checked:\n%s", c.fx.sigTagName, res.Stdout)
		}
		want := slices.DeleteFunc(slices.Clone(c.want), func(r resultObject) bool { return r["digest"] == c.fx.sigTag })
		expectReferrers(t, res.results(t)[0], want)
		delete(c.words, c.fx.sigTag)
		expectNamedInLog(t, res, c.words)
	})
}

func TestRunReferrersDryRun(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"warn", "carry"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			c := pushImageWithReferrers(t, reg, true)
			reg.proxy.reset()
			res := runAction(t, map[string]string{"image": c.ref, "platform": "linux/amd64", "referrers": policy, "dry-run": "true"})
			expectExit(t, res, 0)
			expectNoWrites(t, reg.proxy)
			ws := orphanWarnings(res)
			if len(ws) != 1 || !strings.Contains(ws[0], "dry run: ") || !strings.Contains(ws[0], "would not carry over") {
				t.Errorf("warnings = %q, want one saying the referrers would not carry over, in a dry run", ws)
			}
			carried := anyContainsAll(res.commandLines("notice"), []string{"dry run: ", "would carry 1 referrer"}) && strings.Contains(res.Stdout, "  SBOM "+c.fx.sbom)
			if carried != (policy == "carry") {
				t.Errorf("a notice says the SBOM would be carried: %t, want %t:\n%s", carried, policy == "carry", res.Stdout)
			}
			expectReferrers(t, res.results(t)[0], c.want)
		})
	}
}

func TestReferrersInputError(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	reg.push(t, "app:1.0", buildxImage(t, 1))
	t.Run("action", func(t *testing.T) {
		res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "referrers": "keep"})
		expectExit(t, res, 1)
		expectErrorMentions(t, res, "referrers", `"keep"`, "warn, fail or carry")
	})
	t.Run("command line", func(t *testing.T) {
		res := runCLI(t, "--referrers", "keep", "--platform", "linux/amd64", reg.ref("app:1.0"))
		expectExit(t, res, 1)
		if !strings.Contains(res.Stderr, `"keep"`) || !strings.Contains(res.Stderr, "warn, fail or carry") {
			t.Errorf("stderr does not name the bad value and the good ones:\n%s", res.Stderr)
		}
	})
	expectNoRequests(t, reg.proxy)
}

// TestRunReferrerTagsFromOneListing checks that the fallback and cosign
// tags of every digest that changes are looked up in one tag listing of
// the repository, not one request each (4 per digest that changes: 12 for
// an index whose 2 children change).
func TestRunReferrerTagsFromOneListing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		push     func(t *testing.T, reg *testRegistry) string
		platform string
	}{
		{"single image", func(t *testing.T, reg *testRegistry) string {
			reg.push(t, "app:1.0", buildxImage(t, 1))
			return reg.ref("app:1.0")
		}, "linux/amd64"},
		{"index whose 2 children change", func(t *testing.T, reg *testRegistry) string {
			reg.pushIndex(t, "app", "1.0", buildxIndex(t))
			return reg.ref("app:1.0")
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			ref := tc.push(t, reg)
			reg.proxy.reset()
			res := runAction(t, map[string]string{"image": ref, "platform": tc.platform})
			expectExit(t, res, 0)
			var listings, tagLookups, api int
			for _, r := range reg.proxy.requests() {
				switch {
				case strings.HasSuffix(r.Path, "/tags/list"):
					listings++
				case strings.Contains(r.Path, "/manifests/sha256-"):
					tagLookups++
				case strings.Contains(r.Path, "/referrers/"):
					api++
				}
			}
			if listings != 1 || tagLookups != 0 || api != 1 {
				t.Errorf("tag listings, tag look-ups, referrers API requests = %d, %d, %d; want 1, 0, 1:\n%s", listings, tagLookups, api, formatRequests(reg.proxy.requests()))
			}
		})
	}
}

// TestForeignReferrer lists, under the image's fallback tag or from the
// referrers API, an SBOM whose subject is another image: it is not the
// image's, so referrers fail writes all the same, and a notice says the
// registry listed a foreign artifact.
func TestForeignReferrer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		list func(reg *testRegistry, digest string, index []byte) // lists index as the referrers of digest
	}{
		{"fallback tag", func(reg *testRegistry, digest string, index []byte) {
			reg.putManifest(t, "app:"+strings.Replace(digest, ":", "-", 1), index, ociIndex)
		}},
		{"referrers API", func(reg *testRegistry, digest string, index []byte) {
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				return http.StatusOK, http.Header{"Content-Type": {ociIndex}}, string(index), r.URL.Path == "/v2/app/referrers/"+digest
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, old := newAppRegistry(t, registryOptions{}, packImage(t, 1))
			other := reg.push(t, "app:other", packImage(t, 1))
			sbom := ociArtifact(spdxType, spdxType, `{"spdxVersion":"SPDX-2.3"}`, "", other, 100)
			sbomDigest := reg.push(t, "app@"+sbom.manifestDigest(), sbom)
			tc.list(reg, old, fallbackIndex(sbom))
			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "referrers": "fail"})
			expectExit(t, res, 0)
			if got := reg.digestOf(t, "app:1.0"); got == old {
				t.Errorf("app:1.0 not written: still %s", got)
			}
			if !anyContainsAll(res.commandLines("notice"), []string{sbomDigest, "foreign artifact", other}) {
				t.Errorf("no ::notice:: names the foreign artifact %s: %q", sbomDigest, res.commandLines("notice"))
			}
			if got := res.results(t); len(got) != 1 || len(got[0]["referrers"].([]any)) != 0 {
				t.Errorf("results = %v, want one image with no referrers", got)
			}
		})
	}
}

// TestReferrersCarryNotFindable: referrers carry counts an artifact as
// carried only when it can be found from the new digest. A fallback tag
// the registry refuses (400 MANIFEST_INVALID: it takes no OCI index), or
// a referrers API that does not list the pushed artifact, is "could not
// carry", the image fails, and its outputs still say what the tag holds.
func TestReferrersCarryNotFindable(t *testing.T) {
	t.Parallel()
	const emptyList = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`
	for _, tc := range []struct {
		name     string
		start    func(testing.TB) *testRegistry
		fallback bool
		fault    func(old string) faultFunc
		wantIn   []string
	}{{
		name:     "fallback tag refused",
		start:    func(tb testing.TB) *testRegistry { return newRegistry(tb, registryOptions{}) },
		fallback: true,
		fault: func(string) faultFunc {
			return func(r *http.Request) (int, http.Header, string, bool) {
				if isManifestPut(r) && strings.Contains(r.URL.Path, "/manifests/sha256-") {
					return http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}},
						`{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"unsupported manifest media type: application/vnd.oci.image.index.v1+json"}]}`, true
				}
				return 0, nil, "", false
			}
		},
		wantIn: []string{"writing fallback tag sha256-", "MANIFEST_INVALID", "unsupported manifest media type"},
	}, {
		name:  "referrers API does not list it",
		start: newOlaregRegistry,
		fault: func(string) faultFunc {
			// The new digest is that of the manifest put at 1.0; its
			// list comes back empty.
			var written atomic.Value
			return func(r *http.Request) (int, http.Header, string, bool) {
				if isManifestPut(r) && strings.HasSuffix(r.URL.Path, "/manifests/1.0") {
					body, _ := io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(body))
					written.Store(sha256Digest(body))
				}
				if d, ok := written.Load().(string); ok && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/referrers/"+d) {
					return http.StatusOK, http.Header{"Content-Type": {"application/vnd.oci.image.index.v1+json"}}, emptyList, true
				}
				return 0, nil, "", false
			}
		},
		wantIn: []string{"which the referrers API does not list under", "nothing finds it from the new digest"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := tc.start(t)
			c := pushImageWithReferrers(t, reg, tc.fallback)
			reg.proxy.inject(tc.fault(c.old))

			res := runAction(t, map[string]string{"image": c.ref, "platform": "linux/amd64", "referrers": "carry"})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 1)
			newDigest := reg.digestOf(t, "app:1.0")
			msg := expectErrorMentions(t, res, append([]string{"could not carry 1 referrer of " + c.old + " over to " + newDigest}, tc.wantIn...)...)
			if strings.Contains(msg, "could not carry 0") {
				t.Errorf("error %q counts nothing as not carried", msg)
			}
			if anyContainsAll(res.commandLines("notice"), []string{"carried 1 referrer"}) {
				t.Errorf("a notice says the SBOM was carried:\n%s", res.Stdout)
			}
			if newDigest == c.old || res.Outputs["digest"] != newDigest {
				t.Errorf("digest output = %q, app:1.0 = %s (was %s); want the digest written", res.Outputs["digest"], newDigest, c.old)
			}
			result := res.results(t)[0]
			if e, _ := result["error"].(string); !strings.Contains(e, "could not carry 1 referrer") {
				t.Errorf("results error = %q, want it to say the SBOM could not be carried", e)
			}
			expectReferrers(t, result, c.want)
		})
	}
}
