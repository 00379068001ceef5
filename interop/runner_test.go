package interop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// actionInputs are the inputs the runner always sets, with action.yml's
// defaults; github-token is empty, as no registry here takes one.
var actionInputs = map[string]string{
	"image": "", "platform": "", "tag": "", "mode": "set", "overwrite": "false",
	"dry-run": "false", "username": "", "password": "", "github-token": "",
	"insecure": "false", "referrers": "warn", "concurrency": "4", "shards": "16",
}

// buildTool builds the tool from the repository root and returns its path.
func buildTool(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "set-image-platform")
	if err := goBuild("..", bin, "."); err != nil {
		t.Fatal(err)
	}
	return bin
}

// actionRun is what one run of the binary as an action step left behind.
type actionRun struct {
	exit           int
	stdout, stderr string
	outputs        map[string]string
}

func (r actionRun) String() string {
	return fmt.Sprintf("exit %d\n--- stdout ---\n%s--- stderr ---\n%s--- outputs ---\n%q", r.exit, r.stdout, r.stderr, r.outputs)
}

// runAction runs the binary at bin as the runner runs a container action:
// every input as INPUT_<NAME>, upper-cased with hyphens kept (action.yml's
// default where inputs has none), GITHUB_ACTIONS, GITHUB_OUTPUT and
// GITHUB_WORKSPACE set, nothing else of this process's environment but
// PATH. It runs in a directory of its own, so a relative path in an input
// is found only through the workspace, as in the action's container.
func runAction(t *testing.T, bin, workspace string, inputs map[string]string) actionRun {
	t.Helper()
	return runActionEnv(t, bin, workspace, nil, inputs)
}

// runActionEnv is runAction with env (DOCKER_HOST, say) added to the
// step's environment.
func runActionEnv(t *testing.T, bin, workspace string, env []string, inputs map[string]string) actionRun {
	t.Helper()
	dir := t.TempDir()
	output := filepath.Join(dir, "github_output")
	if err := os.WriteFile(output, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env[:len(env):len(env)],
		"PATH="+os.Getenv("PATH"), "HOME="+dir, "DOCKER_CONFIG="+filepath.Join(dir, ".docker"),
		"GITHUB_ACTIONS=true", "CI=true", "GITHUB_OUTPUT="+output, "GITHUB_STEP_SUMMARY="+filepath.Join(dir, "summary"),
		"GITHUB_WORKSPACE="+workspace, "RUNNER_TEMP="+dir,
	)
	for name, def := range actionInputs {
		v, ok := inputs[name]
		if !ok {
			v = def
		}
		env = append(env, "INPUT_"+strings.ToUpper(name)+"="+v)
	}
	for name := range inputs {
		if _, ok := actionInputs[name]; !ok {
			t.Fatalf("runAction: unknown input %q", name)
		}
	}
	cmd := exec.Command(bin)
	cmd.Env, cmd.Dir = env, t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := actionRun{stdout: stdout.String(), stderr: stderr.String()}
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		res.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", bin, err)
	}
	text, err := os.ReadFile(output)
	if err != nil {
		t.Fatal(err)
	}
	if res.outputs, err = parseOutputs(string(text)); err != nil {
		t.Errorf("parsing GITHUB_OUTPUT: %v\n%s", err, text)
	}
	t.Logf("action step %q: %s", inputs, res)
	return res
}

// parseOutputs reads a GITHUB_OUTPUT file as the runner does: NAME=VALUE,
// or NAME<<DELIMITER, the value's lines, then DELIMITER.
func parseOutputs(text string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		if name, v, ok := strings.Cut(line, "="); ok && !strings.Contains(name, "<<") {
			out[name] = v
			continue
		}
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			return nil, fmt.Errorf("line %d %q: neither NAME=VALUE nor NAME<<DELIMITER", i+1, line)
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("output %s: no closing %s", name, delim)
		}
		out[name] = strings.Join(value, "\n")
	}
	return out, nil
}

// errors counts the ::error:: lines the run printed.
func (r actionRun) errors() int { return len(errorLines(r.stdout + "\n" + r.stderr)) }

// firstError is the first ::error:: line the run printed, or "".
func (r actionRun) firstError() string {
	if l := errorLines(r.stdout + "\n" + r.stderr); len(l) > 0 {
		return l[0]
	}
	return ""
}
