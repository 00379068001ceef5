package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestSetSameRepository(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		image  func(*testing.T) image
		before string // platform before, as the summary line prints it
		// exact returns the whole expected config, when in-place
		// replacement makes it unique.
		exact func(old []byte) []byte
	}{{
		name:   "docker v2 from pack buildpack package",
		image:  func(t *testing.T) image { return packImage(t, 3) },
		before: "linux/?",
		exact: func(old []byte) []byte {
			return bytes.Replace(old, []byte(`"architecture":""`), []byte(`"architecture":"amd64"`), 1)
		},
	}, {
		name:   "oci from buildx",
		image:  func(t *testing.T) image { return buildxImage(t, 3) },
		before: "(none)",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := tc.image(t)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)

			newDigest := reg.digestOf(t, "app:1.0")
			if newDigest == old {
				t.Fatalf("tag app:1.0 still resolves to the old digest %s", old)
			}
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, newDigest, true, "linux/amd64"))
			expectResults(t, res, []resultObject{imageResult(ref, ref, old, newDigest, true, "linux/amd64")})
			var exact []byte
			if tc.exact != nil {
				exact = tc.exact(im.config.data)
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), exact)
			expectLayersUntouched(t, reg.proxy, im)
			expectPushOrder(t, reg, "app", "1.0")
			if !reg.exists(t, "app@"+old) {
				t.Errorf("old manifest app@%s is gone", old)
			}
			expectGroup(t, res, ref)
			expectSummaryLine(t, res, ref, tc.before, "linux/amd64", old, newDigest)
			expectNoErrors(t, res)
		})
	}
}

func TestSetIdempotent(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := buildxImage(t, 2)
	reg.push(t, "app:1.0", im)
	inputs := map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"}

	first := runAction(t, inputs)
	expectExit(t, first, 0)
	reg.proxy.reset()

	second := runAction(t, inputs)
	reg.proxy.log(t, "requests of the second run")
	expectExit(t, second, 0)
	d := first.Outputs["digest"]
	expectOutputs(t, second, imageOutputs(reg.ref("app"), d, d, false, "linux/amd64"))
	expectNoWrites(t, reg.proxy)
	expectLayersUntouched(t, reg.proxy, im)
	expectAt(t, reg, "app:1.0", d)
}

// runSetTagged pushes im as app:1.0 of src, runs the action on it with
// platform linux/amd64 and tag, and checks what a run with a tag must do:
// it succeeds, its outputs name the new digest of dstRepo:dstTag at dst, the
// source tag stays, and the config there is patched. It returns the run.
func runSetTagged(t *testing.T, src, dst *testRegistry, im image, tag, dstRepo, dstTag string) Result {
	t.Helper()
	old := src.push(t, "app:1.0", im)

	res := runAction(t, map[string]string{"image": src.ref("app:1.0"), "platform": "linux/amd64", "tag": tag})
	src.proxy.log(t, "requests to the source registry")
	if dst != src {
		dst.proxy.log(t, "requests to the target registry")
	}
	expectExit(t, res, 0)

	newDigest := dst.digestOf(t, dstRepo+":"+dstTag)
	expectOutputs(t, res, imageOutputs(dst.ref(dstRepo), old, newDigest, true, "linux/amd64"))
	expectAt(t, src, "app:1.0", old)
	expectPatched(t, dst, dstRepo, dstRepo+":"+dstTag, im, platformMembers("linux/amd64"), nil)
	return res
}

func TestSetBareTag(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := packImage(t, 2)

	res := runSetTagged(t, reg, reg, im, "fixed", "app", "fixed")
	if rs := res.results(t); len(rs) != 1 || rs[0]["target"] != reg.ref("app:fixed") {
		t.Errorf("results target = %v, want %q", rs, reg.ref("app:fixed"))
	}
	expectLayersUntouched(t, reg.proxy, im)
}

func TestSetOtherRepository(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := packImage(t, 3)

	runSetTagged(t, reg, reg, im, reg.ref("other/repo:t"), "other/repo", "t")
	// Every layer arrives by cross-repository mount; none is read or
	// uploaded.
	expectMounted(t, reg.proxy, "other/repo", "app", im.layerDigests())
	reg.validateImage(t, "other/repo:t")
}

// expectMounted fails t unless each of blobs arrived in repo by a
// cross-repository mount from from, and none was read or uploaded.
func expectMounted(t *testing.T, p *recordingProxy, repo, from string, blobs []string) {
	t.Helper()
	uploads := "/v2/" + repo + "/blobs/uploads/"
	for _, d := range blobs {
		mounted := false
		for _, r := range p.naming(d) {
			switch {
			case r.Method == "POST" && r.Path == uploads &&
				strings.Contains(r.Query, "mount="+d) && strings.Contains(r.Query, "from="+from):
				mounted = true
			case r.Method == "GET" || r.Method == "PATCH" || r.Method == "PUT":
				t.Errorf("blob %s moved: %s", d, r)
			}
		}
		if !mounted {
			t.Errorf("blob %s: no POST %s?mount=%s&from=%s", d, uploads, d, from)
		}
	}
}

