package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// layoutKind is where a test leaves its image: an OCI layout directory,
// or a .cnb (an OCI layout tar with entries named from "/").
type layoutKind struct {
	transport, name string
	archive         bool
}

var layoutKinds = []layoutKind{
	{transport: "oci", name: "out", archive: false},
	{transport: "oci-archive", name: "bp.cnb", archive: true},
}

// line is the image line naming name in the workspace.
func (k layoutKind) line() string { return k.transport + ":" + k.name }

// TestLayoutCheck is the pull-request check of what a PR built: the image
// the build left in the workspace, named by a relative path, checked with
// no registry and no secret. The .cnb's empty architecture fails the
// check; the same image with its platform passes; neither is modified.
func TestLayoutCheck(t *testing.T) {
	t.Parallel()
	for _, k := range layoutKinds {
		for _, tc := range []struct {
			arch     string
			wantExit int
		}{{arch: "", wantExit: 1}, {arch: "amd64", wantExit: 0}} {
			t.Run(k.transport+"/"+tc.arch, func(t *testing.T) {
				t.Parallel()
				im := newLayoutImage("check", tc.arch)
				res := runOnLayout(t, k.name, k.archive, layoutFiles([]layoutImage{im}, []string{"1.0"}),
					map[string]string{"image": k.line(), "mode": "check", "platform": "linux/amd64", "github-token": ""})
				expectExit(t, res.Result, tc.wantExit)
				res.expectUnchanged(t, "check of "+k.line())
				digest := sha256Digest(im.manifest)
				if tc.wantExit != 0 {
					expectErrorMentions(t, res.Result, k.line(), "linux/?", "its architecture is empty")
					return
				}
				expectNoErrors(t, res.Result)
				if got, want := res.Outputs["image"], k.line()+"@"+digest; got != want {
					t.Errorf("image output = %q, want %q", got, want)
				}
				if got := res.Outputs["digest"]; got != digest {
					t.Errorf("digest output = %q, want %q", got, digest)
				}
			})
		}
	}
}

// TestLayoutCheckCLI checks a .cnb and a layout by absolute path on the
// command line: one error line naming the image, the file untouched.
func TestLayoutCheckCLI(t *testing.T) {
	t.Parallel()
	for _, k := range layoutKinds {
		t.Run(k.transport, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := filepath.Join(dir, k.name)
			writeLayout(t, p, k.archive, layoutFiles([]layoutImage{newLayoutImage("cli", "")}, []string{"1.0"}))
			before := treeState(t, dir)
			res := runCLI(t, "--check", "--platform", "linux/amd64", k.transport+":"+p)
			expectExit(t, res, 1)
			expectOneCLIError(t, res, k.transport+":"+p, "architecture")
			if diff := cmp.Diff(before, treeState(t, dir)); diff != "" {
				t.Errorf("check of %s changed it (-before +after):\n%s", p, diff)
			}
		})
	}
}

