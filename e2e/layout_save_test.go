package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestLayoutSave saves a registry image fixed into a layout or archive
// that tag names (oci:out:1.0), new or holding another image already:
// the layout gets the fixed manifest under the name, with every blob,
// each its digest's bytes (a layer is the registry's own); an index is
// saved child by child; an image already right is saved as it is. The
// registry gets no write, and its tag stays.
func TestLayoutSave(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, tag string
		// at is the layout's path in the workspace, and archive its kind.
		at      string
		archive bool
		// existing are the layout's files before the run; nil for none.
		existing []layoutFile
		index    bool
		right    bool
	}{
		{name: "new layout", tag: "oci:out:1.0", at: "out"},
		{name: "new archive", tag: "oci-archive:app.tar:1.0", at: "app.tar", archive: true},
		{name: "existing cnb", tag: "oci-archive:bp.cnb:1.0", at: "bp.cnb", archive: true,
			existing: layoutFiles([]layoutImage{newLayoutImage("old", "amd64")}, []string{"0.9"})},
		{name: "over a name with a platform", tag: "oci:out:1.0", at: "out",
			existing: withEntryPlatform(layoutFiles([]layoutImage{newLayoutImage("old", "arm64")}, []string{"1.0"}), `{"architecture": "arm64", "os": "linux"}`)},
		{name: "index", tag: "oci:out:1.0", at: "out", index: true},
		{name: "already right", tag: "oci:out:1.0", at: "out", right: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var reg *testRegistry
			var src, wantPlatforms string
			switch {
			case tc.index:
				reg, src = newIndexRegistry(t, buildxIndex(t))
				wantPlatforms = "linux/amd64,linux/arm64,unknown/unknown,unknown/unknown"
			case tc.right:
				reg, src = newAppRegistry(t, registryOptions{}, packImageWith(t, 2, `"architecture":"amd64"`))
				wantPlatforms = "linux/amd64"
			default:
				reg, src = newAppRegistry(t, registryOptions{}, packImage(t, 2))
				wantPlatforms = "linux/amd64"
			}
			inputs := map[string]string{"image": reg.ref("app:1.0"), "tag": tc.tag, "platform": "linux/amd64"}
			if tc.index {
				inputs["platform"] = ""
			}
			res := runOnLayout(t, tc.at, tc.archive, tc.existing, inputs)
			reg.proxy.log(t, "requests of the save")
			expectExit(t, res.Result, 0)
			expectNoErrors(t, res.Result)
			expectNoWrites(t, reg.proxy)
			expectEachReadOnce(t, reg.proxy)
			expectAt(t, reg, "app:1.0", src)
			p := filepath.Join(res.workspace, tc.at)
			digest, platforms := savedImage(t, p, tc.archive, "1.0")
			if got := strings.Join(platforms, ","); got != wantPlatforms {
				t.Errorf("saved image's config platforms = %s, want %s", got, wantPlatforms)
			}
			if tc.right && digest != src {
				t.Errorf("saved digest = %s, want the registry's own %s: an image already right is saved unchanged", digest, src)
			}
			transport, _, _ := strings.Cut(tc.tag, ":")
			want := imageOutputs(transport+":"+tc.at, src, digest, !tc.right, res.Outputs["platform"])
			expectOutputs(t, res.Result, want)
			switch tc.name {
			case "existing cnb":
				old := sha256Digest(newLayoutImage("old", "amd64").manifest)
				if diff := cmp.Diff(map[string]string{"0.9": old + " /", "1.0": digest + " /"}, entryPlatforms(t, p, tc.archive)); diff != "" {
					t.Errorf("index.json entries (-want +got):\n%s", diff)
				}
			case "over a name with a platform":
				// The name moves to the new image, and its platform with it.
				if diff := cmp.Diff(map[string]string{"1.0": digest + " linux/amd64"}, entryPlatforms(t, p, tc.archive)); diff != "" {
					t.Errorf("index.json entries (-want +got):\n%s", diff)
				}
			}
			expectOnlyIn(t, res.workspace, tc.at)
		})
	}
}

// expectEachReadOnce fails t when the proxy saw a manifest or blob
// fetched twice: what was read to plan is saved from memory.
func expectEachReadOnce(t testing.TB, p *recordingProxy) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range p.requests() {
		if r.Method == http.MethodGet && seen[r.Path] {
			t.Errorf("%s fetched twice, want once:\n%s", r.Path, formatRequests(p.requests()))
		}
		seen[r.Path] = true
	}
}

