package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerSchema1      = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	inTotoLayer        = "application/vnd.in-toto+json"
	helmConfig         = "application/vnd.cncf.helm.config.v1+json"
)

// childKind says what an index entry points to.
type childKind int

const (
	imageChild       childKind = iota
	attestationChild           // a buildx attestation manifest
	artifactChild              // a manifest whose config is not an image config
)

// indexChild is one entry of an index fixture and the manifest it points to.
type indexChild struct {
	kind childKind
	im   image
	// platform is what an image child must end with, in config and entry
	// ("linux/arm64/v8"); empty for other children.
	platform string
	// configChanges says whether the child's config lacks platform and so
	// gets a new digest.
	configChanges bool
	// describes is, for an attestation, the entry of the image it was made
	// for.
	describes int
}

// indexFixture is an index whose bytes are fully under the test's control.
type indexFixture struct {
	mediaType string
	children  []indexChild
	body      []byte
}

func (fx indexFixture) digest() string { return sha256Digest(fx.body) }

// platforms is the platform output the fixture must produce: its image
// children's platforms in index order.
func (fx indexFixture) platforms() string {
	var ps []string
	for _, c := range fx.children {
		if c.kind == imageChild {
			ps = append(ps, c.platform)
		}
	}
	return strings.Join(ps, ",")
}

// pushIndex pushes every child by digest, then the index at repo:tag, and
// returns the index digest.
func (r *testRegistry) pushIndex(tb testing.TB, repo, tag string, fx indexFixture) string {
	tb.Helper()
	for _, c := range fx.children {
		r.push(tb, repo+"@"+c.im.manifestDigest(), c.im)
	}
	return r.putManifest(tb, repo+":"+tag, fx.body, fx.mediaType)
}

// indentJSON indents compact JSON as Go's json.MarshalIndent does, which is
// what buildx (two spaces) and docker manifest (three spaces) print.
func indentJSON(tb testing.TB, compact, indent string) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(compact), "", indent); err != nil {
		tb.Fatalf("indenting %s: %v", compact, err)
	}
	return b.Bytes()
}

// renderOCIManifest renders an OCI manifest as buildx pushes it: two-space
// indent, layer annotations kept.
func renderOCIManifest(configType string, layerAnnotations string) func(string, int, []layer) []byte {
	return func(d string, size int, ls []layer) []byte {
		var descs []string
		for _, l := range ls {
			desc := fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d`, l.mediaType, l.digest, len(l.data))
			if layerAnnotations != "" {
				desc += `,"annotations":` + layerAnnotations
			}
			descs = append(descs, desc+"}")
		}
		compact := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[%s]}`,
			ociManifest, configType, d, size, strings.Join(descs, ","))
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(compact), "", "  "); err != nil {
			panic(fmt.Sprintf("indenting a manifest the test rendered: %v", err))
		}
		return b.Bytes()
	}
}

// buildxChild is an image child as `docker buildx build --platform ...`
// pushes it: an indented OCI manifest and a config with sorted keys and
// buildkit's buildinfo. arch is the raw "architecture" member with its
// comma ("" leaves it out), osValue the raw value of "os".
func buildxChild(tb testing.TB, nLayers int, arch, osValue string) image {
	tb.Helper()
	ls := randomLayers(tb, nLayers, ociLayer)
	var hist []string
	for i := range ls {
		hist = append(hist, fmt.Sprintf(`{"created":"2025-03-04T10:21:0%dZ","created_by":"COPY part%d /app/ # buildkit","comment":"buildkit.dockerfile.v0"}`, i%10, i))
	}
	cfg := `{` + arch + `"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/app/server"],"WorkingDir":"/app"},` +
		`"created":"2025-03-04T10:21:07.482Z","history":[` + strings.Join(hist, ",") + `],` +
		`"moby.buildkit.buildinfo.v1":"eyJmcm9udGVuZCI6ImRvY2tlcmZpbGUudjAifQ==",` +
		`"os":` + osValue + `,"rootfs":{"type":"layers","diff_ids":[` + diffIDsJSON(ls) + `]}}`
	return image{
		manifestType: ociManifest,
		config:       newBlob(ociConfig, []byte(cfg)),
		layers:       ls,
		render:       renderOCIManifest(ociConfig, ""),
	}
}

