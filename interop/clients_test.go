package interop

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// indexBuilder puts images into a new index pushed to target.
type indexBuilder struct {
	name, command string
	version       func(t *testing.T) string
	build         func(t *testing.T, target string, images []string) (*v1.IndexManifest, error)
}

// consumer selects one platform's child of an index and names what it got
// in the terms expect gives for the right child.
type consumer struct {
	name, command string
	version       func(t *testing.T) string
	pick          func(t *testing.T, index, platform string) (string, error)
	expect        func(child stored) string
}

// regctlEnv gives regctl a home of its own; regctlHost tells it the registry
// speaks plain HTTP.
func regctlArgs(t *testing.T, reg string) ([]string, []string) {
	return []string{"HOME=" + t.TempDir()}, []string{"--host", "reg=" + reg + ",tls=disabled"}
}

// podmanArgs keeps podman's storage in temporary directories, apart from any
// other podman on the machine; vfs needs no kernel support. Not t.TempDir:
// podman refuses a runroot longer than 50 characters, which a subtest's
// name makes.
func podmanArgs(t *testing.T) []string {
	dir := shortTempDir(t, "podman-")
	return []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"}
}

func indexBuilders(t *testing.T, ts tools, reg string) []indexBuilder {
	regEnv, regHost := regctlArgs(t, reg)
	bs := []indexBuilder{{
		name:    "crane",
		command: "`crane index append -m IMAGE -m IMAGE -t INDEX`",
		version: func(t *testing.T) string { return ts.version(t, "crane") },
		build: func(t *testing.T, target string, images []string) (*v1.IndexManifest, error) {
			args := []string{"index", "append", "-t", target}
			for _, im := range images {
				args = append(args, "-m", im)
			}
			if _, err := run(t, nil, ts.crane, args...); err != nil {
				return nil, err
			}
			return fetchIndex(t, target), nil
		},
	}, {
		name:    "regctl",
		command: "`regctl index create INDEX --ref IMAGE --ref IMAGE`",
		version: func(t *testing.T) string { return ts.version(t, "regctl") },
		build: func(t *testing.T, target string, images []string) (*v1.IndexManifest, error) {
			args := append(slices.Clone(regHost), "index", "create", target)
			for _, im := range images {
				args = append(args, "--ref", im)
			}
			if _, err := run(t, regEnv, ts.regctl, args...); err != nil {
				return nil, err
			}
			return fetchIndex(t, target), nil
		},
	}}
	if ts.podman {
		pm := podmanArgs(t)
		bs = append(bs, indexBuilder{
			name:    "podman",
			command: "`podman manifest create LIST`, `podman manifest add LIST docker://IMAGE` (each), `podman manifest push --all LIST docker://INDEX`",
			version: func(t *testing.T) string { return ts.version(t, "podman") },
			build: func(t *testing.T, target string, images []string) (*v1.IndexManifest, error) {
				list := "localhost/interop-" + strings.NewReplacer(":", "-", "/", "-").Replace(target)
				if _, err := run(t, nil, "podman", append(slices.Clone(pm), "manifest", "create", list)...); err != nil {
					return nil, err
				}
				for _, im := range images {
					if _, err := run(t, nil, "podman", append(slices.Clone(pm), "manifest", "add", "--tls-verify=false", list, "docker://"+im)...); err != nil {
						return nil, err
					}
				}
				if _, err := run(t, nil, "podman", append(slices.Clone(pm), "manifest", "push", "--all", "--tls-verify=false", list, "docker://"+target)...); err != nil {
					return nil, err
				}
				return fetchIndex(t, target), nil
			},
		})
	}
	return bs
}

func consumers(t *testing.T, ts tools, reg string) []consumer {
	docker := ts.docker
	regEnv, regHost := regctlArgs(t, reg)
	layers := func(child stored) string {
		var ls []string
		for _, l := range child.parsed.Layers {
			ls = append(ls, l.Digest.String())
		}
		return strings.Join(ls, ",")
	}
	configDigest := func(child stored) string { return child.parsed.Config.Digest.String() }
	cs := []consumer{{
		name:    "skopeo",
		command: "`skopeo inspect --override-os linux --override-arch ARCH docker://INDEX`",
		version: func(t *testing.T) string { return ts.version(t, "skopeo") },
		pick: func(t *testing.T, index, platform string) (string, error) {
			os, arch, _ := strings.Cut(platform, "/")
			out, err := run(t, nil, "skopeo", "inspect", "--tls-verify=false", "--override-os", os, "--override-arch", arch, "docker://"+index)
			if err != nil {
				return "", err
			}
			var got struct{ Layers []string }
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				return "", fmt.Errorf("parsing skopeo's output %q: %w", out, err)
			}
			return strings.Join(got.Layers, ","), nil
		},
		expect: layers,
	}, {
		name:    "regctl",
		command: "`regctl manifest get --platform PLATFORM INDEX`",
		version: func(t *testing.T) string { return ts.version(t, "regctl") },
		pick: func(t *testing.T, index, platform string) (string, error) {
			out, err := run(t, regEnv, ts.regctl, append(slices.Clone(regHost), "manifest", "get", "--platform", platform, "--format", "raw-body", index)...)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(out))), nil
		},
		expect: func(child stored) string { return child.digest },
	}, {
		name:    "docker",
		command: "`docker pull --platform PLATFORM INDEX`",
		version: func(t *testing.T) string { return ts.version(t, "docker") },
		pick: func(t *testing.T, index, platform string) (string, error) {
			if _, err := run(t, docker, "docker", "pull", "--platform", platform, index); err != nil {
				return "", err
			}
			// The engine names a pulled image by its config's digest.
			out, err := run(t, docker, "docker", "image", "inspect", "--format", "{{.Id}}", index)
			defer run(t, docker, "docker", "image", "rm", index)
			return strings.TrimSpace(out), err
		},
		expect: configDigest,
	}}
	if ts.podman {
		pm := podmanArgs(t)
		cs = append(cs, consumer{
			name:    "podman",
			command: "`podman pull --platform PLATFORM docker://INDEX`",
			version: func(t *testing.T) string { return ts.version(t, "podman") },
			pick: func(t *testing.T, index, platform string) (string, error) {
				out, err := run(t, nil, "podman", append(slices.Clone(pm), "pull", "-q", "--tls-verify=false", "--platform", platform, "docker://"+index)...)
				if err != nil {
					return "", err
				}
				defer run(t, nil, "podman", append(slices.Clone(pm), "rmi", "-f", index)...)
				// podman prints the image's ID: its config's hex digest.
				return "sha256:" + strings.TrimSpace(out), nil
			},
			expect: configDigest,
		})
	}
	return cs
}

// shortTempDir is a temporary directory named from prefix only, removed
// when the test ends.
func shortTempDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
