package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
}

// runAction runs the binary as the GitHub runner runs a container action:
// no arguments, GITHUB_ACTIONS=true, every input as INPUT_<NAME> with the
// name upper-cased and hyphens kept.
func runAction(t *testing.T, inputs map[string]string, extraEnv ...string) Result {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	runnerTemp := filepath.Join(dir, "runner-temp")
	for _, d := range []string{home, runnerTemp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	outputPath := filepath.Join(dir, "github_output")
	summaryPath := filepath.Join(dir, "step_summary")
	for _, f := range []string{outputPath, summaryPath} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"GITHUB_ACTIONS=true",
		"CI=true",
		"GITHUB_OUTPUT=" + outputPath,
		"GITHUB_STEP_SUMMARY=" + summaryPath,
		"GITHUB_ACTOR=octocat",
		"GITHUB_REPOSITORY=octocat/hello",
		"RUNNER_TEMP=" + runnerTemp,
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
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
			t.Fatalf("runAction: unknown input %q", name)
		}
	}
	env = append(env, extraEnv...)
	res := execBinary(t, nil, env, nil)

	out, err := os.ReadFile(outputPath)
	if err != nil {
		t.Fatal(err)
	}
	res.OutputFile = string(out)
	res.Outputs, err = parseOutputs(res.OutputFile)
	if err != nil {
		t.Errorf("parsing GITHUB_OUTPUT: %v\n%s", err, out)
	}
	summary, err := os.ReadFile(summaryPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Summary = string(summary)
	t.Logf("action run: exit %d\n--- stdout ---\n%s--- stderr ---\n%s--- GITHUB_OUTPUT ---\n%s", res.ExitCode, res.Stdout, res.Stderr, res.OutputFile)
	return res
}

// runCLI runs the binary as a person does, outside GitHub Actions.
func runCLI(t *testing.T, args ...string) Result {
	t.Helper()
	return runCLIWith(t, cliSetup{}, args...)
}

// cliSetup is what a person's shell holds besides the arguments.
type cliSetup struct {
	stdin        string
	dockerConfig string // config.json in DOCKER_CONFIG, if not empty
}

// runCLIWith is runCLI with stdin and a docker config.
func runCLIWith(t *testing.T, setup cliSetup, args ...string) Result {
	t.Helper()
	home := t.TempDir()
	dockerDir := filepath.Join(home, ".docker")
	if setup.dockerConfig != "" {
		if err := os.Mkdir(dockerDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(setup.dockerConfig), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"HOME=" + home,
		"DOCKER_CONFIG=" + dockerDir,
		"PATH=" + os.Getenv("PATH"),
	}
	res := execBinary(t, args, env, strings.NewReader(setup.stdin))
	t.Logf("cli run %q: exit %d\n--- stdout ---\n%s--- stderr ---\n%s", args, res.ExitCode, res.Stdout, res.Stderr)
	return res
}

func execBinary(t *testing.T, args, env []string, stdin *strings.Reader) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaryPath, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("binary did not finish within %v\nstdout:\n%s\nstderr:\n%s", runTimeout, res.Stdout, res.Stderr)
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running binary: %v", err)
	}
	return res
}

// parseOutputs reads a GITHUB_OUTPUT file: "name=value" lines and
// "name<<DELIM" blocks ending with a line that is DELIM.
func parseOutputs(s string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			if delim == "" {
				return nil, errors.New("empty heredoc delimiter for " + name)
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
				return nil, errors.New("unterminated value of " + name)
			}
			if _, dup := out[name]; dup {
				return nil, errors.New("output " + name + " written twice")
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, errors.New("malformed line " + strconvQuote(line))
		}
		if _, dup := out[name]; dup {
			return nil, errors.New("output " + name + " written twice")
		}
		out[name] = val
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
func (r Result) results(t *testing.T) []resultObject {
	t.Helper()
	var got []resultObject
	if err := json.Unmarshal([]byte(r.Outputs["results"]), &got); err != nil {
		t.Fatalf("results output %q is not a JSON array of objects: %v", r.Outputs["results"], err)
	}
	return got
}

// expectExit fails t now when the exit code is not want.
func expectExit(t *testing.T, r Result, want int) {
	t.Helper()
	if r.ExitCode != want {
		t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.ExitCode, want, r.Stdout, r.Stderr)
	}
}

// expectOneError fails t unless exactly one ::error:: line was printed, and
// returns it.
func expectOneError(t *testing.T, r Result) string {
	t.Helper()
	errs := r.commandLines("error")
	if len(errs) != 1 {
		t.Errorf("::error:: lines = %d, want 1: %q", len(errs), errs)
		if len(errs) == 0 {
			return ""
		}
	}
	return errs[0]
}
