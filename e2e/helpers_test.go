package e2e

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scalarOutputs are the outputs that hold one line per image.
var scalarOutputs = []string{"digest", "image", "previous-digest", "changed", "platform"}

// expectOutputs compares the scalar outputs with want and checks that
// "results" is there.
func expectOutputs(t *testing.T, res Result, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, name := range scalarOutputs {
		if v, ok := res.Outputs[name]; ok {
			got[name] = v
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs mismatch (-want +got):\n%s", diff)
	}
	if _, ok := res.Outputs["results"]; !ok {
		t.Errorf("output results missing; outputs: %v", res.Outputs)
	}
}

// expectResults compares the results output with want.
func expectResults(t *testing.T, res Result, want []resultObject) {
	t.Helper()
	if diff := cmp.Diff(want, res.results(t)); diff != "" {
		t.Errorf("results output mismatch (-want +got):\n%s", diff)
	}
}

// expectLayersUntouched fails t when any request named a layer digest.
func expectLayersUntouched(t *testing.T, p *recordingProxy, im image) {
	t.Helper()
	if got := p.naming(im.layerDigests()...); len(got) != 0 {
		t.Errorf("requests naming a layer = %d, want 0:\n%s", len(got), formatRequests(got))
	}
}

// platformMembers returns the config members a platform string stands for.
func platformMembers(os, arch, variant, osVersion string) map[string]string {
	m := map[string]string{"os": `"` + os + `"`, "architecture": `"` + arch + `"`}
	if variant != "" {
		m["variant"] = `"` + variant + `"`
	}
	if osVersion != "" {
		m["os.version"] = `"` + osVersion + `"`
	}
	return m
}

// expectPatched checks that the manifest at target (in repo) is im with
// only its config patched to the platform members want: same manifest
// media type, manifest bytes equal to im's but for config digest and size,
// config members equal to im's minus the platform keys, in order, with
// their exact bytes. When exact is not nil it is the whole expected config.
// It returns the new config bytes.
func expectPatched(t *testing.T, reg *testRegistry, repo, target string, im image, want map[string]string, exact []byte) []byte {
	t.Helper()
	m := reg.get(t, target)
	if m.mediaType != im.manifestType {
		t.Errorf("manifest media type = %q, want %q", m.mediaType, im.manifestType)
	}
	cfg := reg.config(t, repo, m)
	if wantManifest := im.render(sha256Digest(cfg), len(cfg), im.layers); !bytes.Equal(m.body, wantManifest) {
		t.Errorf("manifest bytes differ from the source's beyond config digest and size:\ngot:\n%s\nwant:\n%s", m.body, wantManifest)
	}
	oldMembers := mustMembers(t, "old config", im.config.data)
	newMembers := mustMembers(t, "new config", cfg)
	if diff := cmp.Diff(without(oldMembers, platformKeys), without(newMembers, platformKeys)); diff != "" {
		t.Errorf("config members other than the platform changed (-old +new):\n%s", diff)
	}
	gotPlatform := map[string]string{}
	for _, m := range newMembers {
		if platformKeys[m.Key] {
			if _, dup := gotPlatform[m.Key]; dup {
				t.Errorf("new config has key %q twice:\n%s", m.Key, cfg)
			}
			gotPlatform[m.Key] = m.Raw
		}
	}
	if diff := cmp.Diff(want, gotPlatform); diff != "" {
		t.Errorf("platform keys of the new config (-want +got):\n%s", diff)
	}
	if exact != nil && !bytes.Equal(cfg, exact) {
		t.Errorf("new config bytes:\n%s\nwant:\n%s", cfg, exact)
	}
	return cfg
}

// expectSummaryLine fails t unless the log has the summary line.
func expectSummaryLine(t *testing.T, res Result, ref, before, after, oldDigest, newDigest string) {
	t.Helper()
	want := ref + "  " + before + " -> " + after + "  " + oldDigest + " -> " + newDigest
	for _, l := range res.logLines() {
		if strings.Contains(l, want) {
			return
		}
	}
	t.Errorf("no log line contains %q", want)
}

// expectGroup fails t unless the log has a ::group:: for ref and a
// matching ::endgroup::.
func expectGroup(t *testing.T, res Result, ref string) {
	t.Helper()
	lines := res.logLines()
	for i, l := range lines {
		if l == "::group::"+ref {
			for _, rest := range lines[i+1:] {
				if rest == "::endgroup::" {
					return
				}
			}
			t.Errorf("::group::%s has no ::endgroup:: after it", ref)
			return
		}
	}
	t.Errorf("no ::group::%s line", ref)
}

// expectPushOrder checks the order of the writes that made repo:tag: the
// new config blob is complete before the manifest is put, and the manifest
// is read back after it is put.
func expectPushOrder(t *testing.T, reg *testRegistry, repo, tag string) {
	t.Helper()
	cfgDigest := reg.get(t, repo+":"+tag).parse(t).Config.Digest
	reqs := reg.proxy.requests()
	manifestPath := "/v2/" + repo + "/manifests/" + tag
	configDone, manifestPut, readBack := -1, -1, -1
	for i, r := range reqs {
		switch {
		case r.Method == "PUT" && strings.Contains(r.Path, "/blobs/uploads/") && strings.Contains(r.Query, "digest="+cfgDigest) && r.Status == 201:
			configDone = i
		case r.Method == "PUT" && r.Path == manifestPath && r.Status == 201:
			manifestPut = i
		case (r.Method == "GET" || r.Method == "HEAD") && r.Path == manifestPath && manifestPut >= 0:
			readBack = i
		}
	}
	switch {
	case configDone < 0:
		t.Errorf("no completed upload of the new config %s", cfgDigest)
	case manifestPut < 0:
		t.Errorf("no PUT %s", manifestPath)
	case configDone > manifestPut:
		t.Errorf("config %s completed (request %d) after the manifest was put (request %d)", cfgDigest, configDone+1, manifestPut+1)
	}
	if manifestPut >= 0 && readBack < 0 {
		t.Errorf("the manifest was not read back after PUT %s", manifestPath)
	}
}
