package e2e

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
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
	}
	specOutputs = []string{"digest", "image", "previous-digest", "changed", "platform", "results"}
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

// TestContractInputsRead checks that the action's code reads every input
// action.yml declares, and no other: an input never read is silently
// ignored, one not declared is always empty.
func TestContractInputsRead(t *testing.T) {
	t.Parallel()
	read, err := inputsRead(filepath.Join("..", "internal", "action"))
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(read))
	want := readActionYAML(t).inputNames()
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inputs read by GetInput in internal/action differ from action.yml's (-want +got):\n%s", diff)
	}
}

// inputsRead parses the non-test Go files of dir and returns the input
// names passed to GetInput, with where each is read. A name is a string
// literal, or a loop variable (or a field of one) ranging over a literal
// list; anything else is an error, so that the check cannot pass by not
// seeing a read.
func inputsRead(dir string) (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	read := map[string][]string{}
	var errs []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "GetInput" {
				return true
			}
			pos := fset.Position(call.Pos()).String()
			if len(call.Args) != 1 {
				errs = append(errs, pos+": GetInput with "+strconv.Itoa(len(call.Args))+" arguments")
				return true
			}
			names, err := stringValues(call.Args[0], stack)
			if err != nil {
				errs = append(errs, pos+": "+err.Error())
				return true
			}
			for _, name := range names {
				read[name] = append(read[name], pos)
			}
			return true
		})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("reading GetInput arguments:\n%s", strings.Join(errs, "\n"))
	}
	if len(read) == 0 {
		return nil, fmt.Errorf("no GetInput call found in %s", dir)
	}
	return read, nil
}

// stringValues returns the strings that e can hold: a string literal, a
// loop variable ranging over a literal list of strings, or a field of a
// loop variable ranging over a literal list of structs. stack holds the
// nodes enclosing e, outermost first.
func stringValues(e ast.Expr, stack []ast.Node) ([]string, error) {
	var loopVar, field string
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return nil, fmt.Errorf("argument %s is not a string", e.Value)
		}
		s, err := strconv.Unquote(e.Value)
		return []string{s}, err
	case *ast.Ident:
		loopVar = e.Name
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		if !ok {
			return nil, fmt.Errorf("argument %s is not a literal or a loop variable's field", syntaxName(e))
		}
		loopVar, field = x.Name, e.Sel.Name
	default:
		return nil, fmt.Errorf("argument of type %s is not a literal or a loop variable", syntaxName(e))
	}
	for i := len(stack) - 1; i >= 0; i-- {
		r, ok := stack[i].(*ast.RangeStmt)
		if !ok {
			continue
		}
		if v, ok := r.Value.(*ast.Ident); !ok || v.Name != loopVar {
			continue
		}
		list, ok := r.X.(*ast.CompositeLit)
		if !ok {
			return nil, fmt.Errorf("loop variable %s ranges over something other than a literal list", loopVar)
		}
		return listValues(list, field)
	}
	return nil, fmt.Errorf("%s is not a loop variable over a literal list", loopVar)
}

// listValues returns the strings of a literal list: its elements, or the
// named field of each struct element.
func listValues(list *ast.CompositeLit, field string) ([]string, error) {
	index := -1
	if field != "" {
		arr, ok := list.Type.(*ast.ArrayType)
		if !ok {
			return nil, fmt.Errorf("list of field %s is not a slice or array literal", field)
		}
		st, ok := arr.Elt.(*ast.StructType)
		if !ok {
			return nil, fmt.Errorf("list of field %s does not hold struct literals", field)
		}
		n := 0
		for _, f := range st.Fields.List {
			for _, name := range f.Names {
				if name.Name == field {
					index = n
				}
				n++
			}
		}
		if index < 0 {
			return nil, fmt.Errorf("struct has no field %s", field)
		}
	}
	var out []string
	for _, elt := range list.Elts {
		v := elt
		if field != "" {
			lit, ok := elt.(*ast.CompositeLit)
			if !ok {
				return nil, fmt.Errorf("element of type %s is not a struct literal", syntaxName(elt))
			}
			v = nil
			for j, fe := range lit.Elts {
				if kv, ok := fe.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == field {
						v = kv.Value
					}
				} else if j == index {
					v = fe
				}
			}
			if v == nil {
				return nil, fmt.Errorf("element without field %s", field)
			}
		}
		s, err := stringValues(v, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// syntaxName names e's syntax for error messages.
func syntaxName(e ast.Expr) string { return fmt.Sprintf("%T", e) }

func TestInputsReadFollowsLoops(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		src     string
		want    []string
		wantErr bool
	}{
		{"literal", `gha.GetInput("image")`, []string{"image"}, false},
		{"strings", `for _, n := range []string{"a", "b"} { gha.GetInput(n) }`, []string{"a", "b"}, false},
		{"positional field", `for _, b := range []struct{ name string; dst *bool }{{"x", nil}, {"y", nil}} { gha.GetInput(b.name) }`, []string{"x", "y"}, false},
		{"keyed field", `for _, b := range []struct{ dst *bool; name string }{{name: "z"}} { gha.GetInput(b.name) }`, []string{"z"}, false},
		{"variable", `n := "a"; gha.GetInput(n)`, nil, true},
		{"call", `gha.GetInput(strings.ToLower("A"))`, nil, true},
		{"range over a variable", `l := []string{"a"}; for _, n := range l { gha.GetInput(n) }`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := "package p\n\nfunc f() {\n" + tc.src + "\n}\n"
			if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			read, err := inputsRead(dir)
			if (err != nil) != tc.wantErr {
				t.Fatalf("inputsRead(%q) error = %v, want error %v", tc.src, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, slices.Sorted(maps.Keys(read))); diff != "" {
				t.Errorf("inputsRead(%q) names (-want +got):\n%s", tc.src, diff)
			}
		})
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