// attestationFor is a buildx provenance attestation manifest for the child
// manifest subject: an OCI manifest whose config says unknown/unknown and
// whose one layer is an in-toto statement.
func attestationFor(tb testing.TB, subject string) image {
	tb.Helper()
	statement := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"name":"pkg:docker/octocat/hello@1.0","digest":{"sha256":%q}}],"predicate":{"builder":{"id":""},"buildType":"https://mobyproject.org/buildkit@v1","metadata":{"buildInvocationID":"%x"}}}`,
		strings.TrimPrefix(subject, "sha256:"), subject[len(subject)-8:])
	l := layer{blob: newBlob(inTotoLayer, []byte(statement))}
	l.diffID = l.digest
	cfg := `{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":["` + l.digest + `"]}}`
	return image{
		manifestType: ociManifest,
		config:       newBlob(ociConfig, []byte(cfg)),
		layers:       []layer{l},
		render:       renderOCIManifest(ociConfig, `{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v0.2"}`),
	}
}

// artifactImage is a manifest that is not an image: its config has the
// media type configType (a Helm chart, an SBOM with the empty config).
func artifactImage(tb testing.TB, configType string, config []byte, layerType string, content []byte) image {
	tb.Helper()
	return image{
		manifestType: ociManifest,
		config:       newBlob(configType, config),
		layers:       []layer{{blob: newBlob(layerType, content)}},
		render: func(d string, size int, ls []layer) []byte {
			return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
				ociManifest, configType, d, size, ls[0].mediaType, ls[0].digest, len(ls[0].data)))
		},
	}
}

// platformObject renders an entry's platform as buildx does.
func platformObject(p string) string {
	parts := strings.Split(p, "/")
	s := fmt.Sprintf(`{"architecture":%q,"os":%q`, parts[1], parts[0])
	if len(parts) == 3 {
		s += fmt.Sprintf(`,"variant":%q`, parts[2])
	}
	return s + "}"
}

// imageEntry renders an image child's entry as buildx does.
func imageEntry(im image, platform string) string {
	return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d,"platform":%s}`,
		im.manifestType, im.manifestDigest(), len(im.manifest()), platformObject(platform))
}

// attestationEntry renders the entry of an attestation made for the child
// manifest subject as buildx does: reference annotations, unknown/unknown.
func attestationEntry(att image, subject string) string {
	return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d,"annotations":{"vnd.docker.reference.digest":%q,"vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":"unknown","os":"unknown"}}`,
		att.manifestType, att.manifestDigest(), len(att.manifest()), subject)
}

// buildxEntries renders the entries of children as buildx does.
func buildxEntries(children []indexChild) string {
	var entries []string
	for _, c := range children {
		switch c.kind {
		case imageChild:
			entries = append(entries, imageEntry(c.im, c.platform))
		case attestationChild:
			entries = append(entries, attestationEntry(c.im, children[c.describes].im.manifestDigest()))
		}
	}
	return strings.Join(entries, ",")
}

// buildxIndexOf renders an OCI index as buildx pushes it: two-space indent,
// index annotations.
func buildxIndexOf(tb testing.TB, children []indexChild) indexFixture {
	tb.Helper()
	compact := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s],"annotations":{"org.opencontainers.image.created":"2025-03-04T10:21:07Z","org.opencontainers.image.description":"Example server"}}`,
		ociIndex, buildxEntries(children))
	return indexFixture{mediaType: ociIndex, children: children, body: indentJSON(tb, compact, "  ")}
}

// buildxIndex is fixture 1: what `docker buildx build --platform
// linux/amd64,linux/arm64 --provenance=true --push` leaves, two image
// children whose configs lack the architecture their entries carry
// (one has "architecture":"", the other no such key and "os":""), and an
// attestation manifest for each.
func buildxIndex(t *testing.T) indexFixture {
	t.Helper()
	amd := buildxChild(t, 2, `"architecture":"",`, `"linux"`)
	arm := buildxChild(t, 3, "", `""`)
	return buildxIndexOf(t, []indexChild{
		{kind: imageChild, im: amd, platform: "linux/amd64", configChanges: true},
		{kind: imageChild, im: arm, platform: "linux/arm64/v8", configChanges: true},
		{kind: attestationChild, im: attestationFor(t, amd.manifestDigest()), describes: 0},
		{kind: attestationChild, im: attestationFor(t, arm.manifestDigest()), describes: 1},
	})
}

// manifestList is fixture 2: a Docker manifest list as `docker manifest
// create` makes it from two single images whose configs have an empty
// architecture, with entries annotated by `docker manifest annotate`
// (linux/arm/v7, linux/amd64); three-space indent.
func manifestList(t *testing.T) indexFixture {
	t.Helper()
	children := []indexChild{
		{kind: imageChild, im: packImage(t, 2), platform: "linux/arm/v7", configChanges: true},
		{kind: imageChild, im: packImage(t, 1), platform: "linux/amd64", configChanges: true},
	}
	var entries []string
	for _, c := range children {
		entries = append(entries, fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q,"platform":%s}`,
			c.im.manifestType, len(c.im.manifest()), c.im.manifestDigest(), platformObject(c.platform)))
	}
	compact := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s]}`, dockerManifestList, strings.Join(entries, ","))
	return indexFixture{mediaType: dockerManifestList, children: children, body: indentJSON(t, compact, "   ")}
}