func TestSetOtherRegistry(t *testing.T) {
	t.Parallel()
	src := newRegistry(t, registryOptions{})
	dst := newRegistry(t, registryOptions{})
	im := buildxImage(t, 3)

	res := runSetTagged(t, src, dst, im, dst.ref("mirror/app:1.0-amd64"), "mirror/app", "1.0-amd64")
	expectNoWrites(t, src.proxy)
	// The notice names the other registry and what crosses over.
	notices := res.commandLines("notice")
	streamed := false
	for _, n := range notices {
		l := strings.ToLower(n)
		if strings.Contains(n, dst.proxy.host) && (strings.Contains(l, "layer") || strings.Contains(l, "blob")) {
			streamed = true
		}
	}
	if !streamed {
		t.Errorf("no ::notice:: names %s and says layers are streamed across; notices: %q", dst.proxy.host, notices)
	}
	dst.validateImage(t, "mirror/app:1.0-amd64")
}

func TestSetAlreadyPlatform(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tag  string
		// wantTagged is the tag expected to resolve to the source
		// digest after the run, besides the source tag.
		wantTagged string
	}{
		{name: "no tag"},
		{name: "bare tag", tag: "fixed", wantTagged: "fixed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := packImageWith(t, 2, `"architecture":"amd64"`)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64", "tag": tc.tag})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, old, false, "linux/amd64"))
			expectLayersUntouched(t, reg.proxy, im)
			expectAt(t, reg, "app:1.0", old)
			if tc.wantTagged == "" {
				expectNoWrites(t, reg.proxy)
				return
			}
			expectAt(t, reg, "app:"+tc.wantTagged, old)
			// Tagging the unchanged manifest needs its manifest only.
			for _, w := range reg.proxy.writes() {
				if w.Method != "PUT" || w.Path != "/v2/app/manifests/"+tc.wantTagged {
					t.Errorf("unexpected write %s, want only PUT /v2/app/manifests/%s", w, tc.wantTagged)
				}
			}
		})
	}
}

func TestSetDifferentPlatformPresent(t *testing.T) {
	t.Parallel()
	for _, overwrite := range []bool{false, true} {
		name := map[bool]string{false: "without overwrite", true: "with overwrite"}[overwrite]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			im := packImageWith(t, 2, `"architecture":"arm64","variant":"v8"`)
			reg, old := newAppRegistry(t, registryOptions{}, im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64", "overwrite": fmt.Sprint(overwrite)})
			reg.proxy.log(t, "requests of the run")
			if !overwrite {
				expectRefused(t, res, reg, "app:1.0", old, ref, "overwrite")
				return
			}
			expectExit(t, res, 0)
			newDigest := reg.digestOf(t, "app:1.0")
			expectOutputs(t, res, imageOutputs(reg.ref("app"), old, newDigest, true, "linux/amd64"))
			// The variant goes, as linux/amd64 has none; everything else
			// keeps its bytes.
			exact := bytes.Replace(im.config.data, []byte(`"architecture":"arm64","variant":"v8"`), []byte(`"architecture":"amd64"`), 1)
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux/amd64"), exact)
			expectSummaryLine(t, res, ref, "linux/arm64/v8", "linux/amd64", old, newDigest)
			expectLayersUntouched(t, reg.proxy, im)
		})
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	im := packImage(t, 2)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	inputs := map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "dry-run": "true"}

	dry := runAction(t, inputs)
	reg.proxy.log(t, "requests of the dry run")
	expectExit(t, dry, 0)
	expectNoWrites(t, reg.proxy)
	expectLayersUntouched(t, reg.proxy, im)
	expectAt(t, reg, "app:1.0", old)
	if dry.Outputs["changed"] != "true" {
		t.Errorf("dry run changed = %q, want true", dry.Outputs["changed"])
	}

	inputs["dry-run"] = "false"
	applied := runAction(t, inputs)
	expectExit(t, applied, 0)
	newDigest := reg.digestOf(t, "app:1.0")
	for _, name := range scalarOutputs {
		if dry.Outputs[name] != applied.Outputs[name] {
			t.Errorf("output %s: dry run %q, applied run %q", name, dry.Outputs[name], applied.Outputs[name])
		}
	}
	if dry.Outputs["digest"] != newDigest {
		t.Errorf("dry run digest = %q, the applied run made %s", dry.Outputs["digest"], newDigest)
	}
	if diff := cmp.Diff(applied.results(t), dry.results(t)); diff != "" {
		t.Errorf("results of the dry and the applied run differ (-applied +dry):\n%s", diff)
	}
}