// TestLayoutPlan lists a .cnb that set would change in the matrix, and
// one already right not, writing nothing.
func TestLayoutPlan(t *testing.T) {
	t.Parallel()
	var ws string
	var before map[string]string
	res := runActionIn(t, func(w string) {
		ws = w
		writeLayout(t, filepath.Join(w, "a.cnb"), true, layoutFiles([]layoutImage{newLayoutImage("a", "")}, []string{"1"}))
		writeLayout(t, filepath.Join(w, "b.cnb"), true, layoutFiles([]layoutImage{newLayoutImage("b", "amd64")}, []string{"1"}))
		before = treeState(t, w)
	}, map[string]string{"image": "oci-archive:a.cnb\noci-archive:b.cnb", "mode": "plan", "platform": "linux/amd64"})
	expectExit(t, res, 0)
	var shards []string
	if err := json.Unmarshal([]byte(res.Outputs["matrix"]), &shards); err != nil {
		t.Fatalf("matrix output %q: %v", res.Outputs["matrix"], err)
	}
	if diff := cmp.Diff([]string{"oci-archive:a.cnb"}, shards); diff != "" {
		t.Errorf("matrix (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, treeState(t, ws)); diff != "" {
		t.Errorf("plan changed the workspace (-before +after):\n%s", diff)
	}
}

// TestLayoutSetInPlace fixes a layout and a .cnb in place: the digest
// output is the new manifest's, the image's config says linux/amd64, the
// layer is the same blob, index.json keeps its other bytes, an archive
// keeps its entry names (from "/") and leaves nothing beside it. A dry
// run reports the same digest and writes nothing.
func TestLayoutSetInPlace(t *testing.T) {
	t.Parallel()
	for _, k := range layoutKinds {
		for _, dry := range []bool{false, true} {
			t.Run(k.transport+map[bool]string{true: "/dry-run"}[dry], func(t *testing.T) {
				t.Parallel()
				im := newLayoutImage("set", "")
				res := runOnLayout(t, k.name, k.archive, layoutFiles([]layoutImage{im}, []string{"1.0"}),
					map[string]string{"image": k.line(), "platform": "linux/amd64", "dry-run": fmt.Sprint(dry)})
				expectExit(t, res.Result, 0)
				expectNoErrors(t, res.Result)
				ws := res.workspace
				p := filepath.Join(ws, k.name)
				if dry {
					res.expectUnchanged(t, "dry run")
					if res.Outputs["changed"] != "true" || res.Outputs["digest"] == sha256Digest(im.manifest) {
						t.Errorf("dry run outputs = %v, want changed true and the new digest", res.Outputs)
					}
					return
				}
				digest, platform := layoutPlatform(t, p, k.archive)
				want := imageOutputs(k.line(), sha256Digest(im.manifest), digest, true, "linux/amd64")
				want["image"] = k.line() + "@" + digest
				expectOutputs(t, res.Result, want)
				if platform != "linux/amd64" {
					t.Errorf("%s config platform = %q, want linux/amd64", k.line(), platform)
				}
				files, names := readLayoutFiles(t, p, k.archive)
				if got := files["blobs/sha256/"+strings.TrimPrefix(sha256Digest(im.layer), "sha256:")]; string(got) != string(im.layer) {
					t.Errorf("layer blob = %q, want the one the image had", got)
				}
				// Every byte of index.json but the entry's digest and size stays.
				written := layoutFiles([]layoutImage{im}, []string{"1.0"})
				newSize := len(files["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")])
				wantIndex := strings.NewReplacer(sha256Digest(im.manifest), digest, fmt.Sprintf(`"size": %d,`, len(im.manifest)), fmt.Sprintf(`"size": %d,`, newSize)).Replace(string(written[len(written)-1].body))
				if diff := cmp.Diff(wantIndex, string(files["index.json"])); diff != "" {
					t.Errorf("index.json (-want +got):\n%s", diff)
				}
				for _, n := range names {
					if !strings.HasPrefix(n, "/") {
						t.Errorf("archive entry %q, want every name from / as the .cnb had them", n)
					}
				}
				ents, err := os.ReadDir(ws)
				if err != nil {
					t.Fatal(err)
				}
				var left []string
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), resultsFilePrefix) {
						continue
					}
					left = append(left, e.Name())
				}
				if diff := cmp.Diff([]string{k.name}, left); diff != "" {
					t.Errorf("workspace after set (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestLayoutBadInputs: each bad layout line fails with one ::error:: a
// person can act on, and writes nothing.
func TestLayoutBadInputs(t *testing.T) {
	t.Parallel()
	two := layoutFiles([]layoutImage{newLayoutImage("a", ""), newLayoutImage("b", "")}, []string{"a", "b"})
	twoRepos := layoutFiles([]layoutImage{newLayoutImage("a", ""), newLayoutImage("b", "")}, []string{"docker.io/library/a:1.0", "docker.io/library/b:1.0"})
	one := layoutFiles([]layoutImage{newLayoutImage("a", "")}, []string{"1.0"})
	climbing := append([]layoutFile{{name: "../evil", body: []byte("x")}}, one...)
	for _, tc := range []struct {
		name   string
		files  []layoutFile
		inputs map[string]string
		wants  []string
	}{
		{name: "no such path", inputs: map[string]string{"image": "oci-archive:missing.cnb"}, wants: []string{"oci-archive:missing.cnb", "no such file"}},
		{name: "runner host path", inputs: map[string]string{"image": "oci-archive:/home/runner/work/r/r/bp.cnb"}, wants: []string{"/home/runner/work/r/r/bp.cnb", "relative to the workspace"}},
		{name: "REF matching nothing", files: one, inputs: map[string]string{"image": "oci-archive:bp.cnb:2.0"}, wants: []string{"2.0", "1.0"}},
		{name: "no REF, two images", files: two, inputs: map[string]string{"image": "oci-archive:bp.cnb"}, wants: []string{"oci-archive:bp.cnb", `"a"`, `"b"`}},
		{name: "REF ambiguous", files: twoRepos, inputs: map[string]string{"image": "oci-archive:bp.cnb:1.0"}, wants: []string{"oci-archive:bp.cnb:1.0", "docker.io/library/a:1.0", "docker.io/library/b:1.0"}},
		{name: "entry climbing out", files: climbing, inputs: map[string]string{"image": "oci-archive:bp.cnb"}, wants: []string{"../evil"}},
		{name: "a directory named as an archive", inputs: map[string]string{"image": "oci-archive:."}, wants: []string{"oci:."}},
		{name: "one archive twice to a bare tag", files: two, inputs: map[string]string{"image": "oci-archive:bp.cnb:a\noci-archive:bp.cnb:b", "tag": "fixed"}, wants: []string{"tag", "would both be written"}},
		{name: "tag pattern matching nothing", files: one, inputs: map[string]string{"image": "oci-archive:bp.cnb:2.*"}, wants: []string{"oci-archive:bp.cnb:2.*", "matches none"}},
		{name: "docker-daemon with a tag", inputs: map[string]string{"image": "docker-daemon:app:1", "tag": "fixed"}, wants: []string{"input tag", "docker-daemon:app:1", "a bare tag is not supported"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.inputs["platform"] = "linux/amd64"
			res := runOnLayout(t, "bp.cnb", true, tc.files, tc.inputs)
			if res.ExitCode == 0 {
				t.Fatalf("exit code = 0, want non-zero\n%s", res.Result)
			}
			expectErrorMentions(t, res.Result, tc.wants...)
			res.expectUnchanged(t, "the run")
		})
	}
}

// TestLayoutAuto sets the platform a .cnb's binaries say (platform auto),
// in place.
func TestLayoutAuto(t *testing.T) {
	t.Parallel()
	l := helloLayer(t, "hello-linux-arm64")
	im := newLayoutImageWith("auto", "", l.data, l.mediaType, l.diffID)
	var ws string
	res := runActionIn(t, func(w string) {
		ws = w
		writeLayout(t, filepath.Join(w, "bp.cnb"), true, layoutFiles([]layoutImage{im}, []string{"1.0"}))
	}, map[string]string{"image": "oci-archive:bp.cnb", "platform": "auto"})
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	digest, platform := layoutPlatform(t, filepath.Join(ws, "bp.cnb"), true)
	if platform != "linux/arm64" || res.Outputs["digest"] != digest || res.Outputs["platform"] != "linux/arm64" {
		t.Errorf("after auto: config %s, outputs %v; want linux/arm64 and digest %s", platform, res.Outputs, digest)
	}
}

// TestDockerArchive checks a docker save tar (manifest.json only), then
// sets it in place: the digest output is the new image ID (the config's
// digest, as docker load names it), manifest.json points at the new
// config, and the layer stays.
func TestDockerArchive(t *testing.T) {
	t.Parallel()
	im := newLayoutImage("docker", "")
	var ws string
	setup := func(w string) {
		ws = w
		writeLayout(t, filepath.Join(w, "app.tar"), true, dockerArchiveFiles(im, "app:1"))
	}
	check := runActionIn(t, setup, map[string]string{"image": "docker-archive:app.tar", "mode": "check", "platform": "linux/amd64"})
	expectExit(t, check, 1)
	expectErrorMentions(t, check, "docker-archive:app.tar", "architecture")

	res := runActionIn(t, setup, map[string]string{"image": "docker-archive:app.tar:app:1", "platform": "linux/amd64"})
	expectExit(t, res, 0)
	expectNoErrors(t, res)
	files, _ := readLayoutFiles(t, filepath.Join(ws, "app.tar"), true)
	var items []struct{ Config string }
	if err := json.Unmarshal(files["manifest.json"], &items); err != nil || len(items) != 1 {
		t.Fatalf("manifest.json = %s (%v), want one item", files["manifest.json"], err)
	}
	config := files[items[0].Config]
	id := sha256Digest(config)
	expectOutputs(t, res, imageOutputs("docker-archive:app.tar", sha256Digest(im.config), id, true, "linux/amd64"))
	if !strings.Contains(string(config), `"architecture": "amd64"`) {
		t.Errorf("config %s = %s, want architecture amd64", items[0].Config, config)
	}
	if got := files[strings.Repeat("1", 64)+"/layer.tar"]; string(got) != string(im.layer) {
		t.Errorf("layer = %q, want %q", got, im.layer)
	}
}

// TestLayoutReferrers names an SBOM in the layout whose subject is the
// image: with referrers warn the image is set and a warning names it
// (found-by layout in results); with referrers fail nothing is written.
func TestLayoutReferrers(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"warn", "fail"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			im := newLayoutImage("referred", "")
			files, sbom := withSBOM(layoutFiles([]layoutImage{im}, []string{"1.0"}), im)
			res := runOnLayout(t, "out", false, files, map[string]string{"image": "oci:out:1.0", "platform": "linux/amd64", "referrers": policy})
			if policy == "fail" {
				expectExit(t, res.Result, 1)
				expectErrorMentions(t, res.Result, "oci:out:1.0", "nothing written", "1 referrer")
				res.expectUnchanged(t, "referrers fail")
				return
			}
			expectExit(t, res.Result, 0)
			if !anyContainsAll(res.commandLines("warning"), []string{"oci:out:1.0", sha256Digest(im.manifest)}) || !strings.Contains(res.Stdout, sbom) {
				t.Errorf("warnings %q and log do not name the SBOM %s of %s", res.commandLines("warning"), sbom, sha256Digest(im.manifest))
			}
			rs := res.results(t)
			want := []any{map[string]any{"subject": sha256Digest(im.manifest), "digest": sbom, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/spdx+json", "found-by": "layout"}}
			if len(rs) != 1 {
				t.Fatalf("results = %v, want one", rs)
			}
			if diff := cmp.Diff(want, rs[0]["referrers"]); diff != "" {
				t.Errorf("results referrers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLayoutBareTag names the fixed image with a bare tag in its own
// .cnb: the source's name keeps the old manifest, the new name the new
// one, and the outputs name the archive.
func TestLayoutBareTag(t *testing.T) {
	t.Parallel()
	im := newLayoutImage("bare", "")
	res := runOnLayout(t, "bp.cnb", true, layoutFiles([]layoutImage{im}, []string{"1.0"}),
		map[string]string{"image": "oci-archive:bp.cnb:1.0", "platform": "linux/amd64", "tag": "1.0-amd64"})
	expectExit(t, res.Result, 0)
	expectNoErrors(t, res.Result)
	got := layoutNames(t, filepath.Join(res.workspace, "bp.cnb"), true)
	digest := res.Outputs["digest"]
	if diff := cmp.Diff(map[string]string{"1.0": sha256Digest(im.manifest), "1.0-amd64": digest}, got); diff != "" {
		t.Errorf("index.json names (-want +got):\n%s", diff)
	}
	expectOutputs(t, res.Result, imageOutputs("oci-archive:bp.cnb", sha256Digest(im.manifest), digest, true, "linux/amd64"))
}

// TestLayoutPattern sets every name of a .cnb a tag pattern matches, in
// one run: the other name stays as it was.
func TestLayoutPattern(t *testing.T) {
	t.Parallel()
	ims := []layoutImage{newLayoutImage("p1.0", ""), newLayoutImage("p1.1", ""), newLayoutImage("p2.0", "")}
	res := runOnLayout(t, "bp.cnb", true, layoutFiles(ims, []string{"1.0", "1.1", "2.0"}),
		map[string]string{"image": "oci-archive:bp.cnb:1.*", "platform": "linux/amd64"})
	expectExit(t, res.Result, 0)
	expectNoErrors(t, res.Result)
	var sources []string
	for _, r := range res.results(t) {
		sources = append(sources, fmt.Sprint(r["source"], " ", r["changed"]))
	}
	if diff := cmp.Diff([]string{"oci-archive:bp.cnb:1.0 true", "oci-archive:bp.cnb:1.1 true"}, sources); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	digests := strings.Split(res.Outputs["digest"], "\n")
	want := map[string]string{"1.0": digests[0], "1.1": digests[1], "2.0": sha256Digest(ims[2].manifest)}
	if diff := cmp.Diff(want, layoutNames(t, filepath.Join(res.workspace, "bp.cnb"), true)); diff != "" {
		t.Errorf("index.json names (-want +got):\n%s", diff)
	}
}

// carryFixture is a layout holding an image named 1.0 with an architecture
// of "", and three referrers of it: an SBOM index.json lists (oras), a
// CycloneDX SBOM an index at the referrers tag lists, and a notation
// signature index.json lists.
type carryFixture struct {
	im                 layoutImage
	files              []layoutFile
	sbom, nested, sign []byte
}

func newCarryFixture(seed string) carryFixture {
	fx := carryFixture{im: newLayoutImage(seed, "")}
	fx.files = layoutFiles([]layoutImage{fx.im}, []string{"1.0"})
	fx.files, fx.sbom = withArtifact(fx.files, fx.im, "application/spdx+json", false)
	fx.files, fx.nested = withArtifact(fx.files, fx.im, "application/vnd.cyclonedx+json", true)
	fx.files, fx.sign = withArtifact(fx.files, fx.im, "application/vnd.cncf.notary.signature", false)
	return fx
}

// expectCarried fails t unless the layout at p holds the fixed image at
// name and fx's unsigned referrers carried to it: the SBOM re-pointed and
// listed last in index.json, the CycloneDX SBOM in the index of the new
// digest's referrers tag; every entry before them kept, the signature
// left with the old digest.
func (fx carryFixture) expectCarried(t *testing.T, p string, archive bool, name string) {
	t.Helper()
	files, _ := readLayoutFiles(t, p, archive)
	digest := layoutNames(t, p, archive)[name]
	fixed := layoutBlob(t, p, files, digest)
	sbom, nested := repointed(fx.sbom, fx.im, fixed), repointed(fx.nested, fx.im, fixed)
	var got []string
	for _, e := range indexEntries(t, p, archive) {
		got = append(got, e.Digest+" "+e.Annotations["org.opencontainers.image.ref.name"])
	}
	old, tagOf := sha256Digest(fx.im.manifest), func(d string) string { return strings.Replace(d, ":", "-", 1) }
	first := old
	if name == "1.0" {
		first = digest
	}
	var fallback struct{ Manifests []struct{ Digest string } }
	newTag := layoutNames(t, p, archive)[tagOf(digest)]
	if err := json.Unmarshal(layoutBlob(t, p, files, newTag), &fallback); err != nil || len(fallback.Manifests) != 1 || fallback.Manifests[0].Digest != sha256Digest(nested) {
		t.Errorf("index at %s = %s (%v), want it to list %s", tagOf(digest), layoutBlob(t, p, files, newTag), err, sha256Digest(nested))
	}
	want := []string{first + " 1.0", sha256Digest(fx.sbom) + " ", layoutNames(t, p, archive)[tagOf(old)] + " " + tagOf(old), sha256Digest(fx.sign) + " "}
	if name != "1.0" {
		want = append(want, digest+" "+name)
	}
	want = append(want, sha256Digest(sbom)+" ", newTag+" "+tagOf(digest))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("index.json entries of %s (-want +got):\n%s", p, diff)
	}
	for _, b := range [][]byte{sbom, nested} {
		if !bytes.Equal(layoutBlob(t, p, files, sha256Digest(b)), b) {
			t.Errorf("carried referrer %s of %s is not the old one re-pointed", sha256Digest(b), p)
		}
	}
}

// expectInResults fails t unless the results of res list fx's three
// referrers, found in the layout.
func (fx carryFixture) expectInResults(t *testing.T, res Result) {
	t.Helper()
	var got []string
	for _, r := range res.results(t)[0]["referrers"].([]any) {
		m := r.(map[string]any)
		got = append(got, fmt.Sprint(m["digest"], " ", m["found-by"]))
	}
	want := []string{sha256Digest(fx.sbom) + " layout", sha256Digest(fx.sign) + " layout", sha256Digest(fx.nested) + " layout"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results referrers (-want +got):\n%s", diff)
	}
}

// carried are the digests of fx's SBOMs carried to the image name in the
// layout directory p.
func (fx carryFixture) carried(t *testing.T, p, name string) []string {
	t.Helper()
	files, _ := readLayoutFiles(t, p, false)
	fixed := layoutBlob(t, p, files, layoutNames(t, p, false)[name])
	return []string{sha256Digest(repointed(fx.sbom, fx.im, fixed)), sha256Digest(repointed(fx.nested, fx.im, fixed))}
}

// expectDiscovered fails t unless oras, as a user runs it on the layout
// directory p, lists want as the referrers of digest. Without oras on
// PATH it says so in the log and checks nothing.
func expectDiscovered(t *testing.T, p, digest string, want []string) {
	t.Helper()
	oras, err := exec.LookPath("oras")
	if err != nil {
		t.Logf("oras is not on PATH: the layout is not read by oras discover")
		return
	}
	out, err := exec.Command(oras, "discover", "--oci-layout", "--format", "json", p+"@"+digest).Output()
	if err != nil {
		t.Fatalf("oras discover --oci-layout %s@%s: %v", p, digest, err)
	}
	var found struct{ Manifests []struct{ Digest string } }
	if err := json.Unmarshal(out, &found); err != nil {
		t.Fatalf("oras discover output %s: %v", out, err)
	}
	var got []string
	for _, m := range found.Manifests {
		got = append(got, m.Digest)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("oras discover --oci-layout %s@%s (-want +got):\n%s", p, digest, diff)
	}
}

// TestLayoutReferrersCarry carries the unsigned referrers of a layout's
// or .cnb's image over to the fixed image, in place and to a bare tag,
// through both doors; the notation signature stays, named in a warning
// with the command that signs the new digest; a dry run writes nothing.
func TestLayoutReferrersCarry(t *testing.T) {
	t.Parallel()
	for _, k := range layoutKinds {
		for _, tag := range []string{"", "1.0-amd64"} {
			t.Run(k.transport+"/tag="+tag, func(t *testing.T) {
				t.Parallel()
				fx := newCarryFixture("carry" + k.name + tag)
				res := runOnLayout(t, k.name, k.archive, fx.files, map[string]string{"image": k.line() + ":1.0", "platform": "linux/amd64", "referrers": "carry", "tag": tag})
				expectExit(t, res.Result, 0)
				expectNoErrors(t, res.Result)
				name := tag
				if name == "" {
					name = "1.0"
				}
				fx.expectCarried(t, filepath.Join(res.workspace, k.name), k.archive, name)
				if !k.archive {
					expectDiscovered(t, filepath.Join(res.workspace, k.name), res.Outputs["digest"], fx.carried(t, filepath.Join(res.workspace, k.name), name))
				}
				if w := res.commandLines("warning"); len(w) != 1 || !strings.Contains(res.Stdout, sha256Digest(fx.sign)) || !strings.Contains(w[0], "notation sign --key <key> "+k.transport+":"+k.name+"@"+res.Outputs["digest"]) {
					t.Errorf("warnings = %q, want one naming the signature %s and how to sign %s", w, sha256Digest(fx.sign), res.Outputs["digest"])
				}
				fx.expectInResults(t, res.Result)
			})
		}
	}
	t.Run("cli", func(t *testing.T) {
		t.Parallel()
		fx := newCarryFixture("carry-cli")
		p := filepath.Join(t.TempDir(), "bp.cnb")
		writeLayout(t, p, true, fx.files)
		res := runCLI(t, "--platform", "linux/amd64", "--referrers", "carry", "oci-archive:"+p+":1.0")
		expectExit(t, res, 0)
		fx.expectCarried(t, p, true, "1.0")
	})
	t.Run("dry-run", func(t *testing.T) {
		t.Parallel()
		fx := newCarryFixture("carry-dry")
		res := runOnLayout(t, "out", false, fx.files, map[string]string{"image": "oci:out:1.0", "platform": "linux/amd64", "referrers": "carry", "dry-run": "true"})
		expectExit(t, res.Result, 0)
		res.expectUnchanged(t, "a dry run with referrers carry")
		if !strings.Contains(res.Stdout, "would carry 1 referrer") {
			t.Errorf("log = %q, want it to say what it would carry", res.Stdout)
		}
	})
}