// expectOnlyIn fails t unless the workspace holds name and nothing else
// (but the action's results file): an archive is written beside itself
// and renamed, leaving nothing.
func expectOnlyIn(t testing.TB, workspace, name string) {
	t.Helper()
	ents, err := os.ReadDir(workspace)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), resultsFilePrefix) {
			left = append(left, e.Name())
		}
	}
	if diff := cmp.Diff([]string{name}, left); diff != "" {
		t.Errorf("workspace after the run (-want +got):\n%s", diff)
	}
}

// TestLayoutSaveCLI saves a registry image fixed into a layout named by
// an absolute path with --tag: stdout names the image in the layout.
func TestLayoutSaveCLI(t *testing.T) {
	t.Parallel()
	reg, _ := newAppRegistry(t, registryOptions{}, packImage(t, 1))
	dir := filepath.Join(t.TempDir(), "out")
	res := runCLI(t, "--platform", "linux/amd64", "--tag", "oci:"+dir+":1.0", reg.ref("app:1.0"))
	expectExit(t, res, 0)
	expectNoWrites(t, reg.proxy)
	digest, platforms := savedImage(t, dir, false, "1.0")
	if !strings.Contains(res.Stdout, digest) || strings.Join(platforms, ",") != "linux/amd64" {
		t.Errorf("stdout = %q, config platforms %v; want the digest saved, %s, and linux/amd64", res.Stdout, platforms, digest)
	}
}

// TestLayoutSaveFromLayout saves a .cnb fixed into a new layout, and a
// layout into a new archive: every blob is copied, the source is left as
// it was.
func TestLayoutSaveFromLayout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, image, src, tag, at string
		srcArchive, archive       bool
	}{
		{name: "cnb to layout", image: "oci-archive:a.cnb", src: "a.cnb", tag: "oci:out:1.0", at: "out", srcArchive: true},
		{name: "layout to archive", image: "oci:src:1.0", src: "src", tag: "oci-archive:b.tar:1.0", at: "b.tar", archive: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := newLayoutImage("save "+tc.name, "")
			srcPath := tc.src
			var srcBefore map[string]string
			var ws string
			res := runActionIn(t, func(w string) {
				ws = w
				writeLayout(t, filepath.Join(w, srcPath), tc.srcArchive, layoutFiles([]layoutImage{im}, []string{"1.0"}))
				srcBefore = treeState(t, filepath.Join(w, srcPath))
			}, map[string]string{"image": tc.image, "tag": tc.tag, "platform": "linux/amd64"})
			expectExit(t, res, 0)
			expectNoErrors(t, res)
			if diff := cmp.Diff(srcBefore, treeState(t, filepath.Join(ws, srcPath))); diff != "" {
				t.Errorf("the source changed (-before +after):\n%s", diff)
			}
			p := filepath.Join(ws, tc.at)
			digest, platforms := savedImage(t, p, tc.archive, "1.0")
			if diff := cmp.Diff([]string{"linux/amd64"}, platforms); diff != "" {
				t.Errorf("saved config platforms (-want +got):\n%s", diff)
			}
			files, _ := readLayoutFiles(t, p, tc.archive)
			if got := files["blobs/sha256/"+strings.TrimPrefix(sha256Digest(im.layer), "sha256:")]; string(got) != string(im.layer) {
				t.Errorf("saved layer = %q, want the source's %q", got, im.layer)
			}
			transport, _, _ := strings.Cut(tc.tag, ":")
			expectOutputs(t, res, imageOutputs(transport+":"+tc.at, sha256Digest(im.manifest), digest, true, "linux/amd64"))
		})
	}
}

