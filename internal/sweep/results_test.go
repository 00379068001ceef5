package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// result is shaped like the action's results objects.
type result struct {
	Source  string `json:"source"`
	Digest  string `json:"digest,omitempty"`
	Changed bool   `json:"changed"`
	Error   string `json:"error,omitempty"`
}

func kept(r result) bool { return r.Changed || r.Error != "" }

// sweepResults is n results; every tenth changed, every 25th failed.
func sweepResults(n int) []result {
	var rs []result
	for i := range n {
		r := result{Source: fmt.Sprintf("ghcr.io/org/app:v%d", i), Digest: "sha256:" + strings.Repeat("a", 64), Changed: i%10 == 0}
		if i%25 == 1 {
			r.Digest, r.Error = "", "ghcr.io/org/app: 500 Internal Server Error"
		}
		rs = append(rs, r)
	}
	return rs
}

func decode(t *testing.T, s string) []result {
	t.Helper()
	var rs []result
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		t.Fatalf("results output %q is not a JSON array: %v", s, err)
	}
	return rs
}

func filter(rs []result, keep func(result) bool) []result {
	var out []result
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func TestResultsOutput(t *testing.T) {
	t.Parallel()
	all := sweepResults(100)
	full, _ := json.Marshal(all)
	trimmed, _ := json.Marshal(filter(all, kept))
	tests := []struct {
		name        string
		all         []result
		limit       int
		want        []result
		wantOmitted int
	}{
		{"none", nil, OutputLimit, []result{}, 0},
		{"fits", all, len(full), all, 0},
		{"only changed and failed", all, len(full) - 1, filter(all, kept), 86},
		{"changed and failed cut to fit", all, len(trimmed) - 1, filter(all, kept)[:13], 87},
		{"nothing fits", all, 2, []result{}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, omitted, err := ResultsOutput(tt.all, kept, tt.limit)
			if err != nil {
				t.Fatalf("ResultsOutput() error = %v", err)
			}
			if len(out) > tt.limit {
				t.Errorf("ResultsOutput() is %d bytes, want at most %d", len(out), tt.limit)
			}
			if diff := cmp.Diff(tt.want, decode(t, out)); diff != "" {
				t.Errorf("ResultsOutput() (-want +got):\n%s", diff)
			}
			if omitted != tt.wantOmitted {
				t.Errorf("ResultsOutput() omitted = %d, want %d", omitted, tt.wantOmitted)
			}
		})
	}
}

// TestResultsOutputAtScale is a sweep of 20,000 tags: the full array
// passes GitHub's limit, the changed and failed ones fit.
func TestResultsOutputAtScale(t *testing.T) {
	t.Parallel()
	all := sweepResults(20000)
	out, omitted, err := ResultsOutput(all, kept, OutputLimit)
	if err != nil {
		t.Fatal(err)
	}
	want := filter(all, kept)
	if len(out) > OutputLimit || omitted != len(all)-len(want) || len(decode(t, out)) != len(want) {
		t.Errorf("ResultsOutput(20000 results) = %d bytes, %d omitted, want at most %d bytes and %d omitted", len(out), omitted, OutputLimit, len(all)-len(want))
	}
}

func TestCreateResultsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	all := sweepResults(3)
	p1, err := CreateResultsFile(dir, all)
	if err != nil {
		t.Fatalf("CreateResultsFile() error = %v", err)
	}
	p2, err := CreateResultsFile(dir, all[:1])
	if err != nil {
		t.Fatalf("CreateResultsFile() error = %v", err)
	}
	if p1 == p2 || filepath.Dir(p1) != dir || !strings.HasSuffix(p1, ".json") {
		t.Errorf("CreateResultsFile() paths = %q, %q, want two .json files in %q", p1, p2, dir)
	}
	for path, want := range map[string][]result{p1: all, p2: all[:1]} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("os.Stat(%s) = %v, %v, want mode 0644 (the runner's user reads it)", path, fi, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, decode(t, string(data))); diff != "" {
			t.Errorf("results file %s (-want +got):\n%s", path, diff)
		}
	}
	if _, err := CreateResultsFile(filepath.Join(dir, "missing"), all); err == nil || !strings.Contains(err.Error(), "creating the results file") {
		t.Errorf("CreateResultsFile(missing dir) error = %v, want one about creating the file", err)
	}
}

func TestWriteResultsFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.json")
	if err := os.WriteFile(path, []byte("old and longer than the new content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteResultsFile[result](path, nil); err != nil {
		t.Fatalf("WriteResultsFile() error = %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "[]" {
		t.Errorf("results file = %q, want []", data)
	}
	bad := filepath.Join(t.TempDir(), "missing", "results.json")
	if err := WriteResultsFile(bad, sweepResults(1)); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("WriteResultsFile(%q) error = %v, want one naming the path", bad, err)
	}
}
