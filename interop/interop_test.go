package interop

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

var arches = []string{"amd64", "arm64"}

// TestInterop publishes buildpack packages with pack, fixes them with the
// tool, checks them against pack's own --target output and crane's, then
// builds indexes from them with every index builder at hand and asks every
// consumer for each platform: the indexes of unfixed images must be refused,
// those of fixed ones must give the right child.
func TestInterop(t *testing.T) {
	start := time.Now()
	ts := buildTools(t)
	reg := startRegistry(t)
	ts.docker = dockerEnv(t)
	rep := &report{}
	ref := func(s string) string { return reg + "/" + s }
	t.Logf("tools built, registry and engine up in %s", time.Since(start).Round(time.Second))

	// 1. pack publishes each buildpack twice: as users do (no target: the
	// architecture is empty) and with --target.
	p := newPacker(t, ts.pack)
	unfixed, fixed := map[string]stored{}, map[string]stored{}
	for _, arch := range arches {
		bp := newBuildpack(t, arch)
		p.publish(t, bp, ref("hello:"+arch+"-empty"))
		p.publish(t, bp, ref("hello:"+arch+"-target"), "--target", "linux/"+arch)
		unfixed[arch] = fetch(t, ref("hello:"+arch+"-empty"))
		if got := platformOf(t, unfixed[arch].config); got != "linux/" {
			t.Fatalf("pack buildpack package without --target: platform %q, want linux/ (architecture empty)", got)
		}

		// 2. The tool, with the platform given and with auto.
		set := runTool(t, ts, "--platform", "linux/"+arch, "--tag", arch+"-set", ref("hello:"+arch+"-empty"))
		auto := runTool(t, ts, "--platform", "auto", "--tag", arch+"-auto", ref("hello:"+arch+"-empty"))
		if auto != set {
			t.Errorf("%s: --platform auto gave %s, --platform linux/%s %s", arch, auto, arch, set)
		}
		fixed[arch] = fetch(t, ref("hello:"+arch+"-auto"))
		expectOnlyPlatformChanged(t, unfixed[arch], fixed[arch], arch)

		// 3. pack's own --target output: the same bytes.
		expectSame(t, "pack --target linux/"+arch, fetch(t, ref("hello:"+arch+"-target")), "set-image-platform", fixed[arch])
	}
	rep.add("pack buildpack package", ts.version(t, "pack"),
		"`pack buildpack package NAME --config package.toml --publish` (no `[[targets]]`)",
		"architecture `\"\"`, os `linux`", "with `--target linux/amd64`: byte-identical to set-image-platform's result (manifest, config, digest)")
	rep.add("set-image-platform", "this commit",
		"`set-image-platform --platform linux/amd64 NAME`, `--platform auto`",
		"-", "the same digest from both; only `architecture` changed in the config, `config.digest`/`size` in the manifest")

	// 4. crane mutate on pack output: the same bytes as the tool.
	craned := strings.TrimSpace(must(t, nil, ts.crane, "mutate", "--set-platform", "linux/amd64", "-t", ref("hello:amd64-crane"), ref("hello:amd64-empty")))
	expectSame(t, "crane mutate --set-platform", fetch(t, craned), "set-image-platform", fixed["amd64"])
	keyLoss(t, ts, rep, ref)
	rep.add("crane", ts.version(t, "crane"), "`crane mutate --set-platform linux/amd64 NAME` on pack output",
		"-", "byte-identical to set-image-platform's result")

	// 5. Indexes from the unfixed and from the fixed images, then consumers.
	builders := indexBuilders(t, ts, reg)
	var names []string
	for _, b := range builders {
		before, err := b.build(t, ref("idx:"+b.name+"-unfixed"), unfixedRefs(ref))
		if err != nil {
			t.Fatalf("%s refused the unfixed images: %v", b.name, err)
		}
		after, err := b.build(t, ref("idx:"+b.name+"-fixed"), fixedRefs(ref))
		if err != nil {
			t.Fatalf("%s refused the fixed images: %v", b.name, err)
		}
		if got, want := entryPlatforms(after), `{"architecture":"amd64","os":"linux"}, {"architecture":"arm64","os":"linux"}`; got != want {
			t.Errorf("%s on fixed images: entries %s, want %s", b.name, got, want)
		}
		rep.add(b.name, b.version(t), b.command,
			"accepted silently; entries "+code(entryPlatforms(before)), "entries "+code(entryPlatforms(after)))
		names = append(names, b.name)
	}
	for _, c := range consumers(t, ts, reg) {
		consume(t, rep, c, names, ref, fixed)
	}
	rep.write(t)
	t.Logf("interop suite: %s", time.Since(start).Round(time.Second))
}

