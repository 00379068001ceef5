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
			fx := loadDaemonFixture(t, d, repo, im, tc.byID, tc.loads)
			tag, line, oldID, newID, fixed := fx.tag, fx.line, fx.oldID, fx.newID, fx.fixed
			p := newEngineProxy(t, d)
			res := runDaemonLine(t, tc.action, p.host, line, tc.inputs, tc.args, tc.wantExit, tc.wantError)

			want := []string{"GET /_ping", "GET /images/" + strings.TrimPrefix(line, "docker-daemon:") + "/json"}
			if tc.wantChanged == "true" || tc.loads {
				want = append(want, "GET /info", "GET /images/"+oldID+"/get")
			}
			fx.expectRequests(t, p, want, tc.loads)
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

// daemonFixture is an image loaded into the engine for a run that sets
// linux/amd64 on it: its tag, the line naming it (by tag, or by ID), its
// ID, and the config the run makes and its digest (the new image ID).
type daemonFixture struct {
	tag, line, oldID, newID string
	fixed                   []byte
}

// loadDaemonFixture loads im into the engine as a new tag of repo. With
// loads, the fixed image a run loads is removed when t ends.
func loadDaemonFixture(t *testing.T, d *dockerEngine, repo string, im image, byID, loads bool) daemonFixture {
	t.Helper()
	fx := daemonFixture{tag: daemonTag(t, d, repo), oldID: im.config.digest}
	d.loadArchive(t, fx.tag, im)
	fx.line = "docker-daemon:" + fx.tag
	if byID {
		fx.line = "docker-daemon:" + fx.oldID
	}
	var err error
	fx.fixed, err = patch.SetPlatform(im.config.data, nil, platform.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	fx.newID = sha256Digest(fx.fixed)
	if loads {
		t.Cleanup(func() { d.run(t, nil, nil, "image", "rm", "--force", fx.newID) })
	}
	return fx
}

// expectRequests fails t unless the engine behind p was asked want and,
// when the run loads, the load of the fixed image and an inspect of what
// it was loaded as (the tag, or the new ID for a line naming the image by
// ID); and unless it was posted at most maxPosted bytes, none without a
// load: never a layer.
func (fx daemonFixture) expectRequests(t *testing.T, p *engineProxy, want []string, loads bool) {
	t.Helper()
	if loads {
		loaded := fx.tag
		if strings.HasPrefix(fx.line, "docker-daemon:sha256:") {
			loaded = fx.newID
		}
		want = append(want, "POST /images/load", "GET /images/"+loaded+"/json")
	}
	if diff := cmp.Diff(want, p.requests()); diff != "" {
		t.Errorf("requests to the engine (-want +got):\n%s", diff)
	}
	if got := p.postedBytes(); got > maxPosted || !loads && got != 0 {
		t.Errorf("bytes posted to the engine = %d, want at most %d (none without a load)", got, maxPosted)
	}
}
