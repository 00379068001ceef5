package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// tree makes the tree of idx with its image children (per entry, nil
// where not an image).
func tree(idx *Index, children ...*Node) *Node {
	nodes := make([]*Node, len(idx.Entries))
	for i, c := range children {
		if c != nil {
			nodes[i] = NewImage(c.Read, c.Manifest, &idx.Entries[i])
		}
	}
	return NewIndex(idx, nodes)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	amd := child(t, "a", `"architecture":"amd64","os":"linux",`)
	empty := child(t, "e", `"architecture":"","os":"linux",`)
	bad := child(t, "b", `"architecture":"amd64\u0000","os":"linux",`)
	arm64 := mustPlatform(t, "linux/arm64")
	idxAmd := tree(makeIndex(t, entry(amd, `,"platform":{"architecture":"amd64","os":"linux"}`)), amd)
	for _, tc := range []struct {
		name string
		root *Node
		want string
		// wantFindings hold a substring of each finding's problem, and
		// its fix; the child is the root's first image child (if any).
		wantFindings []Finding
	}{
		{"image passes", amd, "linux/amd64", nil},
		{"image lacks architecture", empty, "", []Finding{{Problem: "linux/?, which lacks an os or architecture: its architecture is empty", Fix: Fix{Any: true, Ref: "r"}}}},
		{"image lacks os", child(t, "o", `"architecture":"amd64","os":"",`), "", []Finding{{Problem: "?/amd64, which lacks an os or architecture: its os is empty", Fix: Fix{Any: true, Ref: "r"}}}},
		{"image lacks both", child(t, "n", `"architecture":"","os":"",`), "linux/amd64", []Finding{{Problem: "(none), which lacks an os or architecture: its os and architecture are empty", Fix: Fix{Platform: mustPlatform(t, "linux/amd64"), Ref: "r"}}}},
		{"image differs", amd, "linux/arm64", []Finding{{Problem: "not linux/arm64", Fix: Fix{Platform: arm64, Overwrite: true, Ref: "r"}}}},
		{"image field not a name", bad, "", []Finding{{Problem: "is not a valid name", Fix: Fix{Auto: true, Overwrite: true, Ref: "r"}}}},
		{"index consistent", idxAmd, "", nil},
		{"index config lacks platform", tree(makeIndex(t, entry(empty, `,"platform":{"architecture":"amd64","os":"linux"}`)), empty), "", []Finding{{Problem: "its index entry linux/amd64", Fix: Fix{Ref: "r"}}}},
		{"index neither", tree(makeIndex(t, entry(empty, "")), empty), "", []Finding{{Problem: "neither config nor index entry", Fix: Fix{Auto: true, Ref: "r"}}}},
		{"index entry lacks platform", tree(makeIndex(t, entry(amd, "")), amd), "", []Finding{{Problem: "index entry declares platform (none)", Fix: Fix{Ref: "r"}}}},
		{"index disagrees", tree(makeIndex(t, entry(amd, `,"platform":{"architecture":"arm64","os":"linux"}`)), amd), "", []Finding{{Problem: "index entry says linux/arm64, config says linux/amd64", Fix: Fix{Auto: true, Overwrite: true, Ref: "r"}}}},
		{"index differs from want", idxAmd, "linux/arm64", []Finding{{Problem: "declares platform linux/amd64, not linux/arm64", Fix: Fix{Platform: arm64, Overwrite: true, Ref: "r"}}}},
		{"index of two differs from want", tree(makeIndex(t, entry(amd, `,"platform":{"architecture":"amd64","os":"linux"}`), entry(empty, `,"platform":{"architecture":"amd64","os":"linux"}`)), amd, empty), "linux/arm64",
			[]Finding{{Problem: "not linux/arm64", Fix: Fix{Rebuild: true}}, {Problem: "its index entry linux/amd64", Fix: Fix{Ref: "r"}}}},
		{"index entry field not a name", tree(makeIndex(t, entry(amd, `,"platform":{"architecture":"amd64","os":"linux\u0000"}`)), amd), "", []Finding{{Problem: "index entry declares platform", Fix: Fix{Auto: true, Overwrite: true, Ref: "r"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var want platform.Platform
			if tc.want != "" {
				want = mustPlatform(t, tc.want)
			}
			p, err := Check(tc.root, "r", want)
			if err != nil {
				t.Fatalf("Check(%s) = %v", tc.name, err)
			}
			if len(p.Findings) != len(tc.wantFindings) {
				t.Fatalf("Check(%s) = findings %+v, want %d", tc.name, p.Findings, len(tc.wantFindings))
			}
			for i, w := range tc.wantFindings {
				got := p.Findings[i]
				if !strings.Contains(got.Problem, w.Problem) || strings.Contains(got.Problem, "set-image-platform") {
					t.Errorf("Check(%s) finding %d problem = %q, want it to hold %q and name no command", tc.name, i, got.Problem, w.Problem)
				}
				if diff := cmp.Diff(w.Fix, got.Fix); diff != "" {
					t.Errorf("Check(%s) finding %d fix (-want +got):\n%s", tc.name, i, diff)
				}
			}
			if p.Changed || p.Digest != tc.root.Read.Digest {
				t.Errorf("Check(%s) = changed %t digest %s, want nothing changed", tc.name, p.Changed, p.Digest)
			}
		})
	}
}

func TestToDetect(t *testing.T) {
	t.Parallel()
	amd := child(t, "a", `"architecture":"amd64","os":"linux",`)
	empty := child(t, "e", `"architecture":"","os":"linux",`)
	idx := makeIndex(t,
		entry(amd, `,"platform":{"architecture":"amd64","os":"linux"}`),
		entry(empty, ""),
		entry(amd, `,"platform":{"architecture":"arm64","os":"linux"}`),
		attestation(amd, 1))
	root := tree(idx, amd, empty, amd)
	for _, tc := range []struct {
		name             string
		check, overwrite bool
		want             []int // entries
	}{
		{"set: no platform anywhere", false, false, []int{1}},
		{"set with overwrite: also disagreeing", false, true, []int{1, 2}},
		{"check: every image", true, false, []int{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodes, err := ToDetect(root, tc.check, tc.overwrite)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, n := range nodes {
				for i := range idx.Entries {
					if n.Entry == &idx.Entries[i] {
						got = append(got, i)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ToDetect(%s) entries (-want +got):\n%s", tc.name, diff)
			}
		})
	}
	if nodes, err := ToDetect(amd, false, false); err != nil || len(nodes) != 1 || nodes[0] != amd {
		t.Errorf("ToDetect(image) = %v, %v; want the image itself", nodes, err)
	}
}

func TestRefine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ detected, declared, want string }{
		{"linux/arm64", "linux/arm64/v8", "linux/arm64/v8"},
		{"windows/amd64", "windows/amd64:10.0.17763.1", "windows/amd64:10.0.17763.1"},
		{"linux/arm64", "linux/amd64", "linux/arm64"},
		{"linux/arm", "linux/arm/v6", "linux/arm/v6"},
	} {
		if got := Refine(mustPlatform(t, tc.detected), mustPlatform(t, tc.declared)); got.String() != tc.want {
			t.Errorf("Refine(%s, %s) = %s, want %s", tc.detected, tc.declared, got, tc.want)
		}
	}
}

func TestReadChild(t *testing.T) {
	t.Parallel()
	amd := child(t, "a", `"architecture":"amd64","os":"linux",`)
	idx := makeIndex(t, entry(amd, ""), attestation(amd, 1))
	if m, err := ReadChild(idx.Entries[0], amd.Read); err != nil || m == nil {
		t.Errorf("ReadChild(image) = %v, %v; want its manifest", m, err)
	}
	if m, err := ReadChild(idx.Entries[1], amd.Read); err != nil || m != nil {
		t.Errorf("ReadChild(attestation) = %v, %v; want it kept as it is", m, err)
	}
	served := amd.Read
	served.MediaType = types.DockerManifestSchema2
	if _, err := ReadChild(idx.Entries[0], served); err == nil || !strings.Contains(err.Error(), "registry serves") {
		t.Errorf("ReadChild(other media type) = %v, want an error naming both", err)
	}
	schema1 := Image{MediaType: types.DockerManifestSchema1Signed, Manifest: []byte(`{"schemaVersion":1}`)}
	if _, err := ReadChild(Entry{Digest: amd.Read.Digest}, schema1); err == nil || !strings.Contains(err.Error(), "schema 1") {
		t.Errorf("ReadChild(schema 1) = %v, want it refused", err)
	}
}

func TestWrites(t *testing.T) {
	t.Parallel()
	amd := child(t, "a", `"architecture":"","os":"linux",`)
	idx := makeIndex(t, entry(amd, `,"platform":{"architecture":"amd64","os":"linux"}`), attestation(amd, 1))
	root := tree(idx, amd)
	att := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:` + strings.Repeat("5", 64) + `","size":2},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"sha256:` + strings.Repeat("6", 64) + `","size":3}]}`
	root.Children[1] = NewOther(Image{MediaType: types.OCIManifestSchema1, Manifest: []byte(att), Digest: idx.Entries[1].Digest}, &idx.Entries[1])
	p, err := Set(root, platform.Platform{}, false)
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.Writes(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Uploads) != 1 || len(w.Children) != 2 || len(w.Foreign) != 1 || len(w.Copies) != 1 || w.CopySize() != 2 {
		t.Errorf("Writes(copy) = %d uploads, %d children, %d foreign, %d copies of %d B; want 1, 2, 1, 1 of 2 B", len(w.Uploads), len(w.Children), len(w.Foreign), len(w.Copies), w.CopySize())
	}
	if got := len(w.Blobs(true)); got != 2 {
		t.Errorf("Writes(copy).Blobs(other repository) = %d, want the upload and the copy", got)
	}
	in, err := p.Writes(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Children) != 1 || len(in.Blobs(false)) != 1 {
		t.Errorf("Writes(in place) = %d children, %d blobs; want the changed child and its config", len(in.Children), len(in.Blobs(false)))
	}
}