func TestDigestSource(t *testing.T) {
	t.Parallel()
	im := packImage(t, 2)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	reg.putManifest(t, "app:latest", im.manifest(), im.manifestType)
	before := reg.tags(t, "app")
	ref := reg.ref("app@" + old)

	res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)

	newDigest := res.Outputs["digest"]
	if !strings.HasPrefix(newDigest, "sha256:") || newDigest == old {
		t.Fatalf("digest output = %q, want a new sha256 digest", newDigest)
	}
	expectOutputs(t, res, imageOutputs(reg.ref("app"), old, newDigest, true, "linux/amd64"))
	if diff := cmp.Diff(before, reg.tags(t, "app")); diff != "" {
		t.Errorf("tags moved (-before +after):\n%s", diff)
	}
	expectPatched(t, reg, "app", "app@"+newDigest, im, platformMembers("linux/amd64"), nil)
	for _, w := range reg.proxy.writes() {
		if strings.Contains(w.Path, "/manifests/") && !strings.HasSuffix(w.Path, "/manifests/"+newDigest) {
			t.Errorf("manifest written by other than its digest: %s", w)
		}
	}
}

func TestStepSummary(t *testing.T) {
	t.Parallel()
	im := packImageWith(t, 1, `"architecture":"arm64","variant":"v8"`)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	ref := reg.ref("app:1.0")

	res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64", "overwrite": "true"})
	expectExit(t, res, 0)
	newDigest := res.Outputs["digest"]
	t.Logf("step summary:\n%s", res.Summary)
	// Digests may be shortened in the table; 12 hex digits are always
	// there.
	short := func(d string) string { return strings.TrimPrefix(d, "sha256:")[:12] }
	var row string
	for _, l := range strings.Split(res.Summary, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "|") && strings.Contains(l, "app") && strings.Contains(l, short(old)) {
			row = l
		}
	}
	if row == "" {
		t.Fatalf("step summary has no table row for %s with %s", ref, old)
	}
	for _, want := range []string{"linux/arm64/v8", "linux/amd64", short(old), short(newDigest)} {
		if !strings.Contains(row, want) {
			t.Errorf("summary row %q lacks %q", row, want)
		}
	}
	if !strings.Contains(res.Summary, "|---") && !strings.Contains(res.Summary, "| ---") && !strings.Contains(res.Summary, "|:--") {
		t.Errorf("step summary has no Markdown table header separator:\n%s", res.Summary)
	}
}

func TestSetPlatformForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		platform   string
		wantOutput string
		// wantNotice: the value is an alias, normalized with a notice
		// naming it and what it stands for.
		wantNotice []string
	}{
		{platform: "linux/arm/v7", wantOutput: "linux/arm/v7"},
		{platform: "linux/arm64/v8", wantOutput: "linux/arm64/v8"},
		{platform: "windows/amd64:10.0.17763.6659", wantOutput: "windows/amd64:10.0.17763.6659"},
		{platform: "linux/x86_64", wantOutput: "linux/amd64", wantNotice: []string{"x86_64", "amd64"}},
		{platform: "linux/aarch64", wantOutput: "linux/arm64", wantNotice: []string{"aarch64", "arm64"}},
		{platform: "linux/armhf", wantOutput: "linux/arm/v7", wantNotice: []string{"armhf", "arm", "v7"}},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			// os "" and no architecture: any os/arch may be set.
			im := buildxImage(t, 1)
			reg.push(t, "app:1.0", im)

			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": tc.platform})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)
			if got := res.Outputs["platform"]; got != tc.wantOutput {
				t.Errorf("platform output = %q, want %q", got, tc.wantOutput)
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers(tc.wantOutput), nil)
			if tc.wantNotice != nil && !anyContainsAll(res.commandLines("notice"), tc.wantNotice) {
				t.Errorf("no ::notice:: mentions all of %q: %q", tc.wantNotice, res.commandLines("notice"))
			}
		})
	}
}

// TestCosignSignatureWarning: a cosign signature tag of the old digest is
// reported in a ::warning:: and left in place.
func TestCosignSignatureWarning(t *testing.T) {
	t.Parallel()
	im := packImage(t, 1)
	reg, old := newAppRegistry(t, registryOptions{}, im)
	sigTag := "sha256-" + strings.TrimPrefix(old, "sha256:") + ".sig"
	sig := packImageWith(t, 1, `"architecture":"amd64"`)
	sigDigest := reg.push(t, "app:"+sigTag, sig)

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)
	warned := false
	for _, w := range res.commandLines("warning") {
		if strings.Contains(w, "(1 signature, listed below") && strings.Contains(res.Stdout, "signature "+sigDigest+" (cosign tag "+sigTag+")") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no ::warning:: names the signature at %s:\n%s", sigTag, res.Stdout)
	}
	expectAt(t, reg, "app:"+sigTag, sigDigest)
}