// TestLayoutSaveReadOnly: check, plan and a dry run with a tag naming a
// layout read the image and write nothing: no layout is created, one
// that is there keeps its bytes and mtime, the registry gets no write.
func TestLayoutSaveReadOnly(t *testing.T) {
	t.Parallel()
	existing := layoutFiles([]layoutImage{newLayoutImage("there", "amd64")}, []string{"0.9"})
	for _, tc := range []struct {
		name     string
		inputs   map[string]string
		files    []layoutFile
		wantExit int
		// wantError is what the one ::error:: says, if any: check fails on
		// the image, not on the tag.
		wantError string
	}{
		{name: "check", inputs: map[string]string{"mode": "check", "tag": "oci:out:1.0"}, wantExit: 1, wantError: "architecture"},
		{name: "plan", inputs: map[string]string{"mode": "plan", "tag": "oci-archive:bp.cnb:1.0"}},
		{name: "dry run, new layout", inputs: map[string]string{"dry-run": "true", "tag": "oci:out:1.0"}},
		{name: "dry run, new archive", inputs: map[string]string{"dry-run": "true", "tag": "oci-archive:new.tar:1.0"}},
		{name: "dry run, existing cnb", inputs: map[string]string{"dry-run": "true", "tag": "oci-archive:bp.cnb:1.0"}, files: existing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, src := newAppRegistry(t, registryOptions{}, packImage(t, 1))
			tc.inputs["image"], tc.inputs["platform"] = reg.ref("app:1.0"), "linux/amd64"
			res := runOnLayout(t, "bp.cnb", true, tc.files, tc.inputs)
			expectExit(t, res.Result, tc.wantExit)
			if tc.wantError != "" {
				expectErrorMentions(t, res.Result, reg.ref("app:1.0"), tc.wantError)
			}
			res.expectUnchanged(t, tc.name)
			expectNoWrites(t, reg.proxy)
			expectAt(t, reg, "app:1.0", src)
		})
	}
}