// entriesWithoutPlatform is fixture 3: a compact OCI index (as `crane index
// append` writes) whose entries carry no platform while the child configs
// do, with an SBOM artifact between the images and an annotated entry.
func entriesWithoutPlatform(t *testing.T) indexFixture {
	t.Helper()
	sbom := artifactImage(t, "application/vnd.oci.empty.v1+json", []byte("{}"), "application/spdx+json",
		[]byte(`{"spdxVersion":"SPDX-2.3","name":"hello","packages":[]}`))
	children := []indexChild{
		{kind: imageChild, im: packImageWith(t, 1, `"architecture":"amd64"`), platform: "linux/amd64"},
		{kind: artifactChild, im: sbom},
		{kind: imageChild, im: packImageWith(t, 2, `"architecture":"arm64","variant":"v8"`), platform: "linux/arm64/v8"},
	}
	entries := []string{
		fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q,"annotations":{"org.opencontainers.image.ref.name":"1.0-amd64"}}`,
			dockerManifest, len(children[0].im.manifest()), children[0].im.manifestDigest()),
		fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q,"artifactType":"application/spdx+json"}`,
			ociManifest, len(sbom.manifest()), sbom.manifestDigest()),
		fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q}`,
			dockerManifest, len(children[2].im.manifest()), children[2].im.manifestDigest()),
	}
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s],"annotations":{"org.opencontainers.image.source":"https://github.com/octocat/hello"}}`,
		ociIndex, strings.Join(entries, ","))
	return indexFixture{mediaType: ociIndex, children: children, body: []byte(body)}
}

// indexParts returns the exact bytes of each entry of an index's
// "manifests" array, and the index with each entry replaced by a marker.
func indexParts(t *testing.T, body []byte) (skeleton string, entries [][]byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	fail := func(err error) {
		t.Helper()
		t.Fatalf("splitting index into entries: %v\n%s", err, body)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		fail(fmt.Errorf("not an object: %v %v", tok, err))
	}
	type span struct{ start, end int }
	var spans []span
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			fail(err)
		}
		if key != "manifests" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				fail(err)
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			fail(fmt.Errorf("manifests is not an array: %v %v", tok, err))
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				fail(err)
			}
			end := int(dec.InputOffset())
			start := end - len(raw)
			if !bytes.Equal(body[start:end], raw) {
				fail(fmt.Errorf("entry %d not found at %d..%d", len(spans), start, end))
			}
			spans = append(spans, span{start, end})
		}
		if _, err := dec.Token(); err != nil {
			fail(err)
		}
	}
	var b strings.Builder
	prev := 0
	for i, s := range spans {
		b.Write(body[prev:s.start])
		fmt.Fprintf(&b, "<entry %d>", i)
		entries = append(entries, body[s.start:s.end])
		prev = s.end
	}
	b.Write(body[prev:])
	return b.String(), entries
}

var (
	entryDigest = regexp.MustCompile(`("digest"\s*:\s*)"[^"]*"`)
	entrySize   = regexp.MustCompile(`("size"\s*:\s*)[0-9]+`)
)

// spliceEntry returns entry with its first "digest" and "size" values
// replaced: the bytes an entry whose platform stays must have.
func spliceEntry(entry []byte, digest string, size int) []byte {
	done := false
	out := entryDigest.ReplaceAllFunc(entry, func(m []byte) []byte {
		if done {
			return m
		}
		done = true
		return entryDigest.ReplaceAll(m, []byte(`${1}"`+digest+`"`))
	})
	done = false
	return entrySize.ReplaceAllFunc(out, func(m []byte) []byte {
		if done {
			return m
		}
		done = true
		return entrySize.ReplaceAll(m, []byte("${1}"+strconv.Itoa(size)))
	})
}

func unquote(t *testing.T, raw string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return s
}

