package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/set-image-platform/set-image-platform/internal/oci"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// lines records what a run logs, one "kind: msg" per call.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (r *lines) add(k, m string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.l = append(r.l, k+": "+m)
}
func (r *lines) Group(t string)   { r.add("group", t) }
func (r *lines) EndGroup()        { r.add("endgroup", "") }
func (r *lines) Info(m string)    { r.add("info", m) }
func (r *lines) Notice(m string)  { r.add("notice", m) }
func (r *lines) Warning(m string) { r.add("warning", m) }
func (r *lines) Error(m string)   { r.add("error", m) }

// pushImage pushes a one-layer Docker v2 image whose config has an empty
// architecture, through the project's own client.
func pushImage(t *testing.T, ref name.Reference, seed string) {
	t.Helper()
	ctx := context.Background()
	repo := ref.Context().RepositoryStr()
	c, err := registry.Open(ctx, ref.Context().Registry, []registry.Scope{{Repository: repo, Push: true}}, registry.Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	layer := []byte("layer " + seed)
	cfg := []byte(`{"architecture":"","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"seed":"` + seed + `"}`)
	man := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"}]}`,
		types.DockerManifestSchema2, types.DockerConfigJSON, len(cfg), oci.Digest(cfg), len(layer), oci.Digest(layer)))
	for _, b := range [][]byte{layer, cfg} {
		if err := c.Repo(repo).PushBlob(ctx, oci.Digest(b), int64(len(b)), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Repo(repo).PutManifest(ctx, ref.Identifier(), man, types.DockerManifestSchema2); err != nil {
		t.Fatal(err)
	}
}

func TestRunKeepsInputOrder(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	var images []string
	for i := range 7 {
		ref := fmt.Sprintf("%s/app%d:1", host, i)
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		pushImage(t, r, fmt.Sprint(i))
		images = append(images, ref)
	}
	images = append(images, host+"/missing:1")
	cfg, err := NewConfig(Input{Images: images, Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	rec := &lines{}
	o, err := Run(context.Background(), cfg, Deps{Log: rec})
	if err != nil {
		t.Fatal(err)
	}
	results := o.Results
	if len(results) != len(images) {
		t.Fatalf("Run() = %d results, want %d", len(results), len(images))
	}
	for i, r := range results {
		if r.Source != images[i] {
			t.Errorf("Run() result %d is for %s, want %s", i, r.Source, images[i])
		}
		if wantErr := i == len(images)-1; (r.Err != nil) != wantErr || (!wantErr && !r.Changed) {
			t.Errorf("Run() result %d = changed %t err %v, want changed and error only for the missing image", i, r.Changed, r.Err)
		}
	}
	// Each image's lines stand inside its own group, groups in input order.
	g := -1
	for _, l := range rec.l {
		switch {
		case strings.HasPrefix(l, "group: "):
			g++
			if want := "group: " + images[g]; l != want {
				t.Errorf("group %d = %q, want %q", g, l, want)
			}
		case strings.HasPrefix(l, "info: ") && strings.Contains(l, " -> "):
			if !strings.HasPrefix(l, "info: "+images[g]+"  ") {
				t.Errorf("summary line %q inside the group of %s", l, images[g])
			}
		case strings.HasPrefix(l, "info: ["):
			if want := fmt.Sprintf("info: [%d/%d] %s", g+1, len(images), images[g]); l != want {
				t.Errorf("progress line = %q, want %q", l, want)
			}
		}
	}
	if g != len(images)-1 {
		t.Errorf("Run() logged %d groups, want %d:\n%s", g+1, len(images), strings.Join(rec.l, "\n"))
	}
}