// TestLayoutEntryPlatform fixes an image whose index.json entry carries
// a platform, as crane and containerd write it: set in place writes the
// entry's platform too (every other byte of index.json kept), also when
// only the entry was wrong; a new name gets the platform; check fails on
// an entry that disagrees with its config.
func TestLayoutEntryPlatform(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, arch, entry string
		inputs            map[string]string
		wantExit          int
		// wantEntry is the entry's platform after the run; "" leaves
		// index.json as the run found it.
		wantEntry string
		wantError string
	}{
		{name: "set in place", arch: "", entry: `{"architecture": "", "os": "linux"}`, wantEntry: `{"architecture": "amd64", "os": "linux"}`},
		{name: "only the entry wrong", arch: "amd64", entry: `{"architecture": "arm64", "os": "linux"}`, wantEntry: `{"architecture": "amd64", "os": "linux"}`},
		{name: "check, entry disagrees", arch: "amd64", entry: `{"architecture": "arm64", "os": "linux"}`, inputs: map[string]string{"mode": "check"}, wantExit: 1, wantError: "index entry says linux/arm64, config says linux/amd64"},
		{name: "check, entry agrees", arch: "amd64", entry: `{"architecture": "amd64", "os": "linux"}`, inputs: map[string]string{"mode": "check"}},
	} {
		for _, k := range layoutKinds {
			t.Run(tc.name+"/"+k.transport, func(t *testing.T) {
				t.Parallel()
				im := newLayoutImage("entry "+tc.name, tc.arch)
				files := withEntryPlatform(layoutFiles([]layoutImage{im}, []string{"1.0"}), tc.entry)
				inputs := map[string]string{"image": k.line(), "platform": "linux/amd64"}
				for key, v := range tc.inputs {
					inputs[key] = v
				}
				res := runOnLayout(t, k.name, k.archive, files, inputs)
				expectExit(t, res.Result, tc.wantExit)
				if tc.wantError != "" {
					expectErrorMentions(t, res.Result, k.line(), tc.wantError)
				}
				if tc.wantEntry == "" {
					res.expectUnchanged(t, tc.name)
					return
				}
				p := filepath.Join(res.workspace, k.name)
				digest, platforms := savedImage(t, p, k.archive, "1.0")
				if diff := cmp.Diff([]string{"linux/amd64"}, platforms); diff != "" {
					t.Errorf("config platforms (-want +got):\n%s", diff)
				}
				got, _ := readLayoutFiles(t, p, k.archive)
				newSize := len(got["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")])
				old := string(files[len(files)-1].body)
				wantIndex := strings.NewReplacer(sha256Digest(im.manifest), digest, tc.entry, tc.wantEntry,
					fmt.Sprintf(`"size": %d,`, len(im.manifest)), fmt.Sprintf(`"size": %d,`, newSize)).Replace(old)
				if diff := cmp.Diff(wantIndex, string(got["index.json"])); diff != "" {
					t.Errorf("index.json (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestLayoutEntryPlatformNewName names the fixed image with a bare tag
// in its .cnb, whose entry carries a platform: the new entry gets the
// platform the image now declares, the old one stays as it was.
func TestLayoutEntryPlatformNewName(t *testing.T) {
	t.Parallel()
	im := newLayoutImage("entry new name", "")
	files := withEntryPlatform(layoutFiles([]layoutImage{im}, []string{"1.0"}), `{"architecture": "", "os": "linux"}`)
	res := runOnLayout(t, "bp.cnb", true, files, map[string]string{"image": "oci-archive:bp.cnb:1.0", "platform": "linux/amd64", "tag": "fixed"})
	expectExit(t, res.Result, 0)
	want := map[string]string{
		"1.0":   sha256Digest(im.manifest) + " linux/",
		"fixed": res.Outputs["digest"] + " linux/amd64",
	}
	if diff := cmp.Diff(want, entryPlatforms(t, filepath.Join(res.workspace, "bp.cnb"), true)); diff != "" {
		t.Errorf("index.json entries (-want +got):\n%s", diff)
	}
}

// withEntryPlatform gives the entries of files' index.json (layoutFiles)
// the platform object p, before their annotations, as crane writes it.
func withEntryPlatform(files []layoutFile, p string) []layoutFile {
	out := append([]layoutFile(nil), files...)
	last := &out[len(out)-1]
	last.body = []byte(strings.ReplaceAll(string(last.body), `, "annotations"`, `, "platform": `+p+`, "annotations"`))
	return out
}

// TestLayoutSaveBadInputs: each bad tag naming a layout fails with one
// ::error:: a person can act on, writes nothing in the registry, and
// leaves the workspace as it was.
func TestLayoutSaveBadInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		images []string
		tag    string
		wants  []string
	}{
		{name: "tag pattern into a layout", images: []string{"app:1.0"}, tag: "oci:out:1.*", wants: []string{"input tag", "oci:out:1.*", "tag pattern"}},
		{name: "image pattern into a layout", images: []string{"app:1.*"}, tag: "oci:out:1.0", wants: []string{"input tag", "app:1.*", "tag pattern"}},
		{name: "layout that is a file", images: []string{"app:1.0"}, tag: "oci:notes.txt:1.0", wants: []string{"notes.txt", "is a file", "oci-archive:notes.txt"}},
		{name: "archive that is a directory", images: []string{"app:1.0"}, tag: "oci-archive:dir:1.0", wants: []string{"dir", "is a directory", "oci:dir"}},
		{name: "archive that is not a tar", images: []string{"app:1.0"}, tag: "oci-archive:notes.txt:1.0", wants: []string{"oci-archive:notes.txt", "reading archive"}},
		{name: "two images to one name", images: []string{"app:1.0", "app:2.0"}, tag: "oci:out:1.0", wants: []string{"input tag", "would both be written", "oci:out:1.0"}},
		{name: "docker-archive", images: []string{"app:1.0"}, tag: "docker-archive:app.tar:1.0", wants: []string{"input tag", "docker-archive", "oci-archive:"}},
		{name: "no name in the layout", images: []string{"app:1.0"}, tag: "oci:out", wants: []string{"input tag", "oci:out:1.0"}},
		{name: "a digest as the name", images: []string{"app:1.0"}, tag: "oci:out:sha256:" + strings.Repeat("a", 64), wants: []string{"input tag", "names a digest", "oci:out:1.0"}},
		{name: "the Docker engine", images: []string{"app:1.0"}, tag: "docker-daemon:app:fixed", wants: []string{"input tag", "docker-daemon:app:fixed", "oci-archive:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, src := newAppRegistry(t, registryOptions{}, packImage(t, 1))
			reg.push(t, "app:2.0", packImage(t, 1))
			reg.proxy.reset()
			var lines []string
			for _, im := range tc.images {
				lines = append(lines, reg.ref(im))
			}
			var ws string
			var before map[string]string
			res := runActionIn(t, func(w string) {
				ws = w
				if err := os.WriteFile(filepath.Join(w, "notes.txt"), []byte("not a layout\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(filepath.Join(w, "dir"), 0o755); err != nil {
					t.Fatal(err)
				}
				before = treeState(t, w)
			}, map[string]string{"image": strings.Join(lines, "\n"), "tag": tc.tag, "platform": "linux/amd64"})
			if res.ExitCode == 0 {
				t.Fatalf("exit code = 0, want non-zero\n%s", res)
			}
			expectErrorMentions(t, res, tc.wants...)
			expectNoWrites(t, reg.proxy)
			expectAt(t, reg, "app:1.0", src)
			if diff := cmp.Diff(before, treeState(t, ws)); diff != "" {
				t.Errorf("the run changed the workspace (-before +after):\n%s", diff)
			}
		})
	}
}

// TestLayoutSaveBlobMissesDigest: a layer the registry serves with other
// bytes than its digest fails the save with one ::error::, and nothing is
// left in the workspace: no new layout, no new archive, no temporary file.
func TestLayoutSaveBlobMissesDigest(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{"oci:out:1.0", "oci-archive:app.tar:1.0"} {
		t.Run(tag, func(t *testing.T) {
			t.Parallel()
			im := packImage(t, 1)
			reg, src := newAppRegistry(t, registryOptions{}, im)
			layer := im.layers[0]
			reg.proxy.inject(func(r *http.Request) (int, http.Header, string, bool) {
				if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+layer.digest) {
					return 0, nil, "", false
				}
				return http.StatusOK, http.Header{"Content-Type": {"application/octet-stream"}}, strings.Repeat("x", len(layer.data)), true
			})
			res := runOnLayout(t, "app.tar", true, nil, map[string]string{"image": reg.ref("app:1.0"), "tag": tag, "platform": "linux/amd64"})
			expectExit(t, res.Result, 1)
			expectErrorMentions(t, res.Result, reg.ref("app:1.0"), tag, layer.digest)
			res.expectUnchanged(t, "a failed save")
			expectNoWrites(t, reg.proxy)
			expectAt(t, reg, "app:1.0", src)
		})
	}
}

// TestLayoutWithRegistryImages works registry lines and a .cnb in one
// run, in line order: set fixes each where it is (the registry tags move,
// the .cnb is rewritten in place), and a plan lists all three lines.
func TestLayoutWithRegistryImages(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"set", "plan"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			reg, first := newAppRegistry(t, registryOptions{}, packImage(t, 1))
			second := reg.push(t, "app:2.0", packImage(t, 2))
			im := newLayoutImage("mixed "+mode, "")
			lines := []string{reg.ref("app:1.0"), "oci-archive:bp.cnb", reg.ref("app:2.0")}
			res := runOnLayout(t, "bp.cnb", true, layoutFiles([]layoutImage{im}, []string{"1.0"}),
				map[string]string{"image": strings.Join(lines, "\n"), "platform": "linux/amd64", "mode": mode})
			expectExit(t, res.Result, 0)
			expectNoErrors(t, res.Result)
			var sources []string
			for _, r := range res.results(t) {
				sources = append(sources, fmt.Sprint(r["source"], " ", r["changed"]))
			}
			if diff := cmp.Diff([]string{lines[0] + " true", lines[1] + " true", lines[2] + " true"}, sources); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if mode == "plan" {
				var shards []string
				if err := json.Unmarshal([]byte(res.Outputs["matrix"]), &shards); err != nil {
					t.Fatalf("matrix output %q: %v", res.Outputs["matrix"], err)
				}
				var listed []string
				for _, sh := range shards {
					listed = append(listed, strings.Split(sh, "\n")...)
				}
				if diff := cmp.Diff(lines, listed, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
					t.Errorf("matrix lines (-want +got):\n%s", diff)
				}
				res.expectUnchanged(t, "plan")
				expectNoWrites(t, reg.proxy)
				return
			}
			cnb, platform := layoutPlatform(t, filepath.Join(res.workspace, "bp.cnb"), true)
			want := []string{reg.digestOf(t, "app:1.0"), cnb, reg.digestOf(t, "app:2.0")}
			if diff := cmp.Diff(strings.Join(want, "\n"), res.Outputs["digest"]); diff != "" || platform != "linux/amd64" {
				t.Errorf("digest output (-want +got):\n%s\n.cnb platform %s, want linux/amd64", diff, platform)
			}
			if want[0] == first || want[2] == second {
				t.Errorf("registry tags = %s, %s after the run, want both moved from %s, %s", want[0], want[2], first, second)
			}
		})
	}
}