// expectIndexPatched checks the index at ref (in repo), made from fx:
// same media type; every byte outside its entries the same; the entry of a
// child that is not an image byte-identical and its manifest unchanged in
// the registry; the entry of an image child identical but for "digest",
// "size" and "platform" (and "platform" only where fx's entry lacked it),
// pointing to the child with only its config's platform keys patched. It
// returns the new index and the child digests in entry order.
func expectIndexPatched(t *testing.T, reg *testRegistry, repo, ref string, fx indexFixture) (manifestAt, []string) {
	t.Helper()
	idx := reg.get(t, ref)
	if idx.mediaType != fx.mediaType {
		t.Errorf("%s media type = %q, want %q", ref, idx.mediaType, fx.mediaType)
	}
	oldSkeleton, oldEntries := indexParts(t, fx.body)
	newSkeleton, newEntries := indexParts(t, idx.body)
	if oldSkeleton != newSkeleton {
		t.Errorf("index bytes outside the entries changed:\ngot:\n%s\nwant:\n%s", newSkeleton, oldSkeleton)
	}
	if len(newEntries) != len(oldEntries) {
		t.Fatalf("index has %d entries, want %d:\n%s", len(newEntries), len(oldEntries), idx.body)
	}
	digests := make([]string, len(newEntries))
	changing := map[string]bool{"digest": true, "size": true, "platform": true}
	for i, c := range fx.children {
		oldEntry, newEntry := oldEntries[i], newEntries[i]
		oldMembers := mustMembers(t, "old entry", oldEntry)
		newMembers := mustMembers(t, "new entry", newEntry)
		raw, _ := value(newMembers, "digest")
		digests[i] = unquote(t, raw)
		oldDigest := c.im.manifestDigest()
		if c.kind != imageChild {
			if !bytes.Equal(newEntry, oldEntry) {
				t.Errorf("entry %d (not an image) changed:\ngot:\n%s\nwant:\n%s", i, newEntry, oldEntry)
			}
			if got := reg.get(t, repo+"@"+oldDigest); !bytes.Equal(got.body, c.im.manifest()) {
				t.Errorf("manifest %s@%s (not an image) changed:\ngot:\n%s\nwant:\n%s", repo, oldDigest, got.body, c.im.manifest())
			}
			continue
		}
		if diff := cmp.Diff(without(oldMembers, changing), without(newMembers, changing)); diff != "" {
			t.Errorf("entry %d changed beyond digest, size and platform (-old +new):\n%s", i, diff)
		}
		if changed := digests[i] != oldDigest; changed != c.configChanges {
			t.Errorf("entry %d digest %s -> %s: changed = %v, want %v", i, oldDigest, digests[i], changed, c.configChanges)
		}
		child := reg.get(t, repo+"@"+digests[i])
		if raw, _ := value(newMembers, "size"); raw != strconv.Itoa(len(child.body)) {
			t.Errorf("entry %d size = %s, want %d (the child's manifest size)", i, raw, len(child.body))
		}
		expectPatched(t, reg, repo, repo+"@"+digests[i], c.im, platformMembers(c.platform), nil)
		if oldPlatform, ok := value(oldMembers, "platform"); ok {
			// The entry's platform stays: its bytes must be exactly the old
			// ones with the new digest and size spliced in.
			if want := spliceEntry(oldEntry, digests[i], len(child.body)); !bytes.Equal(newEntry, want) {
				t.Errorf("entry %d bytes:\n%s\nwant:\n%s", i, newEntry, want)
			}
			if got, _ := value(newMembers, "platform"); got != oldPlatform {
				t.Errorf("entry %d platform = %s, want it kept as %s", i, got, oldPlatform)
			}
			continue
		}
		// The entry gets the platform of its config, after the members
		// it had.
		if diff := cmp.Diff(append(keys(oldMembers), "platform"), keys(newMembers)); diff != "" {
			t.Errorf("entry %d keys (-want +got):\n%s", i, diff)
		}
		raw, _ = value(newMembers, "platform")
		var got map[string]string
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Errorf("entry %d platform %s: %v", i, raw, err)
		}
		var want map[string]string
		if err := json.Unmarshal([]byte(platformObject(c.platform)), &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("entry %d platform (-want +got):\n%s", i, diff)
		}
	}
	return idx, digests
}

// expectIndexPushOrder checks the writes that made repo:tag the index
// idx: each changed child's config upload completes before that child's
// manifest is put by digest, every changed child manifest is put before the
// index, and the index is read back after it is put.
func expectIndexPushOrder(t *testing.T, reg *testRegistry, repo, tag string, idx manifestAt, changed []string) {
	t.Helper()
	reqs := reg.proxy.requests()
	find := func(match func(request) bool) int {
		for i, r := range reqs {
			if match(r) {
				return i
			}
		}
		return -1
	}
	indexPath := "/v2/" + repo + "/manifests/" + tag
	indexPut := find(func(r request) bool { return r.Method == "PUT" && r.Path == indexPath && r.Status == 201 })
	if indexPut < 0 {
		t.Fatalf("no PUT %s", indexPath)
	}
	for _, d := range changed {
		cfg := reg.get(t, repo+"@"+d).parse(t).Config.Digest
		cfgDone := find(func(r request) bool {
			return r.Method == "PUT" && strings.Contains(r.Path, "/blobs/uploads/") && strings.Contains(r.Query, "digest="+cfg) && r.Status == 201
		})
		childPut := find(func(r request) bool {
			return r.Method == "PUT" && r.Path == "/v2/"+repo+"/manifests/"+d && r.Status == 201
		})
		switch {
		case cfgDone < 0:
			t.Errorf("no completed upload of config %s of child %s", cfg, d)
		case childPut < 0:
			t.Errorf("child %s was not put by digest (PUT /v2/%s/manifests/%s)", d, repo, d)
		case cfgDone > childPut:
			t.Errorf("config %s completed (request %d) after its child manifest was put (request %d)", cfg, cfgDone+1, childPut+1)
		case childPut > indexPut:
			t.Errorf("child %s put (request %d) after the index (request %d)", d, childPut+1, indexPut+1)
		}
	}
	readBack := false
	for _, r := range reqs[indexPut+1:] {
		if (r.Method == "GET" || r.Method == "HEAD") && (r.Path == indexPath || r.Path == "/v2/"+repo+"/manifests/"+idx.digest) {
			readBack = true
		}
	}
	if !readBack {
		t.Errorf("the index was not read back after PUT %s", indexPath)
	}
}

