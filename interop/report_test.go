package interop

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// report is the interop table: one row per client and command, what it did
// with images whose architecture is empty and with the same images fixed.
type report struct {
	rows [][5]string
}

func (r *report) add(client, version, command, before, after string) {
	r.rows = append(r.rows, [5]string{client, version, command, before, after})
}

// markdown renders the table as docs/interop.md shows it.
func (r *report) markdown() string {
	var b strings.Builder
	b.WriteString("| client | version | command | before the fix (architecture empty) | after the fix |\n|---|---|---|---|---|\n")
	for _, row := range r.rows {
		b.WriteString("| " + strings.Join(row[:], " | ") + " |\n")
	}
	return b.String()
}

// write logs the table and adds it to the report.
func (r *report) write(t *testing.T) {
	t.Helper()
	md := r.markdown()
	t.Logf("interop table:\n%s", md)
	appendReport(t, md)
}

// appendReport appends a table to the file INTEROP_REPORT names, if any (the
// workflow adds it to the job summary). Appended, not written: each test
// adds its own table, in the order the tests run.
func appendReport(t *testing.T, md string) {
	t.Helper()
	path := os.Getenv("INTEROP_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = f.WriteString(md + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Errorf("writing the report: %v", err)
	}
}

// version is what a client says its version is, or the version this suite
// builds.
func (ts tools) version(t *testing.T, client string) string {
	t.Helper()
	var out string
	switch client {
	case "pack":
		// Built without the release's ldflags, pack says 0.0.0.
		return packVersion + " (built from its module source)"
	case "crane":
		out = must(t, nil, ts.crane, "version")
	case "regctl":
		out = must(t, nil, ts.regctl, "version", "--format", "{{.VCSTag}}")
	case "docker":
		out = must(t, ts.docker, "docker", "version", "--format", "{{.Client.Version}} (engine {{.Server.Version}})")
	case "skopeo", "podman":
		f := strings.Fields(must(t, nil, client, "--version"))
		out = f[len(f)-1]
	default:
		panic(fmt.Sprintf("no version for %q", client))
	}
	return strings.TrimSpace(out)
}