// TestLayoutSaveRerun saves the same registry image into the same layout
// or archive twice: the second run fetches no layer (the layout holds
// them) and leaves every file as the first run wrote it.
func TestLayoutSaveRerun(t *testing.T) {
	t.Parallel()
	for _, k := range []struct{ transport, name string }{{"oci", "out"}, {"oci-archive", "app.tar"}} {
		t.Run(k.transport, func(t *testing.T) {
			t.Parallel()
			im := packImage(t, 2)
			reg, _ := newAppRegistry(t, registryOptions{}, im)
			dir := t.TempDir()
			tag := k.transport + ":" + filepath.Join(dir, k.name) + ":1.0"
			first := runCLI(t, "--platform", "linux/amd64", "--tag", tag, reg.ref("app:1.0"))
			expectExit(t, first, 0)
			after := treeState(t, dir)
			reg.proxy.reset()
			again := runCLI(t, "--platform", "linux/amd64", "--tag", tag, reg.ref("app:1.0"))
			expectExit(t, again, 0)
			if rs := reg.proxy.naming(im.layerDigests()...); len(rs) > 0 {
				t.Errorf("the rerun fetched layers the layout holds:\n%s", formatRequests(rs))
			}
			if diff := cmp.Diff(after, treeState(t, dir)); diff != "" {
				t.Errorf("the rerun changed the layout (-first run +rerun):\n%s", diff)
			}
		})
	}
}

