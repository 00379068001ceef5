package e2e

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// TestDaemonSet sets the platform of images in the real engine in place,
// through both front doors: the config read from the save stream,
// patched byte for byte, loaded back with manifest.json alone (never a
// layer: bytes posted under maxPosted), the tag moved to the new image ID,
// which is the digest output. A dry run, an image already right and a
// refused conflict load nothing.
func TestDaemonSet(t *testing.T) {
	t.Parallel()
	d, _ := daemonClient(t)
	amd64 := platform.Platform{OS: "linux", Architecture: "amd64"}
	const repo = "example.test/daemon/set"
	for _, tc := range []struct {
		name   string
		action bool
		// right loads an image declaring linux/amd64; else its
		// architecture is empty.
		right    bool
		byID     bool
		inputs   map[string]string
		args     []string
		wantExit int
		// loads says the run loads the fixed image.
		loads       bool
		wantChanged string
		wantError   []string
	}{
		{name: "action set", action: true, inputs: map[string]string{"platform": "linux/amd64"}, loads: true, wantChanged: "true"},
		{name: "action set by ID", action: true, byID: true, inputs: map[string]string{"platform": "linux/amd64"}, loads: true, wantChanged: "true"},
		{name: "action dry run", action: true, inputs: map[string]string{"platform": "linux/amd64", "dry-run": "true"}, wantChanged: "true"},
		{name: "action already right", action: true, right: true, inputs: map[string]string{"platform": "linux/amd64"}, wantChanged: "false"},
		{name: "action conflict", action: true, right: true, inputs: map[string]string{"platform": "linux/arm64"}, wantExit: 1, wantError: []string{"linux/amd64", "linux/arm64", "overwrite: true"}},
		{name: "cli set", args: []string{"--platform", "linux/amd64"}, loads: true},
		{name: "cli conflict", right: true, args: []string{"--platform", "linux/arm64"}, wantExit: 1, wantError: []string{"linux/amd64", "--overwrite"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := daemonImage(t)
			if tc.right {
				im = binImage(`"architecture":"amd64","os":"linux"`, randomLayers(t, 1, dockerLayer)...)
			}
			tag := daemonTag(t, d, repo)
			d.loadArchive(t, tag, im)
			oldID := im.config.digest
			line := "docker-daemon:" + tag
			if tc.byID {
				line = "docker-daemon:" + oldID
			}
			fixed, err := patch.SetPlatform(im.config.data, nil, amd64)
			if err != nil {
				t.Fatal(err)
			}
			newID := sha256Digest(fixed)
			if tc.loads {
				t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", newID) })
			}
			p := newEngineProxy(t, d)
			inputs := map[string]string{"image": line}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			res := runDaemonDoor(t, tc.action, p.host, inputs, append(tc.args, line)...)
			expectExit(t, res, tc.wantExit)
			switch {
			case len(tc.wantError) > 0 && tc.action:
				expectErrorMentions(t, res, append([]string{line}, tc.wantError...)...)
			case len(tc.wantError) > 0:
				expectOneCLIError(t, res, append([]string{line}, tc.wantError...)...)
			}

			want := []string{"GET /_ping", "GET /images/" + strings.TrimPrefix(line, "docker-daemon:") + "/json"}
			if tc.wantChanged == "true" || tc.loads {
				want = append(want, "GET /info", "GET /images/"+oldID+"/get")
			}
			if tc.loads {
				loaded := tag
				if tc.byID {
					loaded = newID
				}
				want = append(want, "POST /images/load", "GET /images/"+loaded+"/json")
			}
			if diff := cmp.Diff(want, p.requests()); diff != "" {
				t.Errorf("requests to the engine (-want +got):\n%s", diff)
			}
			if got := p.postedBytes(); got > maxPosted || !tc.loads && got != 0 {
				t.Errorf("bytes posted to the engine = %d, want at most %d (none without a load); the layers hold %d", got, maxPosted, layersSize(im))
			}
			t.Logf("bytes posted: %d (config %d bytes, layers %d bytes)", p.postedBytes(), len(fixed), layersSize(im))

			// The tag names the fixed image after a load by tag, the
			// source image otherwise; the fixed image is in the engine
			// only after a load.
			wantTagID := oldID
			if tc.loads && !tc.byID {
				wantTagID = newID
			}
			if got := d.must(t, "image", "inspect", "--format", "{{.Id}}", tag); got != wantTagID {
				t.Errorf("docker image inspect %s = %s, want %s", tag, got, wantTagID)
			}
			gotNew := d.run(t, nil, nil, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", newID)
			switch {
			case tc.loads && (gotNew.ExitCode != 0 || strings.TrimSpace(gotNew.Stdout) != "linux/amd64"):
				t.Errorf("docker image inspect %s = %s, want linux/amd64", newID, gotNew)
			case !tc.loads && !tc.right && gotNew.ExitCode == 0:
				t.Errorf("docker image inspect %s found the fixed image, want none loaded", newID)
			}
			if !tc.action || tc.wantExit != 0 {
				return
			}
			wantDigest := newID
			if tc.wantChanged == "false" {
				wantDigest = oldID
			}
			if got := res.Outputs["digest"]; got != wantDigest {
				t.Errorf("digest output = %q, want %q", got, wantDigest)
			}
			if got := res.Outputs["changed"]; got != tc.wantChanged {
				t.Errorf("changed output = %q, want %q", got, tc.wantChanged)
			}
			wantImage := "docker-daemon:" + repo + "@" + wantDigest
			if tc.byID {
				// Named as the line named its source: by ID.
				wantImage = "docker-daemon:" + wantDigest
			}
			if got, want := res.Outputs["image"], wantImage; got != want {
				t.Errorf("image output = %q, want %q", got, want)
			}
		})
	}
}
