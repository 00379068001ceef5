package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// child makes an image child whose config declares cfgPlatform (raw JSON
// members, may be empty).
func child(t *testing.T, seed, cfgPlatform string) *Node {
	t.Helper()
	cfg := []byte(`{` + cfgPlatform + `"rootfs":{"type":"layers","diff_ids":[]},"moby.buildkit.buildinfo.v1":"` + seed + `"}`)
	man := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[]}`, oci.Digest(cfg), len(cfg)))
	m, err := ParseManifest(types.OCIManifestSchema1, man)
	if err != nil {
		t.Fatal(err)
	}
	return NewImage(Image{MediaType: types.OCIManifestSchema1, Manifest: man, Digest: oci.Digest(man), Config: cfg}, m, nil)
}

// setIndex plans idx as Set does for the tree of idx with children (per
// entry, nil where not an image) and what their binaries showed.
func setIndexTree(idx *Index, children []*Node, want platform.Platform, overwrite bool, detected []platform.Platform) (*Plan, error) {
	nodes := make([]*Node, len(idx.Entries))
	for i, c := range children {
		if c == nil {
			continue
		}
		nodes[i] = NewImage(c.Read, c.Manifest, &idx.Entries[i])
		if i < len(detected) {
			nodes[i].Detected = detected[i]
		}
	}
	return Set(NewIndex(idx, nodes), want, overwrite)
}

// entry is an index entry for c with a raw platform member (may be empty).
func entry(c *Node, platformMember string) string {
	return fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d%s}`, c.Read.Digest, len(c.Read.Manifest), platformMember)
}

func attestation(for_ *Node, n int) string {
	return fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064d","size":566,"annotations":{"vnd.docker.reference.digest":"%s","vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":"unknown","os":"unknown"}}`, n, for_.Read.Digest)
}

func makeIndex(t *testing.T, entries ...string) *Index {
	t.Helper()
	b := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(entries, ",") + `],"annotations":{"org.opencontainers.image.created":"2025-03-04T10:21:07Z"}}`)
	idx, err := ParseIndex(types.OCIImageIndex, oci.Digest(b), b)
	if err != nil {
		t.Fatalf("ParseIndex() = %v", err)
	}
	return idx
}

func entries(t *testing.T, idx []byte) []json.RawMessage {
	t.Helper()
	var v struct{ Manifests []json.RawMessage }
	if err := json.Unmarshal(idx, &v); err != nil {
		t.Fatal(err)
	}
	return v.Manifests
}

// firstChild returns the platforms the plan gives the first entry's config
// and the entry itself.
func firstChild(ic *Plan) (config, entry platform.Platform) {
	config, _ = patch.ReadPlatform(ic.Children[0].Config, nil)
	entry, _ = patch.ReadPlatform(ic.Bytes, patch.Path{"manifests", 0, "platform"})
	return config, entry
}

// settled checks that a plan failed if wantErr, else that it succeeded,
// and returns its first child's platforms; ok says there is more to check.
func settled(t *testing.T, what string, ic *Plan, err error, wantErr bool) (config, entry platform.Platform, ok bool) {
	t.Helper()
	switch {
	case wantErr && err == nil:
		t.Errorf("setIndexTree(%s) = nil error, want one", what)
		return config, entry, false
	case wantErr:
		return config, entry, false
	case err != nil:
		t.Fatalf("setIndexTree(%s) = %v, want no error", what, err)
	}
	config, entry = firstChild(ic)
	return config, entry, true
}