// TestLayoutWithRegistryPattern puts a registry tag pattern beside a .cnb
// in one run, through both doors: the pattern's tags go where its line
// was, and tags sharing a digest (app:1.0, app:1.1 and the line app:2.0)
// are worked once, their config read once and each tag's manifest put
// once. A pattern matching nothing, or one with tag, fails the run before
// anything is written.
func TestLayoutWithRegistryPattern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		lines func(reg *testRegistry) []string
		want  func(reg *testRegistry) []string // the results' sources
	}{
		{"pattern first", func(reg *testRegistry) []string {
			return []string{reg.ref("app:1.*"), "oci-archive:bp.cnb", reg.ref("app:2.0")}
		}, func(reg *testRegistry) []string {
			return []string{reg.ref("app:1.0"), reg.ref("app:1.1"), "oci-archive:bp.cnb", reg.ref("app:2.0")}
		}},
		{"layout first", func(reg *testRegistry) []string {
			return []string{"oci-archive:bp.cnb", reg.ref("app:2.0"), reg.ref("app:1.*")}
		}, func(reg *testRegistry) []string {
			return []string{"oci-archive:bp.cnb", reg.ref("app:2.0"), reg.ref("app:1.0"), reg.ref("app:1.1")}
		}},
		{"no pattern", func(reg *testRegistry) []string {
			return []string{reg.ref("app:1.0"), "oci-archive:bp.cnb", reg.ref("app:1.1"), reg.ref("app:2.0")}
		}, func(reg *testRegistry) []string {
			return []string{reg.ref("app:1.0"), "oci-archive:bp.cnb", reg.ref("app:1.1"), reg.ref("app:2.0")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, im := sharedDigestRegistry(t)
			res := runOnLayout(t, "bp.cnb", true, layoutFiles([]layoutImage{newLayoutImage("pattern "+tc.name, "")}, []string{"1.0"}),
				map[string]string{"image": strings.Join(tc.lines(reg), "\n"), "platform": "linux/amd64"})
			expectExit(t, res.Result, 0)
			expectNoErrors(t, res.Result)
			var sources []string
			for _, r := range res.results(t) {
				sources = append(sources, fmt.Sprint(r["source"]))
			}
			if diff := cmp.Diff(tc.want(reg), sources); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			expectWorkedOnce(t, reg, im, "1.0", "1.1", "2.0")
			if _, platform := layoutPlatform(t, filepath.Join(res.workspace, "bp.cnb"), true); platform != "linux/amd64" {
				t.Errorf(".cnb platform = %s, want linux/amd64", platform)
			}
		})
	}
	t.Run("cli", func(t *testing.T) {
		t.Parallel()
		reg, im := sharedDigestRegistry(t)
		p := filepath.Join(t.TempDir(), "bp.cnb")
		writeLayout(t, p, true, layoutFiles([]layoutImage{newLayoutImage("pattern cli", "")}, []string{"1.0"}))
		res := runCLI(t, "--platform", "linux/amd64", "oci-archive:"+p, reg.ref("app:1.*"), reg.ref("app:2.0"))
		expectExit(t, res, 0)
		expectWorkedOnce(t, reg, im, "1.0", "1.1", "2.0")
	})
	t.Run("plan", func(t *testing.T) {
		t.Parallel()
		reg, _ := sharedDigestRegistry(t)
		res := runOnLayout(t, "bp.cnb", true, layoutFiles([]layoutImage{newLayoutImage("pattern plan", "")}, []string{"1.0"}),
			map[string]string{"image": strings.Join([]string{reg.ref("app:1.*"), "oci-archive:bp.cnb", reg.ref("app:2.0")}, "\n"), "platform": "linux/amd64", "mode": "plan", "shards": "4"})
		expectExit(t, res.Result, 0)
		var shards []string
		if err := json.Unmarshal([]byte(res.Outputs["matrix"]), &shards); err != nil {
			t.Fatalf("matrix output %q: %v", res.Outputs["matrix"], err)
		}
		slices.Sort(shards)
		// The tags sharing a digest go in one list, worked once there.
		want := []string{strings.Join([]string{reg.ref("app:1.0"), reg.ref("app:1.1"), reg.ref("app:2.0")}, "\n"), "oci-archive:bp.cnb"}
		if diff := cmp.Diff(want, shards); diff != "" {
			t.Errorf("matrix (-want +got):\n%s", diff)
		}
		expectNoWrites(t, reg.proxy)
		res.expectUnchanged(t, "plan")
	})
	for _, tc := range []struct{ name, tag, pattern, want string }{
		{"pattern matching nothing", "", "app:9.*", "app:9.*"},
		{"pattern with tag", "fixed", "app:1.*", "cannot go with the tag pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, _ := newAppRegistry(t, registryOptions{}, packImage(t, 1))
			res := runOnLayout(t, "bp.cnb", true, layoutFiles([]layoutImage{newLayoutImage("pattern "+tc.name, "")}, []string{"1.0"}),
				map[string]string{"image": "oci-archive:bp.cnb\n" + reg.ref(tc.pattern), "platform": "linux/amd64", "tag": tc.tag})
			expectExit(t, res.Result, 1)
			if msg := expectOneError(t, res.Result); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
			expectNoWrites(t, reg.proxy)
			res.expectUnchanged(t, tc.name)
		})
	}
}

