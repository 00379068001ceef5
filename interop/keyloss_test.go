package interop

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

// builtConfig is a config as Docker's classic builder writes it (container,
// container_config, docker_version, keys in its order) with the build record
// BuildKit 0.10 added (moby.buildkit.buildinfo.v1), architecture empty as a
// broken pipeline leaves it. %s is the layer's diff ID.
const builtConfig = `{"architecture":"","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/app"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container":"3f1a2b4c5d6e","container_config":{"Hostname":"3f1a2b4c5d6e","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh","-c","#(nop) ","CMD [\"/app\"]"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{}},"created":"2024-05-01T10:00:00.123456789Z","docker_version":"20.10.24","history":[{"created":"2024-05-01T10:00:00.123456789Z","created_by":"/bin/sh -c #(nop) COPY file:0123 in /app "},{"created":"2024-05-01T10:00:00.123456789Z","created_by":"/bin/sh -c #(nop)  CMD [\"/app\"]","empty_layer":true}],"moby.buildkit.buildinfo.v1":"eyJmcm9udGVuZCI6ImRvY2tlcmZpbGUudjAiLCJzb3VyY2VzIjpbXX0=","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}`

// keyLoss pushes an image with builtConfig and sets linux/amd64 on it with
// the tool and with crane: the tool changes only the architecture, crane
// rewrites the config through its struct.
func keyLoss(t *testing.T, ts tools, rep *report, ref func(string) string) {
	t.Helper()
	tarball, gz := appLayer(t)
	config := fmt.Sprintf(builtConfig, fmt.Sprintf("sha256:%x", sha256.Sum256(tarball)))
	pushRaw(t, ref("built:empty"), gz, []byte(config))
	before := fetch(t, ref("built:empty"))

	runTool(t, ts, "--platform", "linux/amd64", "--tag", "tool", ref("built:empty"))
	tool := fetch(t, ref("built:tool"))
	expectOnlyPlatformChanged(t, before, tool, "amd64")

	craned := strings.TrimSpace(must(t, nil, ts.crane, "mutate", "--set-platform", "linux/amd64", "-t", ref("built:crane"), ref("built:empty")))
	crane := fetch(t, craned)
	lost := missing(keyPaths(t, before.config), keyPaths(t, crane.config))
	for _, key := range []string{"container_config", "moby.buildkit.buildinfo.v1"} {
		if !strings.Contains(" "+strings.Join(lost, " ")+" ", " "+key+" ") {
			t.Errorf("crane mutate kept %q, which its ConfigFile struct does not know; lost %q", key, lost)
		}
	}
	order, craneOrder := topKeys(t, before.config), topKeys(t, crane.config)
	t.Logf("builder config keys: %s\ncrane's keys:         %s\ncrane dropped: %s", order, craneOrder, lost)
	topLost := missing(order, craneOrder)
	rep.add("crane", ts.version(t, "crane"),
		"`crane mutate --set-platform linux/amd64 NAME` on a Docker-builder config with BuildKit's `moby.buildkit.buildinfo.v1`",
		"-", fmt.Sprintf("dropped %s and %d nested keys (%d of %d keys); top-level order %s became %s; set-image-platform changed only `architecture`",
			"`"+strings.Join(topLost, "`, `")+"`", len(lost)-len(topLost), len(lost), len(keyPaths(t, before.config)),
			code(strings.Join(order, ",")), code(strings.Join(craneOrder, ","))))
}

// appLayer is a gzipped tar holding one file, and the tar itself.
func appLayer(t *testing.T) (tarball, gz []byte) {
	t.Helper()
	var tb, zb bytes.Buffer
	tw := tar.NewWriter(&tb)
	body := []byte("#!/bin/sh\necho app\n")
	if err := tw.WriteHeader(&tar.Header{Name: "app", Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	zw := gzip.NewWriter(&zb)
	zw.Write(tb.Bytes())
	zw.Close()
	return tb.Bytes(), zb.Bytes()
}
