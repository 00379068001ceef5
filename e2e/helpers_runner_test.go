package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeGitHubToken is what the runner passes as github-token by default;
// no registry in these tests accepts it.
const fakeGitHubToken = "ghs_e2eFakeTokenThatNoRegistryAccepts0123"

// runTimeout bounds one run of the binary.
const runTimeout = 90 * time.Second

// Result is what one run of the binary left behind.
type Result struct {
	ExitCode int
	Stdout   string
	Stderr   string
	// Outputs as parsed from GITHUB_OUTPUT (action mode only).
	Outputs map[string]string
	// OutputFile and Summary are the raw GITHUB_OUTPUT and
	// GITHUB_STEP_SUMMARY texts (action mode only).
	OutputFile string
	Summary    string
	// ResultsFile is the text of the file the results-file output names,
	// opened as a later step opens it: relative to the workspace.
	ResultsFile string
	// Workspace is the directory the step had as its workspace.
	Workspace string
}

// actionDefaults are the inputs the runner always sets, with action.yml's
// defaults.
var actionDefaults = map[string]string{
	"image":        "",
	"platform":     "",
	"tag":          "",
	"mode":         "set",
	"overwrite":    "false",
	"dry-run":      "false",
	"username":     "",
	"password":     "",
	"github-token": fakeGitHubToken,
	"insecure":     "false",
	"referrers":    "warn",
	"concurrency":  "4",
	"shards":       "16",
}

// runAction runs the binary as the GitHub runner runs a container action
// (see actionEnv) and logs what it left behind.
func runAction(tb testing.TB, inputs map[string]string, extraEnv ...string) Result {
	tb.Helper()
	res := runActionQuiet(tb, inputs, extraEnv...)
	tb.Logf("action run: %s", res)
	return res
}

// runActionQuiet is runAction without the log, for benchmarks, whose logs
// are always printed.
func runActionQuiet(tb testing.TB, inputs map[string]string, extraEnv ...string) Result {
	tb.Helper()
	return runActionSetup(tb, nil, inputs, extraEnv...)
}

// runActionSetup is runActionQuiet with the workspace prepared by setup,
// when not nil, before the run (it gets the workspace's path).
func runActionSetup(tb testing.TB, setup func(workspace string), inputs map[string]string, extraEnv ...string) Result {
	tb.Helper()
	env, files := actionEnv(tb, tb.TempDir(), inputs)
	if setup != nil {
		setup(files.workspace)
	}
	env = append(append(env, shellEnv(tb.TempDir())...), extraEnv...)
	res := execBinary(tb, nil, env, nil)
	files.read(tb, &res)
	return res
}

// runnerFiles are the files the runner gives a step, and its workspace.
type runnerFiles struct{ output, summary, workspace string }

// actionEnv returns the environment the runner gives a container action,
// besides HOME and PATH: GITHUB_ACTIONS=true, RUNNER_TEMP dir, an empty
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY in dir, GITHUB_WORKSPACE
// dir/workspace, and every input as
// INPUT_<NAME> with the name upper-cased and hyphens kept (action.yml's
// default where inputs has none).
func actionEnv(tb testing.TB, dir string, inputs map[string]string) ([]string, runnerFiles) {
	tb.Helper()
	files := runnerFiles{output: filepath.Join(dir, "github_output"), summary: filepath.Join(dir, "step_summary"), workspace: filepath.Join(dir, "workspace")}
	for _, f := range []string{files.output, files.summary} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Mkdir(files.workspace, 0o755); err != nil {
		tb.Fatal(err)
	}
	env := []string{
		"GITHUB_ACTIONS=true",
		"CI=true",
		"GITHUB_OUTPUT=" + files.output,
		"GITHUB_STEP_SUMMARY=" + files.summary,
		"GITHUB_ACTOR=octocat",
		"GITHUB_REPOSITORY=octocat/hello",
		"RUNNER_TEMP=" + dir,
		"GITHUB_WORKSPACE=" + files.workspace,
	}
	for name, def := range actionDefaults {
		v, ok := inputs[name]
		if !ok {
			v = def
		}
		env = append(env, "INPUT_"+strings.ToUpper(name)+"="+v)
	}
	for name := range inputs {
		if _, ok := actionDefaults[name]; !ok {
			tb.Fatalf("actionEnv: unknown input %q", name)
		}
	}
	return env, files
}

// read puts the outputs and the step summary the run wrote into res.
func (f runnerFiles) read(tb testing.TB, res *Result) {
	tb.Helper()
	out, err := os.ReadFile(f.output)
	if err != nil {
		tb.Fatal(err)
	}
	res.OutputFile = string(out)
	res.Outputs, err = parseOutputs(res.OutputFile)
	if err != nil {
		tb.Errorf("parsing GITHUB_OUTPUT: %v\n%s", err, out)
	}
	summary, err := os.ReadFile(f.summary)
	if err != nil {
		tb.Fatal(err)
	}
	res.Summary = string(summary)
	res.Workspace = f.workspace
	res.ResultsFile = f.readResultsFile(tb, res.Outputs["results-file"])
}

// readResultsFile opens the results-file output as a later step does:
// relative to the workspace. An absolute path is the action container's
// view, which no later step can open.
func (f runnerFiles) readResultsFile(tb testing.TB, path string) string {
	tb.Helper()
	if path == "" || f.workspace == "" {
		return ""
	}
	if filepath.IsAbs(path) || !filepath.IsLocal(path) {
		tb.Errorf("results-file output = %q, want a path inside the workspace, relative to it", path)
		return ""
	}
	data, err := os.ReadFile(filepath.Join(f.workspace, path))
	if err != nil {
		tb.Errorf("opening the results-file output %q in the workspace: %v", path, err)
	}
	return string(data)
}

// shellEnv is the environment of a person's shell in home: HOME,
// DOCKER_CONFIG (home/.docker, which may not exist) and PATH.
func shellEnv(home string) []string {
	return []string{"HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"), "PATH=" + os.Getenv("PATH")}
}

// runCLI runs the binary as a person does, outside GitHub Actions.
func runCLI(tb testing.TB, args ...string) Result {
	tb.Helper()
	return runCLIWith(tb, cliSetup{}, args...)
}

// cliSetup is what a person's shell holds besides the arguments.
type cliSetup struct {
	stdin        string
	dockerConfig string // config.json in DOCKER_CONFIG, if not empty
}

// runCLIWith is runCLI with stdin and a docker config.
func runCLIWith(tb testing.TB, setup cliSetup, args ...string) Result {
	tb.Helper()
	home := tb.TempDir()
	if setup.dockerConfig != "" {
		writeDockerConfig(tb, home, setup.dockerConfig)
	}
	res := execBinary(tb, args, shellEnv(home), strings.NewReader(setup.stdin))
	tb.Logf("cli run %q: %s", args, res)
	return res
}

// writeDockerConfig writes config as the config.json of shellEnv(home).
func writeDockerConfig(tb testing.TB, home, config string) {
	tb.Helper()
	dir := filepath.Join(home, ".docker")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// execBinary runs the binary under test; see execTool.
func execBinary(tb testing.TB, args, env []string, stdin io.Reader) Result {
	tb.Helper()
	res, err := execTool(tb, binaryPath, args, env, stdin)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// execTool runs the program at path in a fresh directory, bounded by
// runTimeout; err says why it did not run or did not finish, and a
// non-zero exit is only res.ExitCode.
func execTool(tb testing.TB, path string, args, env []string, stdin io.Reader) (res Result, err error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Dir = tb.TempDir()
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res = Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s did not finish within %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(path), runTimeout, res.Stdout, res.Stderr)
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	case err != nil:
		return res, fmt.Errorf("running %s: %w", filepath.Base(path), err)
	}
	return res, nil
}

// String is what a run left behind, for logs.
func (r Result) String() string {
	s := fmt.Sprintf("exit %d\n--- stdout ---\n%s--- stderr ---\n%s", r.ExitCode, r.Stdout, r.Stderr)
	if r.OutputFile != "" {
		s += "--- GITHUB_OUTPUT ---\n" + r.OutputFile
	}
	return s
}

// parseOutputs reads a GITHUB_OUTPUT file as runnerOutputs does, strictly:
// no blank line between entries and no output written twice.
func parseOutputs(s string) (map[string]string, error) {
	entries, err := runnerOutputs(s, false)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if _, dup := out[e.Name]; dup {
			return nil, errors.New("output " + e.Name + " written twice")
		}
		out[e.Name] = e.Value
	}
	return out, nil
}

// outputEntry is one output as the runner reads GITHUB_OUTPUT.
type outputEntry struct{ Name, Value string }

// runnerOutputs parses a GITHUB_OUTPUT file the way the runner does on
// Linux: lines end at \n; "NAME=VALUE" when "=" comes before any "<<",
// else "NAME<<DELIMITER" followed by the value's lines up to a line that is
// DELIMITER. Empty lines between entries, which the runner skips, are an
// error unless skipBlank.
func runnerOutputs(text string, skipBlank bool) ([]outputEntry, error) {
	lines := strings.Split(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var out []outputEntry
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" && skipBlank {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			out = append(out, outputEntry{line[:eq], line[eq+1:]})
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, errors.New("invalid line " + strconvQuote(line))
			}
			var val []string
			closed := false
			for i++; i < len(lines); i++ {
				if lines[i] == delim {
					closed = true
					break
				}
				val = append(val, lines[i])
			}
			if !closed {
				return nil, errors.New("no closing delimiter for " + name)
			}
			out = append(out, outputEntry{name, strings.Join(val, "\n")})
		default:
			return nil, errors.New("invalid line " + strconvQuote(line))
		}
	}
	return out, nil
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// logLines returns stdout and stderr lines together.
func (r Result) logLines() []string {
	return strings.Split(strings.ReplaceAll(r.Stdout+"\n"+r.Stderr, "\r\n", "\n"), "\n")
}

// commandLines returns the log lines that are the workflow command cmd
// (e.g. "error" for "::error::…" or "::error file=…::…").
func (r Result) commandLines(cmd string) []string {
	var got []string
	for _, l := range r.logLines() {
		if strings.HasPrefix(l, "::"+cmd+"::") || strings.HasPrefix(l, "::"+cmd+" ") {
			got = append(got, l)
		}
	}
	return got
}

// lines splits a multi-line output value into one entry per image.
func (r Result) lines(name string) []string {
	return strings.Split(r.Outputs[name], "\n")
}

// resultObject is one entry of the results output.
type resultObject map[string]any

// results parses the results output.
func (r Result) results(tb testing.TB) []resultObject {
	tb.Helper()
	var got []resultObject
	if err := json.Unmarshal([]byte(r.Outputs["results"]), &got); err != nil {
		tb.Fatalf("results output %q is not a JSON array of objects: %v", r.Outputs["results"], err)
	}
	return got
}

// expectExit fails t now when the exit code is not want.
func expectExit(tb testing.TB, r Result, want int) {
	tb.Helper()
	if r.ExitCode != want {
		tb.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.ExitCode, want, r.Stdout, r.Stderr)
	}
}

// expectOneError fails t unless exactly one ::error:: line was printed, and
// returns it.
func expectOneError(tb testing.TB, r Result) string {
	tb.Helper()
	errs := r.commandLines("error")
	if len(errs) != 1 {
		tb.Errorf("::error:: lines = %d, want 1: %q", len(errs), errs)
		if len(errs) == 0 {
			return ""
		}
	}
	return errs[0]
}

// TestParseOutputs checks the one GITHUB_OUTPUT parser in both of its
// modes: as the runner reads the file, and as strictly as runAction does.
func TestParseOutputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       map[string]string // nil: strict parsing fails
		wantRunner []outputEntry     // nil: the runner rejects the file
	}{{
		name:       "value and heredoc",
		text:       "digest=sha256:1\nplatform<<EOF\nlinux/amd64\n\nlinux/arm64\nEOF\n",
		want:       map[string]string{"digest": "sha256:1", "platform": "linux/amd64\n\nlinux/arm64"},
		wantRunner: []outputEntry{{"digest", "sha256:1"}, {"platform", "linux/amd64\n\nlinux/arm64"}},
	}, {
		name:       "= before <<",
		text:       "a=b<<c\n",
		want:       map[string]string{"a": "b<<c"},
		wantRunner: []outputEntry{{"a", "b<<c"}},
	}, {
		name:       "blank line between entries",
		text:       "a=1\n\nb=2\n",
		wantRunner: []outputEntry{{"a", "1"}, {"b", "2"}},
	}, {
		name:       "written twice",
		text:       "a=1\na=2\n",
		wantRunner: []outputEntry{{"a", "1"}, {"a", "2"}},
	}, {
		name: "unterminated heredoc",
		text: "a<<EOF\nvalue\n",
	}, {
		name: "line without = or <<",
		text: "a\n",
	}, {
		name: "empty delimiter",
		text: "a<<\n\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseOutputs(tc.text)
			if (err != nil) != (tc.want == nil) {
				t.Errorf("parseOutputs(%q) error = %v, want error %v", tc.text, err, tc.want == nil)
			}
			if diff := cmp.Diff(tc.want, got); tc.want != nil && diff != "" {
				t.Errorf("parseOutputs(%q) mismatch (-want +got):\n%s", tc.text, diff)
			}
			entries, err := runnerOutputs(tc.text, true)
			if (err != nil) != (tc.wantRunner == nil) {
				t.Errorf("runnerOutputs(%q, true) error = %v, want error %v", tc.text, err, tc.wantRunner == nil)
			}
			if diff := cmp.Diff(tc.wantRunner, entries); tc.wantRunner != nil && diff != "" {
				t.Errorf("runnerOutputs(%q, true) mismatch (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

// cliErrors returns the "error: " lines the command line printed.
func cliErrors(r Result) []string {
	var got []string
	for _, l := range r.logLines() {
		if strings.HasPrefix(l, "error: ") {
			got = append(got, l)
		}
	}
	return got
}

// expectOneCLIError fails t unless the command line printed exactly one
// "error: " line, and that line holds each of wants.
func expectOneCLIError(t testing.TB, res Result, wants ...string) {
	t.Helper()
	errs := cliErrors(res)
	if len(errs) != 1 {
		t.Fatalf("error lines = %d, want 1: %q", len(errs), errs)
	}
	for _, want := range wants {
		if !strings.Contains(errs[0], want) {
			t.Errorf("error %q does not mention %q", errs[0], want)
		}
	}
}

// startAction starts the binary as runAction runs it and returns the
// running command and a function that waits for its end and collects what
// it left behind.
func startAction(t *testing.T, inputs map[string]string, extraEnv ...string) (*exec.Cmd, func() Result) {
	t.Helper()
	env, files := actionEnv(t, t.TempDir(), inputs)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	cmd := exec.CommandContext(ctx, binaryPath)
	cmd.Env = append(append(env, shellEnv(t.TempDir())...), extraEnv...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting the binary: %v", err)
	}
	return cmd, func() Result {
		t.Helper()
		defer cancel()
		err := cmd.Wait()
		res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
		if ctx.Err() != nil {
			t.Fatalf("the binary did not finish within %v\n%s", runTimeout, res)
		}
		var exitErr *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exitErr):
			res.ExitCode = exitErr.ExitCode()
		default:
			t.Fatalf("running the binary: %v", err)
		}
		files.read(t, &res)
		t.Logf("action run: %s", res)
		return res
	}
}
