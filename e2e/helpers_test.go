package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scalarOutputs are the outputs that hold one line per image.
var scalarOutputs = []string{"digest", "image", "previous-digest", "changed", "platform"}

// expectOutputs compares the scalar outputs with want and checks that
// "results" is there.
func expectOutputs(t testing.TB, res Result, want map[string]string) {
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
	// The file a later step opens holds what the output holds (the output
	// is trimmed only past 1 MB, which no caller of this reaches).
	if path := res.Outputs["results-file"]; path != "" && res.ResultsFile != res.Outputs["results"] {
		t.Errorf("results-file %q holds %q, want the results output %q", path, res.ResultsFile, res.Outputs["results"])
	}
}

// expectResults compares the results output with want.
func expectResults(t testing.TB, res Result, want []resultObject) {
	t.Helper()
	if diff := cmp.Diff(want, res.results(t)); diff != "" {
		t.Errorf("results output mismatch (-want +got):\n%s", diff)
	}
}

// expectLayersUntouched fails t when any request named a layer of im.
func expectLayersUntouched(t testing.TB, p *recordingProxy, im image) {
	t.Helper()
	expectNotNamed(t, p, im.layerDigests())
}

// expectNotNamed fails t when any request named one of layers.
func expectNotNamed(t testing.TB, p *recordingProxy, layers []string) {
	t.Helper()
	if got := p.naming(layers...); len(got) != 0 {
		t.Errorf("requests naming a layer = %d, want 0:\n%s", len(got), formatRequests(got))
	}
}

// platformMembers returns the config members, with their raw JSON values,
// that a platform "os/arch[/variant][:os.version]" stands for.
func platformMembers(p string) map[string]string {
	p, osVersion, _ := strings.Cut(p, ":")
	parts := strings.SplitN(p, "/", 3)
	m := map[string]string{"os": strconv.Quote(parts[0]), "architecture": strconv.Quote(parts[1])}
	if len(parts) == 3 {
		m["variant"] = strconv.Quote(parts[2])
	}
	if osVersion != "" {
		m["os.version"] = strconv.Quote(osVersion)
	}
	return m
}

// expectPatched checks that the manifest at target (in repo) is im with
// only its config patched to the platform members want: same manifest
// media type, manifest bytes equal to im's but for config digest and size,
// config members equal to im's minus the platform keys, in order, with
// their exact bytes. When exact is not nil it is the whole expected config.
// It returns the new config bytes.
func expectPatched(t testing.TB, reg *testRegistry, repo, target string, im image, want map[string]string, exact []byte) []byte {
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
func expectSummaryLine(t testing.TB, res Result, ref, before, after, oldDigest, newDigest string) {
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
func expectGroup(t testing.TB, res Result, ref string) {
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
func expectPushOrder(t testing.TB, reg *testRegistry, repo, tag string) {
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

// imageOutputs returns the scalar outputs of a run on one image: its
// target repository (as the image output names it), the digests before
// and after, whether it changed and the resulting platform.
func imageOutputs(repo, previous, digest string, changed bool, platform string) map[string]string {
	return map[string]string{
		"digest":          digest,
		"image":           repo + "@" + digest,
		"previous-digest": previous,
		"changed":         fmt.Sprint(changed),
		"platform":        platform,
	}
}

// imageResult returns the results object of a run on one image that
// succeeded.
func imageResult(source, target, previous, digest string, changed bool, platform string) resultObject {
	return resultObject{
		"source": source, "target": target, "previous-digest": previous, "digest": digest, "changed": changed, "platform": platform, "referrers": []any{},
	}
}

// expectErrorMentions fails t unless exactly one ::error:: line was
// printed and it contains each of wants; it returns the line.
func expectErrorMentions(t testing.TB, res Result, wants ...string) string {
	t.Helper()
	msg := expectOneError(t, res)
	for _, want := range wants {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	return msg
}

// expectAt fails t unless ref ("repo:tag") of reg resolves to digest.
func expectAt(t testing.TB, reg *testRegistry, ref, digest string) {
	t.Helper()
	if got := reg.digestOf(t, ref); got != digest {
		t.Errorf("%s = %s after the run, want it left at %s", ref, got, digest)
	}
}

// expectRefused fails t unless the run failed with one ::error:: that
// mentions each of wants, wrote nothing through reg's proxy, and left ref
// at digest.
func expectRefused(t testing.TB, res Result, reg *testRegistry, ref, digest string, wants ...string) {
	t.Helper()
	expectExit(t, res, 1)
	expectErrorMentions(t, res, wants...)
	expectNoWrites(t, reg.proxy)
	expectAt(t, reg, ref, digest)
}

// expectNoErrors fails t when the run printed an ::error:: line.
func expectNoErrors(t testing.TB, res Result) {
	t.Helper()
	if errs := res.commandLines("error"); len(errs) != 0 {
		t.Errorf("::error:: lines on success: %q", errs)
	}
}

// severalOutputs returns the scalar outputs of a run on several images:
// one line per image, of each image's outputs (nil for an image that
// failed).
func severalOutputs(each ...map[string]string) map[string]string {
	got := map[string]string{}
	for _, name := range scalarOutputs {
		var lines []string
		for _, o := range each {
			lines = append(lines, o[name])
		}
		got[name] = strings.Join(lines, "\n")
	}
	return got
}

// expectJSONStdout fails t unless standard output is the results array
// alone, as --json prints it, and equals want.
func expectJSONStdout(t testing.TB, res Result, want []resultObject) {
	t.Helper()
	var got []resultObject
	// Unmarshal refuses anything after the array but white space.
	if err := json.Unmarshal([]byte(res.Stdout), &got); err != nil {
		t.Fatalf("stdout is not just a JSON array: %v\n%s", err, res.Stdout)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--json output mismatch (-want +got):\n%s", diff)
	}
}

// anyContainsAll reports whether one of lines contains every one of subs.
func anyContainsAll(lines, subs []string) bool {
	for _, l := range lines {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			return true
		}
	}
	return false
}
