package e2e

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nektos/act/pkg/model"
	"gopkg.in/yaml.v3"
)

// TestActionYAMLLoadsAsTheRunnerDoes loads action.yml with act's loader,
// which validates it against the runner's own schema (actions/runner's
// action_yaml.json): an expression anywhere but an input's default, a
// misspelt key or a wrong type makes the runner fail every job that uses
// the action at "Set up job", before the action runs. yaml.v3 alone (the
// contract test) accepts all of those.
func TestActionYAMLLoadsAsTheRunnerDoes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatalf("reading action.yml: %v", err)
	}

	a, err := model.ReadAction(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("model.ReadAction(action.yml) = %v, want the runner's schema to accept it", err)
	}
	if !a.Runs.Using.IsDocker() {
		t.Errorf("runs.using as the runner reads it = %q, want docker", a.Runs.Using)
	}
	var inputs []string
	for _, in := range specInputs {
		inputs = append(inputs, in.Name)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(inputs)), slices.Sorted(maps.Keys(a.Inputs))); diff != "" {
		t.Errorf("inputs as the runner reads them differ from the contract's (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(specOutputs)), slices.Sorted(maps.Keys(a.Outputs))); diff != "" {
		t.Errorf("outputs as the runner reads them differ from the contract's (-want +got):\n%s", diff)
	}
	// The runner expands the one expression the schema allows, the
	// token's default.
	if got, want := a.Inputs["github-token"].Default, "${{ github.token }}"; got != want {
		t.Errorf("github-token's default as the runner reads it = %q, want %q", got, want)
	}
}

// TestActionYAMLLoaderRefuses shows that the loader above is the runner's
// strict one: the file with what broke it once, or breaks it elsewhere, is
// refused with the runner's message. Without this, a loader that accepted
// anything would pass TestActionYAMLLoadsAsTheRunnerDoes.
func TestActionYAMLLoaderRefuses(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatalf("reading action.yml: %v", err)
	}
	file := string(data)
	const matrixDesc = "  matrix:\n    description: '"

	for _, tc := range []struct {
		name, old, new, want string
	}{{
		// The matrix output's description once held this example.
		name: "expression in an output's description",
		old:  matrixDesc,
		new:  matrixDesc + "for `image: ${{ matrix.images }}`: ",
		want: "expressions are not allowed here",
	}, {
		name: "expression in an input's description",
		old:  "  tag:\n    description: '",
		new:  "  tag:\n    description: '${{ github.ref_name }} ",
		want: "expressions are not allowed here",
	}, {
		name: "key the schema does not know",
		old:  "runs:\n  using: docker\n",
		new:  "runs:\n  using: docker\n  entrypiont: /x\n",
		want: "entrypiont",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(file, tc.old) {
				t.Fatalf("action.yml does not contain %q to edit; update this test", tc.old)
			}
			broken := strings.Replace(file, tc.old, tc.new, 1)
			_, err := model.ReadAction(strings.NewReader(broken))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("model.ReadAction(action.yml with %s) = %v, want an error containing %q", tc.name, err, tc.want)
			}
		})
	}
}

// TestWorkflowsPinActionsByCommit checks every `uses:` of every workflow: a
// third-party action named by a tag runs whatever its owner (or whoever
// takes the tag over) points the tag at next, with the job's token. A full
// commit SHA (with the version in a comment, which Dependabot updates) is
// immutable. Local actions (`./`) and docker:// images pinned by digest are
// the repository's own.
func TestWorkflowsPinActionsByCommit(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", ".github", "workflows", "*.y*ml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("listing the workflows: %v (found %d)", err, len(files))
	}
	pinned := regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$|^\./|^docker://[^@]+@sha256:[0-9a-f]{64}$`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("parsing %s: %v", f, err)
		}
		uses := usesOf(&doc)
		if len(uses) == 0 {
			t.Errorf("%s: no uses: found; this test reads the workflows wrongly", filepath.Base(f))
		}
		for _, u := range uses {
			if !pinned.MatchString(u.Value) {
				t.Errorf("%s:%d: uses: %s, want a full commit SHA (owner/repo@<40 hex> # vX.Y.Z)", filepath.Base(f), u.Line, u.Value)
			}
		}
	}
}

// usesOf returns the value node of every `uses` key under n.
func usesOf(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "uses" && n.Content[i+1].Kind == yaml.ScalarNode {
				out = append(out, n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		out = append(out, usesOf(c)...)
	}
	return out
}
