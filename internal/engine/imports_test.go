package engine

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	namePkg     = "github.com/google/go-containerregistry/pkg/name"
	registryPkg = "github.com/set-image-platform/set-image-platform/internal/registry"
)

// registryAllowed are the engine's files that may import the registry
// package or go-containerregistry's names, and which of the two.
var registryAllowed = map[string][]string{
	// The one adapter: image lines parsed into store references,
	// registries opened from them.
	"registry.go": {namePkg, registryPkg},
	// The hints branch on the registry's typed errors (a 401, an
	// immutable tag, plain HTTP): what they say is about registries.
	"hint.go": {registryPkg},
	// Layouts published to a registry and the Docker engine's names:
	// LocalJob.Target and daemon.go are being moved by other work.
	"local.go":  {namePkg},
	"daemon.go": {namePkg},
}

// TestEngineImports keeps the engine working over store references and
// store.Repository: only the files above may name a registry type.
func TestEngineImports(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, imp := range fileImports(t, f) {
			if (imp == namePkg || imp == registryPkg) && !slices.Contains(registryAllowed[f], imp) {
				got = append(got, f+" imports "+imp)
			}
		}
	}
	if diff := cmp.Diff([]string(nil), got); diff != "" {
		t.Errorf("engine files importing registry types outside registry.go (-want +got):\n%s", diff)
	}
}

// TestStoreLevelImports: plan, patch, detect, referrers and sweep work
// over any place that holds an image, so that nothing they depend on, at
// any depth, is the registry package or go-containerregistry's names.
func TestStoreLevelImports(t *testing.T) {
	t.Parallel()
	pkgs := []string{"../plan", "../patch", "../detect", "../referrers", "../sweep"}
	cmd := exec.Command("go", append([]string{"list", "-f", `{{.ImportPath}} {{join .Deps " "}}`}, pkgs...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v = %v", pkgs, err)
	}
	var got []string
	for line := range strings.Lines(string(out)) {
		pkg, deps, _ := strings.Cut(strings.TrimSpace(line), " ")
		for _, d := range strings.Fields(deps) {
			if d == namePkg || d == registryPkg {
				got = append(got, pkg+" depends on "+d)
			}
		}
	}
	if diff := cmp.Diff([]string(nil), got); diff != "" {
		t.Errorf("store-level packages depending on registry types (-want +got):\n%s", diff)
	}
}

// fileImports are the import paths of the Go file f.
func fileImports(t *testing.T, f string) []string {
	t.Helper()
	af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatalf("parsing %s: %v", f, err)
	}
	var out []string
	for _, imp := range af.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			t.Fatalf("%s: import %s: %v", f, imp.Path.Value, err)
		}
		out = append(out, p)
	}
	return out
}
