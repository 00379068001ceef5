package e2e

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
			reg := newRegistry(t, registryOptions{})
			im := tc.image(t)
			old := reg.push(t, "app:1.0", im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)

			newDigest := reg.digestOf(t, "app:1.0")
			if newDigest == old {
				t.Fatalf("tag app:1.0 still resolves to the old digest %s", old)
			}
			expectOutputs(t, res, map[string]string{
				"digest":          newDigest,
				"image":           reg.ref("app") + "@" + newDigest,
				"previous-digest": old,
				"changed":         "true",
				"platform":        "linux/amd64",
			})
			expectResults(t, res, []resultObject{{
				"source":          ref,
				"target":          ref,
				"previous-digest": old,
				"digest":          newDigest,
				"changed":         true,
				"platform":        "linux/amd64",
			}})
			var exact []byte
			if tc.exact != nil {
				exact = tc.exact(im.config.data)
			}
			expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux", "amd64", "", ""), exact)
			expectLayersUntouched(t, reg.proxy, im)
			expectPushOrder(t, reg, "app", "1.0")
			if !reg.exists(t, "app@"+old) {
				t.Errorf("old manifest app@%s is gone", old)
			}
			expectGroup(t, res, ref)
			expectSummaryLine(t, res, ref, tc.before, "linux/amd64", old, newDigest)
			if errs := res.commandLines("error"); len(errs) != 0 {
				t.Errorf("::error:: lines on success: %q", errs)
			}
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
	expectOutputs(t, second, map[string]string{
		"digest":          d,
		"image":           reg.ref("app") + "@" + d,
		"previous-digest": d,
		"changed":         "false",
		"platform":        "linux/amd64",
	})
	expectNoWrites(t, reg.proxy)
	expectLayersUntouched(t, reg.proxy, im)
	if got := reg.digestOf(t, "app:1.0"); got != d {
		t.Errorf("app:1.0 = %s after the second run, want %s", got, d)
	}
}

func TestSetBareTag(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := packImage(t, 2)
	old := reg.push(t, "app:1.0", im)

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "tag": "fixed"})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)

	newDigest := reg.digestOf(t, "app:fixed")
	expectOutputs(t, res, map[string]string{
		"digest":          newDigest,
		"image":           reg.ref("app") + "@" + newDigest,
		"previous-digest": old,
		"changed":         "true",
		"platform":        "linux/amd64",
	})
	if got := reg.digestOf(t, "app:1.0"); got != old {
		t.Errorf("source tag app:1.0 = %s, want it left at %s", got, old)
	}
	if rs := res.results(t); len(rs) != 1 || rs[0]["target"] != reg.ref("app:fixed") {
		t.Errorf("results target = %v, want %q", rs, reg.ref("app:fixed"))
	}
	expectPatched(t, reg, "app", "app:fixed", im, platformMembers("linux", "amd64", "", ""), nil)
	expectLayersUntouched(t, reg.proxy, im)
}

func TestSetOtherRepository(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := packImage(t, 3)
	old := reg.push(t, "app:1.0", im)
	target := reg.ref("other/repo:t")

	res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "tag": target})
	reg.proxy.log(t, "requests of the run")
	expectExit(t, res, 0)

	newDigest := reg.digestOf(t, "other/repo:t")
	expectOutputs(t, res, map[string]string{
		"digest":          newDigest,
		"image":           reg.ref("other/repo") + "@" + newDigest,
		"previous-digest": old,
		"changed":         "true",
		"platform":        "linux/amd64",
	})
	if got := reg.digestOf(t, "app:1.0"); got != old {
		t.Errorf("source tag app:1.0 = %s, want it left at %s", got, old)
	}
	// Every layer arrives by cross-repository mount; none is read or
	// uploaded.
	for _, l := range im.layers {
		mounted := false
		for _, r := range reg.proxy.naming(l.digest) {
			switch {
			case r.Method == "POST" && r.Path == "/v2/other/repo/blobs/uploads/" &&
				strings.Contains(r.Query, "mount="+l.digest) && strings.Contains(r.Query, "from=app"):
				mounted = true
			case r.Method == "GET" || r.Method == "PATCH" || r.Method == "PUT":
				t.Errorf("layer %s moved: %s", l.digest, r)
			}
		}
		if !mounted {
			t.Errorf("layer %s: no POST /v2/other/repo/blobs/uploads/?mount=%s&from=app", l.digest, l.digest)
		}
	}
	expectPatched(t, reg, "other/repo", "other/repo:t", im, platformMembers("linux", "amd64", "", ""), nil)
	reg.validateImage(t, "other/repo:t")
}

