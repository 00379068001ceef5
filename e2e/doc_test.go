package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testFuncName is a name go test runs: Test or Benchmark, then nothing or
// a character that is not a lower-case letter.
var testFuncName = regexp.MustCompile(`^(Test|Benchmark)([^a-z].*)?$`)

// TestDocTable holds doc.go's table to the tests: every Test and Benchmark
// function of this module appears once, in the row of the file it is in,
// so that a newcomer who looks a behaviour up there finds its test.
func TestDocTable(t *testing.T) {
	t.Parallel()
	want := testFuncs(t)
	got := docTable(t, "doc.go")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("doc.go's table (-want +got), as \"file test\" (add a new test's row with the test):\n%s", diff)
	}
}

// testFuncs are the tests of the e2e module's test files, each as
// "file test", sorted.
func testFuncs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := filepath.Glob(filepath.Join("cmd", "*", "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	var tests []string
	fset := token.NewFileSet()
	for _, file := range append(files, sub...) {
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && testFuncName.MatchString(fn.Name.Name) && fn.Name.Name != "TestMain" {
				tests = append(tests, filepath.ToSlash(file)+" "+fn.Name.Name)
			}
		}
	}
	slices.Sort(tests)
	return tests
}

// docTable reads the table of path's package comment: after the header
// line, a row is behaviour, file and test apart by two spaces or more; an
// indented row adds a test of the row's file, or a file and a test of
// its behaviour. It returns the rows as "file test", sorted.
func docTable(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	columns := regexp.MustCompile(`\s{2,}`)
	var tests []string
	in, file := false, ""
	for line := range strings.Lines(string(b)) {
		row, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "//\t")
		if !in {
			in = ok && columns.Split(row, -1)[0] == "behaviour"
			continue
		}
		if !ok {
			break
		}
		fields := columns.Split(strings.TrimSpace(row), -1)
		switch indented := strings.HasPrefix(row, " "); {
		case !indented && len(fields) == 3, indented && len(fields) == 2:
			file = fields[len(fields)-2]
		case indented && len(fields) == 1 && file != "":
		default:
			t.Errorf("%s: row %q is not behaviour, file, test (or an indented test, or file and test)", path, row)
			continue
		}
		tests = append(tests, file+" "+fields[len(fields)-1])
	}
	if !in {
		t.Fatalf("%s has no table: no line //\\tbehaviour  file  tests", path)
	}
	slices.Sort(tests)
	return tests
}
