package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// oneChildIndex renders an indented OCI index (as buildx pushes it) with
// one linux/amd64 image child, entry and index annotations.
func oneChildIndex(digest string, size int) []byte {
	return []byte(fmt.Sprintf("{\n  \"schemaVersion\": 2,\n  \"mediaType\": %q,\n  \"manifests\": [\n    {\n      \"mediaType\": %q,\n      \"digest\": %q,\n      \"size\": %d,\n      \"annotations\": {\n        \"org.opencontainers.image.ref.name\": \"1.0\"\n      },\n      \"platform\": {\n        \"architecture\": \"amd64\",\n        \"os\": \"linux\"\n      }\n    }\n  ],\n  \"annotations\": {\n    \"org.opencontainers.image.source\": \"https://github.com/octocat/hello\"\n  }\n}",
		ociIndex, ociManifest, digest, size))
}

// TestSetIndexOneImageChild checks SPEC's index rules on the simplest
// index: one image child whose config lacks the platform its entry has.
// A concrete platform applies to that child; an empty platform makes the
// child consistent with its entry. Either way the index's bytes change only
// in the child's digest and size.
func TestSetIndexOneImageChild(t *testing.T) {
	t.Parallel()
	for _, platform := range []string{"linux/amd64", ""} {
		t.Run("platform "+strconv.Quote(platform), func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			child := buildxImage(t, 2)
			oldChild := reg.push(t, "app@"+child.manifestDigest(), child)
			oldIndex := reg.putManifest(t, "app:1.0", oneChildIndex(oldChild, len(child.manifest())), ociIndex)

			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": platform})
			reg.proxy.log(t, "requests of the run")
			expectExit(t, res, 0)

			idx := reg.get(t, "app:1.0")
			if idx.mediaType != ociIndex {
				t.Errorf("app:1.0 media type = %q, want %q", idx.mediaType, ociIndex)
			}
			var parsed struct {
				Manifests []struct {
					Digest string `json:"digest"`
				} `json:"manifests"`
			}
			if err := json.Unmarshal(idx.body, &parsed); err != nil || len(parsed.Manifests) != 1 {
				t.Fatalf("new index %s: %v", idx.body, err)
			}
			newChild := parsed.Manifests[0].Digest
			if newChild == oldChild {
				t.Fatalf("index still points to the unpatched child %s", oldChild)
			}
			childManifest := reg.get(t, "app@"+newChild)
			if want := oneChildIndex(newChild, len(childManifest.body)); !bytes.Equal(idx.body, want) {
				t.Errorf("new index bytes:\n%s\nwant:\n%s", idx.body, want)
			}
			expectPatched(t, reg, "app", "app@"+newChild, child, platformMembers("linux", "amd64", "", ""), nil)
			expectOutputs(t, res, map[string]string{
				"digest":          idx.digest,
				"image":           reg.ref("app") + "@" + idx.digest,
				"previous-digest": oldIndex,
				"changed":         "true",
				"platform":        "linux/amd64",
			})
			expectLayersUntouched(t, reg.proxy, child)
		})
	}
}