// expectStaleAttestations checks that for every attestation of fx whose
// image child changed, a ::warning:: names the attestation and the previous
// child digest it describes and what to do in the action's words, and that
// no request wrote the attestation.
func expectStaleAttestations(t *testing.T, res Result, reg *testRegistry, fx indexFixture, newDigests []string) {
	t.Helper()
	warnings := res.commandLines("warning")
	for _, c := range fx.children {
		if c.kind != attestationChild {
			continue
		}
		att, prev := c.im.manifestDigest(), fx.children[c.describes].im.manifestDigest()
		if newDigests[c.describes] != prev && !anyContainsAll(warnings, []string{att, prev, "make the attestation again for the new digest, the `digest` output"}) {
			t.Errorf("no ::warning:: names attestation %s and the previous child digest %s it describes, in the action's words; warnings: %q", att, prev, warnings)
		}
		for _, r := range reg.proxy.naming(att) {
			if r.isWrite() {
				t.Errorf("attestation %s written: %s", att, r)
			}
		}
	}
}

// imageLayers returns the layers of every child of fx.
func (fx indexFixture) layers() []string {
	var ds []string
	for _, c := range fx.children {
		ds = append(ds, c.im.layerDigests()...)
	}
	return ds
}

// TestSetIndex runs the three index fixtures through the action with an
// empty platform (and auto for the buildx one) and checks the registry,
// the request order, outputs, warnings and a second, idempotent run.
func TestSetIndex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fixture  func(*testing.T) indexFixture
		platform string
	}{
		{name: "buildx with provenance", fixture: buildxIndex},
		{name: "buildx with provenance, auto", fixture: buildxIndex, platform: "auto"},
		{name: "docker manifest list", fixture: manifestList},
		{name: "entries without platform", fixture: entriesWithoutPlatform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := tc.fixture(t)
			reg, old := newIndexRegistry(t, fx)
			ref := reg.ref("app:1.0")
			inputs := map[string]string{"image": ref, "platform": tc.platform}

			res := runAction(t, inputs)
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)

			idx, digests := expectIndexPatched(t, reg, "app", "app:1.0", fx)
			if idx.digest == old {
				t.Fatalf("app:1.0 still resolves to the source index %s", old)
			}
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, idx.digest, true, fx.platforms()))
			expectResults(t, res, []resultObject{imageResult(ref, ref, old, idx.digest, true, fx.platforms())})
			var changed []string
			for i, c := range fx.children {
				if c.configChanges {
					changed = append(changed, digests[i])
				}
			}
			expectIndexPushOrder(t, reg, "app", "1.0", idx, changed)
			expectStaleAttestations(t, res, reg, fx, digests)
			if tc.platform != "auto" {
				expectNotNamed(t, reg.proxy, fx.layers())
			}
			if len(changed) == 0 {
				// Only the entries change: the children are already in
				// place and nothing but the index is written.
				for _, w := range reg.proxy.writes() {
					if w.Path != "/v2/app/manifests/1.0" {
						t.Errorf("write besides the index: %s", w)
					}
				}
			}
			if !reg.exists(t, "app@"+old) {
				t.Errorf("the source index app@%s is gone", old)
			}
			expectNoErrors(t, res)

			// A second run finds every child consistent.
			reg.proxy.reset()
			second := runAction(t, inputs)
			reg.proxy.log(t, "requests of the second run")
			expectExit(t, second, 0)
			expectOutputs(t, second, imageOutputs(reg.ref("app"), idx.digest, idx.digest, false, fx.platforms()))
			expectNoWrites(t, reg.proxy)
			expectAt(t, reg, "app:1.0", idx.digest)
			if w := second.commandLines("warning"); len(w) != 0 {
				t.Errorf("::warning:: lines on a run that changed nothing: %q", w)
			}
		})
	}
}