func TestSetOtherRegistry(t *testing.T) {
	t.Parallel()
	src := newRegistry(t, registryOptions{})
	dst := newRegistry(t, registryOptions{})
	im := buildxImage(t, 3)
	old := src.push(t, "app:1.0", im)
	target := dst.ref("mirror/app:1.0-amd64")

	res := runAction(t, map[string]string{"image": src.ref("app:1.0"), "platform": "linux/amd64", "tag": target})
	src.proxy.log(t, "requests to the source registry")
	dst.proxy.log(t, "requests to the target registry")
	expectExit(t, res, 0)

	newDigest := dst.digestOf(t, "mirror/app:1.0-amd64")
	expectOutputs(t, res, map[string]string{
		"digest":          newDigest,
		"image":           dst.ref("mirror/app") + "@" + newDigest,
		"previous-digest": old,
		"changed":         "true",
		"platform":        "linux/amd64",
	})
	expectNoWrites(t, src.proxy)
	if got := src.digestOf(t, "app:1.0"); got != old {
		t.Errorf("source tag = %s, want it left at %s", got, old)
	}
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
	expectPatched(t, dst, "mirror/app", "mirror/app:1.0-amd64", im, platformMembers("linux", "amd64", "", ""), nil)
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
			reg := newRegistry(t, registryOptions{})
			im := packImageWith(t, 2, `"architecture":"amd64"`)
			old := reg.push(t, "app:1.0", im)
			ref := reg.ref("app:1.0")

			res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64", "tag": tc.tag})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)
			expectOutputs(t, res, map[string]string{
				"digest":          old,
				"image":           reg.ref("app") + "@" + old,
				"previous-digest": old,
				"changed":         "false",
				"platform":        "linux/amd64",
			})
			expectLayersUntouched(t, reg.proxy, im)
			if got := reg.digestOf(t, "app:1.0"); got != old {
				t.Errorf("app:1.0 = %s, want %s", got, old)
			}
			if tc.wantTagged == "" {
				expectNoWrites(t, reg.proxy)
				return
			}
			if got := reg.digestOf(t, "app:"+tc.wantTagged); got != old {
				t.Errorf("app:%s = %s, want the unchanged %s", tc.wantTagged, got, old)
			}
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
	t.Run("without overwrite", func(t *testing.T) {
		t.Parallel()
		reg := newRegistry(t, registryOptions{})
		im := packImageWith(t, 2, `"architecture":"arm64","variant":"v8"`)
		old := reg.push(t, "app:1.0", im)
		ref := reg.ref("app:1.0")

		res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 1)
		msg := expectOneError(t, res)
		if !strings.Contains(msg, ref) || !strings.Contains(msg, "overwrite") {
			t.Errorf("error %q does not name %q and suggest overwrite", msg, ref)
		}
		expectNoWrites(t, reg.proxy)
		if got := reg.digestOf(t, "app:1.0"); got != old {
			t.Errorf("app:1.0 = %s, want %s", got, old)
		}
	})
	t.Run("with overwrite", func(t *testing.T) {
		t.Parallel()
		reg := newRegistry(t, registryOptions{})
		im := packImageWith(t, 2, `"architecture":"arm64","variant":"v8"`)
		old := reg.push(t, "app:1.0", im)
		ref := reg.ref("app:1.0")

		res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64", "overwrite": "true"})
		reg.proxy.log(t, "requests of the run")
		expectExit(t, res, 0)
		newDigest := reg.digestOf(t, "app:1.0")
		expectOutputs(t, res, map[string]string{
			"digest":          newDigest,
			"image":           reg.ref("app") + "@" + newDigest,
			"previous-digest": old,
			"changed":         "true",
			"platform":        "linux/amd64",
		})
		// The variant goes, as linux/amd64 has none; everything else
		// keeps its bytes.
		exact := bytes.Replace(im.config.data, []byte(`"architecture":"arm64","variant":"v8"`), []byte(`"architecture":"amd64"`), 1)
		expectPatched(t, reg, "app", "app:1.0", im, platformMembers("linux", "amd64", "", ""), exact)
		expectSummaryLine(t, res, ref, "linux/arm64/v8", "linux/amd64", old, newDigest)
		expectLayersUntouched(t, reg.proxy, im)
	})
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := packImage(t, 2)
	old := reg.push(t, "app:1.0", im)
	inputs := map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "dry-run": "true"}

	dry := runAction(t, inputs)
	reg.proxy.log(t, "requests of the dry run")
	expectExit(t, dry, 0)
	expectNoWrites(t, reg.proxy)
	expectLayersUntouched(t, reg.proxy, im)
	if got := reg.digestOf(t, "app:1.0"); got != old {
		t.Errorf("app:1.0 = %s after the dry run, want %s", got, old)
	}
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
	reg := newRegistry(t, registryOptions{})
	im := packImage(t, 2)
	old := reg.push(t, "app:1.0", im)
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
	expectOutputs(t, res, map[string]string{
		"digest":          newDigest,
		"image":           reg.ref("app") + "@" + newDigest,
		"previous-digest": old,
		"changed":         "true",
		"platform":        "linux/amd64",
	})
	if diff := cmp.Diff(before, reg.tags(t, "app")); diff != "" {
		t.Errorf("tags moved (-before +after):\n%s", diff)
	}
	expectPatched(t, reg, "app", "app@"+newDigest, im, platformMembers("linux", "amd64", "", ""), nil)
	for _, w := range reg.proxy.writes() {
		if strings.Contains(w.Path, "/manifests/") && !strings.HasSuffix(w.Path, "/manifests/"+newDigest) {
			t.Errorf("manifest written by other than its digest: %s", w)
		}
	}
}

func TestStepSummary(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	im := packImageWith(t, 1, `"architecture":"arm64","variant":"v8"`)
	old := reg.push(t, "app:1.0", im)
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
