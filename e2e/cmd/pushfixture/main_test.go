package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestRun(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/demo/app:1"

	var out bytes.Buffer
	if err := run(context.Background(), []string{ref}, &out); err != nil {
		t.Fatalf("run(%q) = %v, want nil", ref, err)
	}
	printed := strings.TrimSpace(out.String())

	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatalf("reading back %s: %v", ref, err)
	}
	if got := desc.Digest.String(); got != printed {
		t.Errorf("printed digest = %s, want the pushed one %s", printed, got)
	}
	if got, want := desc.MediaType, dockerManifest; got != want {
		t.Errorf("manifest media type = %s, want %s", got, want)
	}
	img, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("config is not JSON: %v\n%s", err, raw)
	}
	if got, ok := cfg["architecture"]; !ok || got != "" {
		t.Errorf(`config "architecture" = %v (present %v), want "" present`, got, ok)
	}
	if got := cfg["os"]; got != "linux" {
		t.Errorf(`config "os" = %v, want "linux"`, got)
	}
	// Digests, sizes and diff IDs must agree, or a client that checks them
	// would refuse the image before the action is even tried.
	if err := validate.Image(img); err != nil {
		t.Errorf("validate.Image: %v", err)
	}

	// A second push gives the same digest: CI compares it with the
	// action's previous-digest output.
	out.Reset()
	if err := run(context.Background(), []string{ref}, &out); err != nil {
		t.Fatalf("second run(%q) = %v, want nil", ref, err)
	}
	if got := strings.TrimSpace(out.String()); got != printed {
		t.Errorf("second run printed %s, want %s", got, printed)
	}
}

func TestRunArgs(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"a/b:1", "c/d:2"}, {"NOT A REFERENCE"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			if err := run(context.Background(), args, &out); err == nil {
				t.Errorf("run(%q) = nil, want an error", args)
			}
			if out.Len() != 0 {
				t.Errorf("run(%q) printed %q, want nothing", args, out.String())
			}
		})
	}
}
