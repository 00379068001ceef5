package e2e

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/set-image-platform/set-image-platform/internal/action"
)

// The contract's names: workflows and scripts of users depend on them, so
// they are written out here rather than read from action.yml, which is
// what this file checks.
var (
	// specInputs are the contract's inputs, in its order, with their
	// defaults; image is the one required input and has none.
	specInputs = []actionInput{
		{Name: "image", Required: true},
		{Name: "platform", Default: ptr("")},
		{Name: "tag", Default: ptr("")},
		{Name: "mode", Default: ptr("set")},
		{Name: "overwrite", Default: ptr("false")},
		{Name: "dry-run", Default: ptr("false")},
		{Name: "username", Default: ptr("")},
		{Name: "password", Default: ptr("")},
		{Name: "github-token", Default: ptr("${{ github.token }}")},
		{Name: "insecure", Default: ptr("false")},
		{Name: "referrers", Default: ptr("warn")},
		{Name: "concurrency", Default: ptr("4")},
		{Name: "shards", Default: ptr("16")},
	}
	specOutputs = []string{"digest", "image", "previous-digest", "changed", "platform", "results", "results-file", "matrix"}
)

func ptr(s string) *string { return &s }

// actionInput is one input of action.yml.
type actionInput struct {
	Name        string
	Description string
	Required    bool
	Default     *string // nil when action.yml gives none
}

// actionOutput is one output of action.yml.
type actionOutput struct {
	Name        string
	Description string
}

// actionMeta is what the contract checks of action.yml, in file order.
type actionMeta struct {
	Inputs  []actionInput
	Outputs []actionOutput
	Using   string
	Image   string
}

// readActionYAML parses the repository's action.yml.
func readActionYAML(t *testing.T) actionMeta {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatalf("reading action.yml: %v", err)
	}
	var doc struct {
		Inputs  yaml.Node `yaml:"inputs"`
		Outputs yaml.Node `yaml:"outputs"`
		Runs    struct {
			Using string `yaml:"using"`
			Image string `yaml:"image"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parsing action.yml: %v", err)
	}
	meta := actionMeta{Using: doc.Runs.Using, Image: doc.Runs.Image}
	// Mapping nodes hold keys and values alternately, in file order.
	for i := 0; i+1 < len(doc.Inputs.Content); i += 2 {
		var in struct {
			Description string  `yaml:"description"`
			Required    bool    `yaml:"required"`
			Default     *string `yaml:"default"`
		}
		if err := doc.Inputs.Content[i+1].Decode(&in); err != nil {
			t.Fatalf("parsing action.yml input %q: %v", doc.Inputs.Content[i].Value, err)
		}
		meta.Inputs = append(meta.Inputs, actionInput{Name: doc.Inputs.Content[i].Value, Description: in.Description, Required: in.Required, Default: in.Default})
	}
	for i := 0; i+1 < len(doc.Outputs.Content); i += 2 {
		var out struct {
			Description string `yaml:"description"`
		}
		if err := doc.Outputs.Content[i+1].Decode(&out); err != nil {
			t.Fatalf("parsing action.yml output %q: %v", doc.Outputs.Content[i].Value, err)
		}
		meta.Outputs = append(meta.Outputs, actionOutput{Name: doc.Outputs.Content[i].Value, Description: out.Description})
	}
	return meta
}

func (m actionMeta) inputNames() []string {
	var names []string
	for _, in := range m.Inputs {
		names = append(names, in.Name)
	}
	return names
}

func (m actionMeta) outputNames() []string {
	var names []string
	for _, out := range m.Outputs {
		names = append(names, out.Name)
	}
	return names
}

// TestContractActionYAML checks action.yml against the contract's names and
// defaults, and the e2e runner against action.yml.
func TestContractActionYAML(t *testing.T) {
	t.Parallel()
	meta := readActionYAML(t)

	type shape struct {
		Name     string
		Required bool
		Default  *string
	}
	var want, got []shape
	for _, in := range specInputs {
		want = append(want, shape{in.Name, in.Required, in.Default})
	}
	for _, in := range meta.Inputs {
		got = append(got, shape{in.Name, in.Required, in.Default})
		if strings.TrimSpace(in.Description) == "" {
			t.Errorf("action.yml input %q has no description", in.Name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("action.yml inputs differ from the contract's (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(specOutputs, meta.outputNames()); diff != "" {
		t.Errorf("action.yml outputs differ from the contract's (-want +got):\n%s", diff)
	}
	for _, out := range meta.Outputs {
		if strings.TrimSpace(out.Description) == "" {
			t.Errorf("action.yml output %q has no description", out.Name)
		}
	}

	// A Docker container action: built from the Dockerfile on the default
	// branch, a prebuilt image pinned by digest in a release commit.
	if meta.Using != "docker" {
		t.Errorf("action.yml runs.using = %q, want docker", meta.Using)
	}
	if meta.Image != "Dockerfile" && !regexp.MustCompile(`^docker://ghcr\.io/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$`).MatchString(meta.Image) {
		t.Errorf("action.yml runs.image = %q, want Dockerfile or docker://ghcr.io/<repository>@sha256:<digest>", meta.Image)
	}

	// runAction sets every input the way the runner does: each declared
	// input, with its default when the step does not give it. The token is
	// the one exception: the runner expands ${{ github.token }}.
	wantDefaults := map[string]string{}
	for _, in := range meta.Inputs {
		def := ""
		if in.Default != nil {
			def = *in.Default
		}
		if in.Name == "github-token" {
			def = fakeGitHubToken
		}
		wantDefaults[in.Name] = def
	}
	if diff := cmp.Diff(wantDefaults, actionDefaults); diff != "" {
		t.Errorf("runAction's inputs differ from action.yml's (-want +got):\n%s", diff)
	}
}