func unfixedRefs(ref func(string) string) []string {
	return []string{ref("hello:amd64-empty"), ref("hello:arm64-empty")}
}

func fixedRefs(ref func(string) string) []string {
	return []string{ref("hello:amd64-auto"), ref("hello:arm64-auto")}
}

// consume asks consumer c for linux/amd64 and linux/arm64 from each builder's
// index of unfixed images, which must be refused, and of fixed ones, which
// must give the matching child; it records what linux/arm64 got from the
// first builder's index.
func consume(t *testing.T, rep *report, c consumer, builders []string, ref func(string) string, fixed map[string]stored) {
	t.Helper()
	var refusals []string
	for _, builder := range builders {
		for _, arch := range arches {
			platform := "linux/" + arch
			if got, err := c.pick(t, ref("idx:"+builder+"-unfixed"), platform); err == nil {
				t.Errorf("%s %s of the unfixed %s index: picked %s, want a refusal", c.name, platform, builder, got)
			} else {
				refusals = append(refusals, said(err))
			}
			got, err := c.pick(t, ref("idx:"+builder+"-fixed"), platform)
			if want := c.expect(fixed[arch]); err != nil || got != want {
				t.Errorf("%s %s of the fixed %s index: picked %s (%v), want %s", c.name, platform, builder, got, err, want)
			}
		}
	}
	if len(refusals) == 0 {
		return
	}
	rep.add(c.name, c.version(t), strings.NewReplacer("PLATFORM", "linux/arm64", "ARCH", "arm64").Replace(c.command)+" (indexes by "+strings.Join(builders, ", ")+")",
		"refused: "+code(strings.ReplaceAll(refusals[len(arches)-1], ref("idx:"+builders[0]+"-unfixed"), "INDEX")), "picked the linux/arm64 child (linux/amd64 too)")
}

// runTool runs the tool with --json and returns the one result's digest.
func runTool(t *testing.T, ts tools, args ...string) string {
	t.Helper()
	out := must(t, nil, ts.tool, append([]string{"--json"}, args...)...)
	var res []struct{ Digest, Error string }
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 || res[0].Digest == "" {
		t.Fatalf("set-image-platform %s: results %q (%v), want one digest", strings.Join(args, " "), out, err)
	}
	return res[0].Digest
}

// platformOf is a config's os/architecture[/variant].
func platformOf(t *testing.T, config []byte) string {
	t.Helper()
	var c struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	}
	if err := json.Unmarshal(config, &c); err != nil {
		t.Fatalf("parsing config: %v", err)
	}
	p := c.OS + "/" + c.Architecture
	if c.Variant != "" {
		p += "/" + c.Variant
	}
	return p
}

// expectOnlyPlatformChanged checks that the fixed config is the unfixed one
// with the architecture written in: every other byte is kept.
func expectOnlyPlatformChanged(t *testing.T, before, after stored, arch string) {
	t.Helper()
	want := strings.Replace(string(before.config), `"architecture":""`, fmt.Sprintf("%q:%q", "architecture", arch), 1)
	if string(after.config) != want {
		t.Errorf("fixed config = %s, want the unfixed one with only the architecture set: %s", after.config, want)
	}
}

// expectSame fails when two images differ in any byte of manifest or config.
func expectSame(t *testing.T, aName string, a stored, bName string, b stored) {
	t.Helper()
	if a.digest == b.digest && string(a.config) == string(b.config) {
		return
	}
	t.Errorf("%s and %s differ:\n%s: %s\n  manifest %s\n  config %s\n%s: %s\n  manifest %s\n  config %s",
		aName, bName, aName, a.digest, a.manifest, a.config, bName, b.digest, b.manifest, b.config)
}

func code(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }
