package action

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-githubactions"

	"github.com/set-image-platform/set-image-platform/internal/engine"
)

func newAction(env map[string]string) (*githubactions.Action, *bytes.Buffer) {
	var out bytes.Buffer
	getenv := func(k string) string { return env[k] }
	return githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(&out)), &out
}

func TestReadInputs(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"INPUT_IMAGE":        "ghcr.io/o/a:1\n\n ghcr.io/o/b:2 \n",
		"INPUT_PLATFORM":     "linux/arm64",
		"INPUT_TAG":          "fixed",
		"INPUT_MODE":         "Check",
		"INPUT_OVERWRITE":    "TRUE",
		"INPUT_DRY-RUN":      "true",
		"INPUT_INSECURE":     "",
		"INPUT_USERNAME":     "bot",
		"INPUT_PASSWORD":     "hunter2",
		"INPUT_GITHUB-TOKEN": "ghs_token",
		"GITHUB_ACTOR":       "octocat",
	}
	gha, out := newAction(env)
	got, err := ReadInputs(gha)
	if err != nil {
		t.Fatalf("ReadInputs() = %v, want no error", err)
	}
	want := engine.Input{
		Images: []string{"ghcr.io/o/a:1", "", " ghcr.io/o/b:2"}, Platform: "linux/arm64", Tag: "fixed",
		Mode: engine.Check, Overwrite: true, DryRun: true, Username: "bot", Password: "hunter2",
		GitHubToken: "ghs_token", GitHubActor: "octocat",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadInputs() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("::add-mask::hunter2\n::add-mask::ghs_token\n", out.String()); diff != "" {
		t.Errorf("ReadInputs() printed (-want +got):\n%s", diff)
	}
}

func TestReadInputsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ input, value string }{
		{"dry-run", "yes"}, {"overwrite", "maybe"}, {"insecure", "1"}, {"mode", "fix"},
	}
	for _, tt := range tests {
		t.Run(tt.input+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			gha, out := newAction(map[string]string{
				"INPUT_IMAGE": "ghcr.io/o/a:1", "INPUT_PASSWORD": "s3cret",
				"INPUT_" + strings.ToUpper(tt.input): tt.value,
			})
			_, err := ReadInputs(gha)
			var ie *engine.InputError
			if !errors.As(err, &ie) || ie.Input != tt.input || !strings.Contains(err.Error(), `"`+tt.value+`"`) {
				t.Errorf("ReadInputs() = %v, want an *InputError naming %s and quoting %q", err, tt.input, tt.value)
			}
			if !strings.HasPrefix(out.String(), "::add-mask::s3cret\n") {
				t.Errorf("ReadInputs() printed %q, want the mask first", out.String())
			}
		})
	}
}

// parseOutputs reads a GITHUB_OUTPUT file the way the runner does.
func parseOutputs(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			t.Fatalf("output line %q is not in heredoc form", sc.Text())
		}
		var lines []string
		for sc.Scan() && sc.Text() != delim {
			lines = append(lines, sc.Text())
		}
		out[k] = strings.Join(lines, "\n")
	}
	return out
}

func TestWriteOutputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		outs map[string]string
	}{
		{"plain", map[string]string{"digest": "sha256:abc", "changed": "true"}},
		{"multi-line", map[string]string{"digest": "sha256:a\n\nsha256:c"}},
		{"fixed delimiter of go-githubactions", map[string]string{"platform": "x\n_GitHubActionsFileCommandDelimeter_\nchanged<<EOF\ntrue\nEOF"}},
		{"fake heredoc", map[string]string{"results": "a\nghadelimiter_\ninjected<<X\nevil\nX"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "output")
			if err := WriteOutputs(path, tt.outs); err != nil {
				t.Fatalf("WriteOutputs() = %v", err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.outs, parseOutputs(t, b)); diff != "" {
				t.Errorf("WriteOutputs(%q) read back (-want +got):\n%s", tt.outs, diff)
			}
		})
	}
}

func TestWriteOutputsRefusesBadNames(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "output")
	if err := WriteOutputs(path, map[string]string{"a<<b": "x"}); err == nil {
		t.Errorf("WriteOutputs(name a<<b) = nil, want an error")
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"::set-output name=x::y":    ": :set-output name=x::y",
		"  ::error::x":              "  : :error::x",
		"\t##[error]x":              "\t# #[error]x",
		"plain :: text":             "plain :: text",
		"text ##[error]x":           "text # #[error]x",
		`linux/"amd64\n##[error]x"`: `linux/"amd64\n# #[error]x"`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLoggerOneLine: registry text with line breaks and terminal escapes
// makes one line per message, with nothing the runner or a terminal acts
// on.
func TestLoggerOneLine(t *testing.T) {
	t.Parallel()
	const hostile = "x\r\n::error::evil\r##[error]evil\x1b[2K\u2028"
	// The runner parses a line that starts with "::" as a command and
	// looks no further for the legacy "##[" in it.
	const escaped = `x\r\n::error::evil\r##[error]evil\x1b[2K\u2028`
	gha, out := newAction(nil)
	l := &logger{gha: gha, w: out}
	l.Group("g " + hostile)
	l.Info("i " + hostile)
	l.Notice("n " + hostile)
	l.Warning("w " + hostile)
	l.Error("e " + hostile)
	want := "::group::g " + escaped + "\n" +
		"i " + strings.Replace(escaped, "##[", "# #[", 1) + "\n" +
		"::notice::n " + escaped + "\n" +
		"::warning::w " + escaped + "\n" +
		"::error::e " + escaped + "\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

// TestReadInputsReadsTheTable checks that ReadInputs asks the runner for
// exactly the inputs of the table that action.yml is held to.
func TestReadInputsReadsTheTable(t *testing.T) {
	t.Parallel()
	var asked []string
	getenv := func(k string) string {
		if name, ok := strings.CutPrefix(k, "INPUT_"); ok {
			asked = append(asked, strings.ToLower(name))
		}
		return ""
	}
	gha := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(&bytes.Buffer{}))
	if _, err := ReadInputs(gha); err != nil {
		t.Fatalf("ReadInputs() = %v, want no error", err)
	}
	var want []string
	for _, s := range Inputs() {
		want = append(want, s.Name)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(asked))); diff != "" {
		t.Errorf("ReadInputs() asked for inputs (-want +got):\n%s", diff)
	}
}

func TestResultsFile(t *testing.T) {
	t.Parallel()
	results := []map[string]string{{"source": "a"}}
	for _, tc := range []struct {
		name      string
		workspace bool
		temp      bool
		wantAbs   bool
		wantEmpty bool
	}{
		{name: "workspace: relative to it", workspace: true, temp: true},
		{name: "runner temp only: absolute", temp: true, wantAbs: true},
		{name: "neither: no file", wantEmpty: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ws, temp := t.TempDir(), t.TempDir()
			env := map[string]string{}
			if tc.workspace {
				env["GITHUB_WORKSPACE"] = ws
			}
			if tc.temp {
				env["RUNNER_TEMP"] = temp
			}
			got, err := resultsFile(func(k string) string { return env[k] }, results)
			if err != nil {
				t.Fatalf("resultsFile() error = %v", err)
			}
			switch {
			case tc.wantEmpty:
				if got != "" {
					t.Errorf("resultsFile() = %q, want no file", got)
				}
				return
			case tc.wantAbs:
				if !filepath.IsAbs(got) || filepath.Dir(got) != temp {
					t.Errorf("resultsFile() = %q, want an absolute path in %s", got, temp)
				}
			default:
				if !filepath.IsLocal(got) {
					t.Errorf("resultsFile() = %q, want a path relative to the workspace", got)
				}
				got = filepath.Join(ws, got)
			}
			data, err := os.ReadFile(got)
			if err != nil || string(data) != `[{"source":"a"}]` {
				t.Errorf("reading %s = %q, %v, want the results", got, data, err)
			}
		})
	}
}