// TestSetIndexOneImageChild: a concrete platform is accepted for an index
// with exactly one image child besides its attestation; the child's config
// and its entry both get it, the attestation stays.
func TestSetIndexOneImageChild(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	img := buildxChild(t, 2, "", `""`)
	att := attestationFor(t, img.manifestDigest())
	children := []indexChild{
		{kind: imageChild, im: img, platform: "linux/arm64/v8", configChanges: true},
		{kind: attestationChild, im: att, describes: 0},
	}
	// The image entry lacks a platform, as when an index is put together
	// from an image built without one.
	compact := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d},%s],"annotations":{"org.opencontainers.image.created":"2025-03-04T10:21:07Z"}}`,
		ociIndex, ociManifest, img.manifestDigest(), len(img.manifest()), attestationEntry(att, img.manifestDigest()))
	fx := indexFixture{mediaType: ociIndex, children: children, body: indentJSON(t, compact, "  ")}
	old := reg.pushIndex(t, "app", "1.0", fx)
	ref := reg.ref("app:1.0")

	res := runAction(t, map[string]string{"image": ref, "platform": "linux/arm64/v8"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)

	idx, digests := expectIndexPatched(t, reg, "app", "app:1.0", fx)
	expectOutputs(t, res, imageOutputs(reg.ref("app"), old, idx.digest, true, "linux/arm64/v8"))
	expectIndexPushOrder(t, reg, "app", "1.0", idx, digests[:1])
	expectStaleAttestations(t, res, reg, fx, digests)
	expectLayersUntouched(t, reg.proxy, img)
}

// TestSetIndexRefused: what SPEC refuses fails with one ::error:: naming
// the image (and the children at fault) and writes nothing.
func TestSetIndexRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		platform string
		// setup pushes the source at app:1.0 and returns the strings the
		// error must hold besides the image reference.
		setup func(*testing.T, *testRegistry) []string
	}{{
		name: "no platform in entry nor config",
		setup: func(t *testing.T, reg *testRegistry) []string {
			a, b := buildxChild(t, 1, `"architecture":"",`, `""`), buildxChild(t, 1, "", `""`)
			body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d},{"mediaType":%q,"digest":%q,"size":%d}]}`,
				ociIndex, ociManifest, a.manifestDigest(), len(a.manifest()), ociManifest, b.manifestDigest(), len(b.manifest()))
			reg.pushIndex(t, "app", "1.0", indexFixture{mediaType: ociIndex, body: []byte(body),
				children: []indexChild{{kind: imageChild, im: a}, {kind: imageChild, im: b}}})
			return []string{a.manifestDigest(), b.manifestDigest()}
		},
	}, {
		name: "entry and config disagree",
		setup: func(t *testing.T, reg *testRegistry) []string {
			wrong := buildxChild(t, 1, `"architecture":"arm64",`, `"linux"`)
			fine := buildxChild(t, 1, "", `""`)
			fx := buildxIndexOf(t, []indexChild{
				{kind: imageChild, im: wrong, platform: "linux/amd64"},
				{kind: imageChild, im: fine, platform: "linux/arm64/v8"},
			})
			reg.pushIndex(t, "app", "1.0", fx)
			return []string{wrong.manifestDigest()}
		},
	}, {
		name:     "concrete platform for two image children",
		platform: "linux/amd64",
		setup: func(t *testing.T, reg *testRegistry) []string {
			reg.pushIndex(t, "app", "1.0", buildxIndex(t))
			return nil
		},
	}, {
		name: "nested index",
		setup: func(t *testing.T, reg *testRegistry) []string {
			child := buildxChild(t, 1, "", `""`)
			reg.push(t, "app@"+child.manifestDigest(), child)
			inner := oneChildIndex(child.manifestDigest(), len(child.manifest()))
			innerDigest := reg.putManifest(t, "app@"+sha256Digest(inner), inner, ociIndex)
			outer := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}}]}`,
				ociIndex, ociIndex, innerDigest, len(inner))
			reg.putManifest(t, "app:1.0", []byte(outer), ociIndex)
			return []string{"index"}
		},
	}, {
		name:     "docker schema 1",
		platform: "linux/amd64",
		setup: func(t *testing.T, reg *testRegistry) []string {
			// Distribution no longer stores schema 1, but old registries
			// still serve it: the proxy answers for the tag.
			body := `{"schemaVersion":1,"name":"app","tag":"1.0","architecture":"amd64","fsLayers":[{"blobSum":"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],"history":[{"v1Compatibility":"{\"id\":\"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5\",\"architecture\":\"amd64\",\"os\":\"linux\"}"}],"signatures":[]}`
			reg.push(t, "app:1.0", packImage(t, 1))
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				if r.URL.Path != "/v2/app/manifests/1.0" || isWrite(r) {
					return 0, nil, "", false
				}
				h := http.Header{}
				h.Set("Content-Type", dockerSchema1)
				h.Set("Docker-Content-Digest", sha256Digest([]byte(body)))
				h.Set("Content-Length", strconv.Itoa(len(body)))
				return http.StatusOK, h, body, true
			})
			return []string{"schema 1"}
		},
	}, {
		name:     "helm chart",
		platform: "linux/amd64",
		setup: func(t *testing.T, reg *testRegistry) []string {
			chart := artifactImage(t, helmConfig, []byte(`{"name":"hello","version":"1.0.0","apiVersion":"v2"}`),
				"application/vnd.cncf.helm.chart.content.v1.tar+gzip", []byte("not really a chart"))
			reg.push(t, "app:1.0", chart)
			return []string{helmConfig}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			wantInError := tc.setup(t, reg)
			old := reg.digestOf(t, "app:1.0")
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": tc.platform})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 1)
			expectNoWrites(t, reg.proxy)
			msg := expectOneError(t, res)
			for _, want := range append([]string{ref}, wantInError...) {
				if !strings.Contains(strings.ToLower(msg), strings.ToLower(want)) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			reg.proxy.inject(nil)
			expectAt(t, reg, "app:1.0", old)
			if v := res.Outputs["changed"]; v == "true" {
				t.Errorf("output changed = %q on a refusal", v)
			}
		})
	}
}

// TestSetIndexOtherRepository: a full reference in tag copies the whole
// index into another repository of the same registry: every child,
// attestations included, with blobs mounted, not uploaded.
func TestSetIndexOtherRepository(t *testing.T) {
	t.Parallel()
	fx := buildxIndex(t)
	reg, old := newIndexRegistry(t, fx)
	target := reg.ref("mirror/app:1.0")

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "tag": target})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)

	expectAt(t, reg, "app:1.0", old)
	idx, digests := expectIndexPatched(t, reg, "mirror/app", "mirror/app:1.0", fx)
	expectOutputs(t, res, imageOutputs(reg.ref("mirror/app"), old, idx.digest, true, fx.platforms()))
	expectIndexPushOrder(t, reg, "mirror/app", "1.0", idx, digests[:2])
	for i, d := range digests {
		if !reg.exists(t, "mirror/app@"+d) {
			t.Errorf("child %d %s missing from mirror/app", i, d)
			continue
		}
		if fx.children[i].kind == imageChild {
			reg.validateImage(t, "mirror/app@"+d)
			continue
		}
		// go-containerregistry counts no in-toto layer as an image
		// layer, so check the attestation's blobs one by one.
		att := fx.children[i].im
		for _, b := range append([]blob{att.config}, att.layers[0].blob) {
			if got := reg.blob(t, "mirror/app", b.digest); !bytes.Equal(got, b.data) {
				t.Errorf("blob %s of attestation %s in mirror/app differs", b.digest, d)
			}
		}
	}
	// Every blob that exists in app arrives by mount: layers of the
	// images, config and statement of the attestations.
	var moved []string
	for _, c := range fx.children {
		moved = append(moved, c.im.layerDigests()...)
		if c.kind == attestationChild {
			moved = append(moved, c.im.config.digest)
		}
	}
	expectMounted(t, reg.proxy, "mirror/app", "app", moved)
}

// TestCLIIndex: the command line takes a manifest list like the action.
func TestCLIIndex(t *testing.T) {
	t.Parallel()
	fx := manifestList(t)
	reg, old := newIndexRegistry(t, fx)
	ref := reg.ref("app:1.0")

	res := runCLI(t, "--json", ref)
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)

	idx, _ := expectIndexPatched(t, reg, "app", "app:1.0", fx)
	expectJSONStdout(t, res, []resultObject{imageResult(ref, ref, old, idx.digest, true, "linux/arm/v7,linux/amd64")})
}

// TestIndexAgainstCrane documents what `crane mutate --set-platform` does
// to the buildx index: it resolves the index to the linux/amd64 child,
// rewrites that child's config through a struct and pushes the single image
// over the index tag, so the tag loses the arm64 child and the
// attestations. Ours refuses a concrete platform for two images without
// writing, and with an empty platform keeps every child.
func TestIndexAgainstCrane(t *testing.T) {
	t.Parallel()
	fx := buildxIndex(t)
	ours := newRegistry(t, registryOptions{})
	theirs := newRegistry(t, registryOptions{})
	ours.pushIndex(t, "app", "1.0", fx)
	theirs.pushIndex(t, "app", "1.0", fx)

	runCrane(t, "mutate", "--set-platform", "linux/amd64", theirs.ref("app:1.0"))
	theirs.proxy.log(t, "crane mutate --set-platform linux/amd64")
	crane := theirs.get(t, "app:1.0")
	if crane.mediaType == ociIndex || crane.mediaType == dockerManifestList {
		t.Fatalf("after crane, app:1.0 is still an index (%s); the comparison no longer shows what it claims:\n%s", crane.mediaType, crane.body)
	}
	got := crane.parse(t)
	if diff := cmp.Diff(fx.children[0].im.layerDigests(), digestsOf(got.Layers)); diff != "" {
		t.Errorf("crane's image is not the linux/amd64 child (layers -amd64 +crane):\n%s", diff)
	}
	cfg := mustMembers(t, "crane's config", theirs.config(t, "app", crane))
	if _, ok := value(cfg, "moby.buildkit.buildinfo.v1"); ok {
		t.Errorf("crane kept the buildinfo config key; the comparison no longer shows what it claims")
	}
	t.Logf("after crane, app:1.0 is a single %s; its config:\n%s", crane.mediaType, theirs.config(t, "app", crane))

	// Ours, with the same concrete platform: refused, nothing written.
	res := runAction(t, map[string]string{"image": ours.ref("app:1.0"), "platform": "linux/amd64"})
	expectExit(t, res, 1)
	expectNoWrites(t, ours.proxy)
	expectAt(t, ours, "app:1.0", fx.digest())
	// Ours, with the platform left empty: every child stays in the index.
	res = runAction(t, map[string]string{"image": ours.ref("app:1.0")})
	expectExit(t, res, 0)
	_, digests := expectIndexPatched(t, ours, "app", "app:1.0", fx)
	t.Logf("ours keeps %d children: %v", len(digests), digests)
}

func digestsOf(ls []struct {
	Digest string `json:"digest"`
}) []string {
	var ds []string
	for _, l := range ls {
		ds = append(ds, l.Digest)
	}
	return ds
}

// oneChildIndex renders an indented OCI index (as buildx pushes it) with
// one linux/amd64 image child, entry and index annotations.
func oneChildIndex(digest string, size int) []byte {
	return []byte(fmt.Sprintf("{\n  \"schemaVersion\": 2,\n  \"mediaType\": %q,\n  \"manifests\": [\n    {\n      \"mediaType\": %q,\n      \"digest\": %q,\n      \"size\": %d,\n      \"annotations\": {\n        \"org.opencontainers.image.ref.name\": \"1.0\"\n      },\n      \"platform\": {\n        \"architecture\": \"amd64\",\n        \"os\": \"linux\"\n      }\n    }\n  ],\n  \"annotations\": {\n    \"org.opencontainers.image.source\": \"https://github.com/octocat/hello\"\n  }\n}",
		ociIndex, ociManifest, digest, size))
}

// TestSetIndexOneChildEntryPlatform checks SPEC's index rules on the
// simplest index: one image child whose config lacks the platform its entry
// has. A concrete platform applies to that child; an empty platform makes
// the child consistent with its entry. Either way the index's bytes change
// only in the child's digest and size.
func TestSetIndexOneChildEntryPlatform(t *testing.T) {
	t.Parallel()
	for _, platform := range []string{"linux/amd64", ""} {
		t.Run("platform "+strconv.Quote(platform), func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			child := buildxImage(t, 2)
			oldChild := reg.push(t, "app@"+child.manifestDigest(), child)
			oldIndex := reg.putManifest(t, "app:1.0", oneChildIndex(oldChild, len(child.manifest())), ociIndex)

			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": platform})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)

			idx := reg.get(t, "app:1.0")
			if idx.mediaType != ociIndex {
				t.Errorf("app:1.0 media type = %q, want %q", idx.mediaType, ociIndex)
			}
			parsed := idx.parse(t)
			if len(parsed.Manifests) != 1 {
				t.Fatalf("new index has %d entries, want 1:\n%s", len(parsed.Manifests), idx.body)
			}
			newChild := parsed.Manifests[0].Digest
			if newChild == oldChild {
				t.Fatalf("index still points to the unpatched child %s", oldChild)
			}
			childManifest := reg.get(t, "app@"+newChild)
			if want := oneChildIndex(newChild, len(childManifest.body)); !bytes.Equal(idx.body, want) {
				t.Errorf("new index bytes:\n%s\nwant:\n%s", idx.body, want)
			}
			expectPatched(t, reg, "app", "app@"+newChild, child, platformMembers("linux/amd64"), nil)
			expectOutputs(t, res, imageOutputs(reg.ref("app"), oldIndex, idx.digest, true, "linux/amd64"))
			expectLayersUntouched(t, reg.proxy, child)
		})
	}
}
