package e2e

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDaemonAuto reads the platform of images in the real engine from
// their binaries, through both front doors: the save stream
// (GET /images/{id}/get) read once, up to where the binaries settle it,
// the config taken from the same pass for a set. check, plan and dry run
// load and tag nothing; a set loads the config and manifest.json alone. An
// image with no binaries is one error, nothing loaded.
func TestDaemonAuto(t *testing.T) {
	t.Parallel()
	d, _ := daemonClient(t)
	for _, tc := range []struct {
		name   string
		action bool
		// data loads an image of data layers only, no binary.
		data     bool
		byID     bool
		inputs   map[string]string
		args     []string
		wantExit int
		// loads says the run loads the fixed image; set says it goes as
		// far as a set.
		loads, set  bool
		wantChanged string
		wantError   []string
	}{
		{name: "action check", action: true, inputs: map[string]string{"mode": "check"}, wantExit: 1, wantError: []string{"lacks an os or architecture", "platform: linux/amd64"}},
		{name: "action plan", action: true, inputs: map[string]string{"mode": "plan"}, wantChanged: "true"},
		{name: "action dry run", action: true, inputs: map[string]string{"dry-run": "true"}, set: true, wantChanged: "true"},
		{name: "action set", action: true, set: true, loads: true, wantChanged: "true"},
		{name: "action set by ID", action: true, byID: true, set: true, loads: true, wantChanged: "true"},
		{name: "cli set", set: true, loads: true},
		{name: "cli check", args: []string{"--check"}, wantExit: 1, wantError: []string{"lacks an os or architecture", "--platform linux/amd64"}},
		{name: "action no binaries", action: true, data: true, wantExit: 1, wantError: []string{"no ELF or PE executable", "platform"}},
		{name: "cli no binaries", data: true, wantExit: 1, wantError: []string{"no ELF or PE executable", "platform"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A repository of its own: the engine's images in it are
			// compared before and after, while other rows load theirs.
			repo := "example.test/daemon/auto-" + strings.ToLower(strings.ReplaceAll(tc.name, " ", "-"))
			im := daemonImage(t)
			if tc.data {
				im = binImage(`"architecture":"","os":"linux"`, randomLayers(t, 2, dockerLayer)...)
			}
			fx := loadDaemonFixture(t, d, repo, im, tc.byID, tc.loads)
			tag, line, oldID, newID := fx.tag, fx.line, fx.oldID, fx.newID
			p := newEngineProxy(t, d)
			before := engineImages(t, d, repo)
			inputs := map[string]string{"platform": "auto"}
			maps.Copy(inputs, tc.inputs)
			res := runDaemonLine(t, tc.action, p.host, line, inputs, append([]string{"--platform", "auto"}, tc.args...), tc.wantExit, tc.wantError)

			// One save, by ID, whatever the mode: auto reads the binaries,
			// the store asked first, which says how the save is laid out.
			want := []string{"GET /_ping", "GET /images/" + strings.TrimPrefix(line, "docker-daemon:") + "/json", "GET /info", "GET /images/" + oldID + "/get"}
			fx.expectRequests(t, p, want, tc.loads)
			after := engineImages(t, d, repo)
			if !tc.loads {
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("the engine's images after the run (-before +after):\n%s", diff)
				}
			} else {
				if got := d.must(t, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", newID); got != "linux/amd64" {
					t.Errorf("docker image inspect %s = %s, want linux/amd64", newID, got)
				}
				wantTagID := newID
				if tc.byID {
					wantTagID = oldID
				}
				if got := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag); got != wantTagID {
					t.Errorf("docker image inspect %s = %s, want %s", tag, got, wantTagID)
				}
			}
			if !tc.action || tc.wantExit != 0 {
				return
			}
			if got := res.Outputs["changed"]; got != tc.wantChanged {
				t.Errorf("changed output = %q, want %q", got, tc.wantChanged)
			}
			if !tc.set {
				return
			}
			wantImage := "docker-daemon:" + repo + "@" + newID
			if tc.byID {
				wantImage = "docker-daemon:" + newID
			}
			wantOutputs := map[string]string{"digest": newID, "image": wantImage, "changed": tc.wantChanged, "platform": "linux/amd64"}
			gotOutputs := map[string]string{}
			for k := range wantOutputs {
				gotOutputs[k] = res.Outputs[k]
			}
			if diff := cmp.Diff(wantOutputs, gotOutputs); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
		})
	}
}