func TestSetIndexFillsConfigsFromEntries(t *testing.T) {
	t.Parallel()
	amd, arm := child(t, "a", `"architecture":"","os":"linux",`), child(t, "b", `"os":"linux",`)
	idx := makeIndex(t,
		entry(amd, `,"platform":{"architecture":"amd64","os":"linux"}`),
		entry(arm, `,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}`),
		attestation(amd, 1), attestation(arm, 2))
	ic, err := setIndexTree(idx, []*Node{amd, arm, nil, nil}, platform.Platform{}, false, nil)
	if err != nil {
		t.Fatalf("setIndexTree() = %v", err)
	}
	want := []string{"linux/amd64", "linux/arm64/v8"}
	var got []string
	for i, c := range ic.Children[:2] {
		p, _ := patch.ReadPlatform(c.Config, nil)
		got = append(got, p.String())
		if !c.Changed {
			t.Errorf("setIndexTree() child %d unchanged, want changed", i)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("setIndexTree() child config platforms (-want +got):\n%s", diff)
	}
	before, after := entries(t, idx.Bytes), entries(t, ic.Bytes)
	for i := range 2 {
		wantEntry, _ := patch.SetDescriptor(before[i], nil, ic.Children[i].Digest.String(), int64(len(ic.Children[i].Manifest)))
		if !bytes.Equal(wantEntry, after[i]) {
			t.Errorf("setIndexTree() entry %d = %s, want %s (only digest and size changed)", i, after[i], wantEntry)
		}
	}
	for i := 2; i < 4; i++ {
		if !bytes.Equal(before[i], after[i]) {
			t.Errorf("setIndexTree() attestation entry %d = %s, want it byte-identical %s", i, after[i], before[i])
		}
	}
	// Outside the manifests array nothing moves.
	start := bytes.Index(idx.Bytes, []byte(`],"annotations"`))
	if !bytes.HasSuffix(ic.Bytes, idx.Bytes[start:]) || !bytes.HasPrefix(ic.Bytes, idx.Bytes[:bytes.Index(idx.Bytes, []byte("[{"))]) {
		t.Errorf("setIndexTree() changed bytes outside the entries:\n%s\n%s", idx.Bytes, ic.Bytes)
	}
	if len(ic.Stale) != 2 || !strings.Contains(ic.Stale[0], amd.Read.Digest.String()) {
		t.Errorf("setIndexTree() stale = %q, want the two attestations of the changed children", ic.Stale)
	}
	if ic.Digest != oci.Digest(ic.Bytes) || !ic.Changed {
		t.Errorf("setIndexTree() digest %s changed %t, want %s and changed", ic.Digest, ic.Changed, oci.Digest(ic.Bytes))
	}
}

func TestSetIndexFillsEntriesFromConfigs(t *testing.T) {
	t.Parallel()
	amd := child(t, "a", `"architecture":"amd64","os":"linux",`)
	idx := makeIndex(t, entry(amd, ""))
	ic, err := setIndexTree(idx, []*Node{amd}, platform.Platform{}, false, nil)
	if err != nil {
		t.Fatalf("setIndexTree() = %v", err)
	}
	if ic.Children[0].Changed {
		t.Errorf("setIndexTree() changed the child, want only its entry changed")
	}
	got, err := patch.ReadPlatform(ic.Bytes, patch.Path{"manifests", 0, "platform"})
	if err != nil || got.String() != "linux/amd64" {
		t.Errorf("setIndexTree() entry platform = %v (%v), want linux/amd64", got, err)
	}
	// Consistent now: planning again changes nothing.
	idx2, err := ParseIndex(types.OCIImageIndex, ic.Digest, ic.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	again, err := setIndexTree(idx2, []*Node{amd}, platform.Platform{}, false, nil)
	if err != nil || again.Changed {
		t.Errorf("setIndexTree(consistent index) = changed %v, %v; want unchanged", again != nil && again.Changed, err)
	}
}

func TestSetIndexRefuses(t *testing.T) {
	t.Parallel()
	amd := child(t, "a", `"architecture":"amd64","os":"linux",`)
	empty := child(t, "e", `"architecture":"","os":"",`)
	arm := child(t, "b", `"architecture":"arm64","os":"linux",`)
	tests := []struct {
		name     string
		idx      *Index
		children []*Node
		want     string
		mention  string
	}{
		{"disagree", makeIndex(t, entry(amd, `,"platform":{"architecture":"arm64","os":"linux"}`)), []*Node{amd}, "", amd.Read.Digest.String()},
		{"both missing", makeIndex(t, entry(empty, "")), []*Node{empty}, "", empty.Read.Digest.String()},
		{"concrete platform for two images", makeIndex(t, entry(amd, ""), entry(arm, "")), []*Node{amd, arm}, "linux/amd64", "2 images"},
		{"concrete platform against entry", makeIndex(t, entry(empty, `,"platform":{"architecture":"arm64","os":"linux"}`)), []*Node{empty}, "linux/amd64", "already declares platform linux/arm64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var want platform.Platform
			if tt.want != "" {
				want = mustPlatform(t, tt.want)
			}
			_, err := setIndexTree(tt.idx, tt.children, want, false, nil)
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("setIndexTree(%s) = %v, want an error mentioning %q", tt.name, err, tt.mention)
			}
		})
	}
}

func TestSetIndexConcreteOneChild(t *testing.T) {
	t.Parallel()
	empty := child(t, "e", `"architecture":"","os":"linux",`)
	idx := makeIndex(t, entry(empty, ""), attestation(empty, 1))
	ic, err := setIndexTree(idx, []*Node{empty, nil}, mustPlatform(t, "linux/riscv64"), false, nil)
	if err != nil {
		t.Fatalf("setIndexTree() = %v", err)
	}
	cfgP, entryP := firstChild(ic)
	if cfgP.String() != "linux/riscv64" || entryP.String() != "linux/riscv64" {
		t.Errorf("setIndexTree(linux/riscv64) config %v entry %v, want both linux/riscv64", cfgP, entryP)
	}
}

func TestParseIndexRefusesNested(t *testing.T) {
	t.Parallel()
	b := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:` + strings.Repeat("0", 64) + `","size":2}]}`)
	if _, err := ParseIndex(types.OCIImageIndex, oci.Digest(b), b); err == nil || !strings.Contains(err.Error(), "nested index") {
		t.Errorf("ParseIndex(nested) = %v, want a nested index error", err)
	}
}

func TestParseIndexFixtures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		dir          string
		mediaType    types.MediaType
		attestations int
	}{{"buildx-index", types.OCIImageIndex, 2}, {"manifest-list", types.DockerManifestList, 0}} {
		b := read(t, tt.dir, "index.json")
		idx, err := ParseIndex(tt.mediaType, oci.Digest(b), b)
		if err != nil {
			t.Fatalf("ParseIndex(%s) = %v", tt.dir, err)
		}
		n := 0
		for _, e := range idx.Entries {
			if e.Attestation() {
				n++
			}
		}
		if n != tt.attestations {
			t.Errorf("ParseIndex(%s) attestations = %d, want %d", tt.dir, n, tt.attestations)
		}
	}
}

func TestSetIndexDetected(t *testing.T) {
	t.Parallel()
	empty := child(t, "e", `"architecture":"","os":"",`)
	amd := child(t, "a", `"architecture":"amd64","os":"linux",`)
	bad := child(t, "b", `"architecture":"arm64\nlinux/amd64","os":"linux",`)
	arm64 := mustPlatform(t, "linux/arm64")
	tests := []struct {
		name      string
		idx       *Index
		c         *Node
		overwrite bool
		wantErr   bool
	}{
		{"both missing, detected", makeIndex(t, entry(empty, "")), empty, false, false},
		{"disagree, detected with overwrite", makeIndex(t, entry(amd, `,"platform":{"architecture":"arm64","os":"linux"}`)), amd, true, false},
		{"disagree, detected without overwrite", makeIndex(t, entry(amd, `,"platform":{"architecture":"arm64","os":"linux"}`)), amd, false, true},
		{"config invalid, detected with overwrite", makeIndex(t, entry(bad, "")), bad, true, false},
		{"config invalid, detected without overwrite", makeIndex(t, entry(bad, "")), bad, false, true},
		{"entry invalid, detected with overwrite", makeIndex(t, entry(empty, `,"platform":{"architecture":"arm64","os":"linux\u0000"}`)), empty, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ic, err := setIndexTree(tt.idx, []*Node{tt.c}, platform.Platform{}, tt.overwrite, []platform.Platform{arm64})
			cfgP, entryP, ok := settled(t, tt.name, ic, err, tt.wantErr)
			if !ok {
				return
			}
			if cfgP != arm64 || entryP != arm64 {
				t.Errorf("setIndexTree(%s) config %v entry %v, want both %v", tt.name, cfgP, entryP, arm64)
			}
		})
	}
}