// readmeRow is one row of a README table: name, then the other cells.
type readmeRow struct {
	name  string
	cells []string
}

// readmeTable returns the rows of the first table under the "## <heading>"
// section of README.md, without the header and separator rows.
func readmeTable(t *testing.T, heading string, columns int) []readmeRow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatalf("reading README.md: %v", err)
	}
	_, section, ok := strings.Cut(string(data), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", "## "+heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows []readmeRow
	inTable := false
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		if strings.Trim(line, "|-: ") == "" {
			continue // separator row
		}
		inner := strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |")
		cells := strings.Split(inner, " | ")
		if len(cells) != columns {
			t.Errorf("README %s row %q has %d cells, want %d", heading, line, len(cells), columns)
			continue
		}
		if !strings.HasPrefix(cells[0], "`") {
			continue // header row
		}
		rows = append(rows, readmeRow{name: strings.Trim(cells[0], "`"), cells: cells[1:]})
	}
	if len(rows) == 0 {
		t.Fatalf("README.md %q section has no table rows", heading)
	}
	return rows
}

// TestContractREADME checks README's input and output tables against
// action.yml: the same names in the same order, descriptions and defaults.
func TestContractREADME(t *testing.T) {
	t.Parallel()
	meta := readActionYAML(t)

	type inputRow struct{ Name, Default, Description string }
	var want, got []inputRow
	for _, in := range meta.Inputs {
		def := "(required)"
		if in.Default != nil {
			def = *in.Default
		}
		want = append(want, inputRow{in.Name, def, in.Description})
	}
	for _, r := range readmeTable(t, "Inputs", 3) {
		def := r.cells[0]
		switch {
		case def == "`\"\"`":
			def = "" // how the README writes an empty default
		case strings.HasPrefix(def, "`") && strings.HasSuffix(def, "`"):
			def = strings.Trim(def, "`")
		}
		got = append(got, inputRow{r.name, def, r.cells[1]})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README's Inputs table differs from action.yml (-want +got):\n%s", diff)
	}

	wantOut := meta.Outputs
	var gotOut []actionOutput
	for _, r := range readmeTable(t, "Outputs", 2) {
		gotOut = append(gotOut, actionOutput{r.name, r.cells[0]})
	}
	if diff := cmp.Diff(wantOut, gotOut); diff != "" {
		t.Errorf("README's Outputs table differs from action.yml (-want +got):\n%s", diff)
	}
}

// TestContractInputsRead checks that the inputs the action reads (its
// table, which ReadInputs reads and no other) are action.yml's, with the
// same defaults: an input never read is silently ignored, one not declared
// is always empty.
func TestContractInputsRead(t *testing.T) {
	t.Parallel()
	var got []actionInput
	for _, s := range action.Inputs() {
		in := actionInput{Name: s.Name, Required: s.Required}
		if !s.Required {
			in.Default = ptr(s.Default)
		}
		got = append(got, in)
	}
	var want []actionInput
	for _, in := range readActionYAML(t).Inputs {
		in.Description = ""
		want = append(want, in)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inputs the action reads differ from action.yml's (-want +got):\n%s", diff)
	}
}

// TestContractOutputsWritten runs the binary as the runner does and checks
// that it writes exactly action.yml's outputs, whether the run changes an
// image, only checks it, or fails for one of several images.
func TestContractOutputsWritten(t *testing.T) {
	t.Parallel()
	want := readActionYAML(t).outputNames()
	sort.Strings(want)
	for _, tc := range []struct {
		name     string
		inputs   func(reg *testRegistry) map[string]string
		wantExit int
	}{
		{"set", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64"}
		}, 0},
		{"dry run", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:1.0"), "platform": "linux/amd64", "dry-run": "true"}
		}, 0},
		{"check fails", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:1.0"), "mode": "check"}
		}, 1},
		{"one of two images fails", func(reg *testRegistry) map[string]string {
			return map[string]string{"image": reg.ref("app:1.0") + "\n" + reg.ref("missing:1.0"), "platform": "linux/amd64"}
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			reg.push(t, "app:1.0", packImage(t, 1))
			res := runAction(t, tc.inputs(reg))
			expectExit(t, res, tc.wantExit)
			if diff := cmp.Diff(want, slices.Sorted(maps.Keys(res.Outputs))); diff != "" {
				t.Errorf("outputs written to GITHUB_OUTPUT differ from action.yml's (-want +got):\n%s", diff)
			}
		})
	}
}