// windowsImage is a Docker v2 (or OCI) image like Windows base images: its
// first layer is non-distributable, with urls to fetch it from elsewhere,
// and its config has no architecture.
func windowsImage(tb testing.TB, manifestType, restrictedType string) image {
	tb.Helper()
	configType, layerType := dockerConfig, dockerLayer
	if manifestType == ociManifest {
		configType, layerType = ociConfig, ociLayer
	}
	ls := append(randomLayers(tb, 1, restrictedType), randomLayers(tb, 2, layerType)...)
	cfg := `{"architecture":"","os":"windows","rootfs":{"type":"layers","diff_ids":[` + diffIDsJSON(ls) + `]}}`
	return image{
		manifestType: manifestType,
		config:       newBlob(configType, []byte(cfg)),
		layers:       ls,
		render: func(d string, size int, ls []layer) []byte {
			var descs []string
			for _, l := range ls {
				desc := fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q`, l.mediaType, len(l.data), l.digest)
				if !types.MediaType(l.mediaType).IsDistributable() {
					desc += `,"urls":["https://mcr.microsoft.com/v2/windows/servercore/blobs/` + l.digest + `"]`
				}
				descs = append(descs, desc+"}")
			}
			return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"size":%d,"digest":%q},"layers":[%s]}`,
				manifestType, configType, size, d, strings.Join(descs, ",")))
		},
	}
}

// pushWithoutRestricted pushes im to ref as a registry holds a Windows
// image: every blob but the non-distributable ones, which live elsewhere.
func (r *testRegistry) pushWithoutRestricted(tb testing.TB, ref string, im image) string {
	tb.Helper()
	parsed := r.parse(tb, ref)
	blobs := []blob{im.config}
	for _, l := range im.layers {
		if types.MediaType(l.mediaType).IsDistributable() {
			blobs = append(blobs, l.blob)
		}
	}
	for _, b := range blobs {
		if err := remote.WriteLayer(parsed.Context(), static.NewLayer(b.data, types.MediaType(b.mediaType)), remote.WithAuth(r.auth)); err != nil {
			tb.Fatalf("pushing blob %s to %s: %v", b.digest, ref, err)
		}
	}
	return r.putManifest(tb, ref, im.manifest(), im.manifestType)
}

// TestForeignLayers: a Windows image with a non-distributable layer is
// written to another repository (mount) and another registry (stream)
// without a request for that layer, and a notice says so.
func TestForeignLayers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		manifestType, restrict string
		otherRegistry          bool
	}{
		{"docker foreign layer, other repository", dockerManifest, dockerForeignLayer, false},
		{"docker foreign layer, other registry", dockerManifest, dockerForeignLayer, true},
		{"oci non-distributable layer, other repository", ociManifest, ociRestrictedLayer, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := registryOptions{allowURLs: []string{`^https://mcr\.microsoft\.com/`}}
			src := newRegistry(t, opts)
			dst := src
			if tc.otherRegistry {
				dst = newRegistry(t, opts)
			}
			im := windowsImage(t, tc.manifestType, tc.restrict)
			old := src.pushWithoutRestricted(t, "app:1.0", im)
			foreign := im.layers[0].digest

			res := runAction(t, map[string]string{"image": src.ref("app:1.0"), "platform": "windows/amd64", "tag": dst.ref("win/app:1.0")})
			src.proxy.log(t, "requests to the source registry")
			if dst != src {
				dst.proxy.log(t, "requests to the target registry")
			}
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			expectNotNamed(t, src.proxy, []string{foreign})
			expectNotNamed(t, dst.proxy, []string{foreign})
			newDigest := dst.digestOf(t, "win/app:1.0")
			expectOutputs(t, res, imageOutputs(dst.ref("win/app"), old, newDigest, true, "windows/amd64"))
			expectPatched(t, dst, "win/app", "win/app:1.0", im, platformMembers("windows/amd64"), nil)
			for _, l := range im.layers[1:] {
				if got := dst.blob(t, "win/app", l.digest); !bytes.Equal(got, l.data) {
					t.Errorf("layer %s in win/app differs from the source's", l.digest)
				}
			}
			noticed := false
			for _, n := range res.commandLines("notice") {
				if strings.Contains(n, foreign) && strings.Contains(n, "non-distributable") {
					noticed = true
				}
			}
			if !noticed {
				t.Errorf("no ::notice:: names the non-distributable layer %s; notices: %q", foreign, res.commandLines("notice"))
			}
		})
	}
}

// Media types of layers that may not be sent to another repository.
const (
	dockerForeignLayer = string(types.DockerForeignLayer)
	ociRestrictedLayer = string(types.OCIRestrictedLayer)
)