// TestSetIndexEquivalent leaves an entry and a config that already say the
// platform, or an equivalent one, byte for byte as they are.
func TestSetIndexEquivalent(t *testing.T) {
	t.Parallel()
	arm64 := mustPlatform(t, "linux/arm64")
	tests := []struct {
		name, config, entry, want string
		detected                  []platform.Platform
	}{
		{"entry arm64, config arm64/v8, set arm64", `"architecture":"arm64","os":"linux","variant":"v8",`, `{"architecture":"arm64","os":"linux"}`, "linux/arm64", nil},
		{"entry arm64/v8, config arm64, set arm64", `"architecture":"arm64","os":"linux",`, `{"architecture":"arm64","os":"linux","variant":"v8"}`, "linux/arm64", nil},
		{"entry arm64, config arm64, set arm64/v8", `"architecture":"arm64","os":"linux",`, `{"architecture":"arm64","os":"linux"}`, "linux/arm64/v8", nil},
		{"entry amd64/v1, config amd64, set amd64", `"architecture":"amd64","os":"linux",`, `{"architecture":"amd64","os":"linux","variant":"v1"}`, "linux/amd64", nil},
		{"entry arm64/v8, config arm64, consistent", `"architecture":"arm64","os":"linux",`, `{"architecture":"arm64","os":"linux","variant":"v8"}`, "", nil},
		{"entry arm64/v8, config arm64, auto", `"architecture":"arm64","os":"linux",`, `{"architecture":"arm64","os":"linux","variant":"v8"}`, "", []platform.Platform{arm64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := child(t, "a", tt.config)
			idx := makeIndex(t, entry(c, `,"platform":`+tt.entry), attestation(c, 1))
			var want platform.Platform
			if tt.want != "" {
				want = mustPlatform(t, tt.want)
			}
			ic, err := setIndexTree(idx, []*Node{c, nil}, want, false, tt.detected)
			if err != nil {
				t.Fatalf("setIndexTree(%s) = %v, want no error", tt.name, err)
			}
			if ic.Changed || ic.Digest != idx.Digest || !bytes.Equal(ic.Bytes, idx.Bytes) || ic.Children[0].Changed {
				t.Errorf("setIndexTree(%s) = changed %t (child %t), index:\n%s\nwant it unchanged:\n%s", tt.name, ic.Changed, ic.Children[0].Changed, ic.Bytes, idx.Bytes)
			}
		})
	}
}

// TestSetIndexInvalidFields treats a platform field that is not a valid
// name as present and different: never copied between entry and config,
// replaced only with overwrite.
func TestSetIndexInvalidFields(t *testing.T) {
	t.Parallel()
	const bad = `"arm64\nlinux/amd64"`
	tests := []struct {
		name, config, entry, want string
		// fixed is the platform of config and entry with overwrite, ""
		// when even overwrite does not settle it.
		fixed string
	}{
		{"config invalid, entry missing, consistent", `"architecture":` + bad + `,"os":"linux",`, ``, "", ""},
		{"config missing, entry invalid, consistent", `"os":"linux",`, `,"platform":{"architecture":` + bad + `,"os":"linux"}`, "", ""},
		{"both the same invalid, consistent", `"architecture":` + bad + `,"os":"linux",`, `,"platform":{"architecture":` + bad + `,"os":"linux"}`, "", ""},
		{"entry os invalid and incomplete, consistent", `"architecture":"amd64","os":"linux",`, `,"platform":{"os":"linux\r"}`, "", "linux/amd64"},
		{"entry invalid, set", `"architecture":"arm64","os":"linux",`, `,"platform":{"architecture":` + bad + `,"os":"linux"}`, "linux/arm64", "linux/arm64"},
		{"config invalid, set", `"architecture":` + bad + `,"os":"linux",`, `,"platform":{"architecture":"arm64","os":"linux"}`, "linux/arm64", "linux/arm64"},
		{"entry variant invalid, set", `"architecture":"arm64","os":"linux",`, `,"platform":{"architecture":"arm64","os":"linux","variant":"v8\u001b"}`, "linux/arm64", "linux/arm64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := child(t, "a", tt.config)
			idx := makeIndex(t, entry(c, tt.entry))
			var want platform.Platform
			if tt.want != "" {
				want = mustPlatform(t, tt.want)
			}
			_, err := setIndexTree(idx, []*Node{c}, want, false, nil)
			if err == nil {
				t.Fatalf("setIndexTree(%s, no overwrite) = nil error, want one", tt.name)
			}
			if msg := err.Error(); !strings.Contains(msg, c.Read.Digest.String()) && !strings.Contains(msg, "overwrite") || strings.ContainsAny(msg, "\n\r\x1b") {
				t.Errorf("setIndexTree(%s) error = %q, want one naming the child or overwrite, without control characters", tt.name, msg)
			}
			ic, err := setIndexTree(idx, []*Node{c}, want, true, nil)
			cfgP, entryP, ok := settled(t, tt.name+", overwrite", ic, err, tt.fixed == "")
			if !ok {
				return
			}
			if cfgP.String() != tt.fixed || entryP.String() != tt.fixed {
				t.Errorf("setIndexTree(%s, overwrite) config %v entry %v, want both %s", tt.name, cfgP, entryP, tt.fixed)
			}
		})
	}
}