// sharedDigestRegistry is a registry whose app:1.0, app:1.1 and app:2.0
// hold one image without an architecture, and that image; its proxy has
// seen no request yet.
func sharedDigestRegistry(t *testing.T) (*testRegistry, image) {
	t.Helper()
	im := packImage(t, 1)
	reg, _ := newAppRegistry(t, registryOptions{}, im)
	reg.push(t, "app:1.1", im)
	reg.push(t, "app:2.0", im)
	reg.proxy.reset()
	return reg, im
}

// expectWorkedOnce fails t unless the tags of app, all holding im before
// the run, were worked as one: im's config read once, each tag's
// manifest put once, and every tag at one new digest.
func expectWorkedOnce(t *testing.T, reg *testRegistry, im image, tags ...string) {
	t.Helper()
	if gets := reg.proxy.naming(im.config.digest); len(gets) != 1 {
		t.Errorf("requests naming the config %s = %d, want 1 (tags sharing a digest worked once):\n%s", im.config.digest, len(gets), formatRequests(gets))
	}
	puts := map[string]int{}
	for _, r := range reg.proxy.writes() {
		if strings.Contains(r.Path, "/manifests/") {
			puts[r.Path]++
		}
	}
	want := map[string]int{}
	digest := reg.digestOf(t, "app:"+tags[0])
	for _, tag := range tags {
		want["/v2/app/manifests/"+tag] = 1
		if got := reg.digestOf(t, "app:"+tag); got != digest {
			t.Errorf("app:%s = %s, want %s as app:%s", tag, got, digest, tags[0])
		}
	}
	if diff := cmp.Diff(want, puts); diff != "" {
		t.Errorf("manifest writes (-want +got):\n%s", diff)
	}
}
