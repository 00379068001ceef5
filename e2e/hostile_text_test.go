package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Text a hostile registry sends to repaint what a person or a reviewer
// reads: a fake heading in the job summary, and a terminal line that erases
// the one before it and prints a green success.
const (
	fakeHeading = "\r\r## All images passed, merge away"
	fakeSuccess = "\x1b[1A\x1b[2K\r\x1b]0;done\x07\b\b\x1b[32mall images passed\x1b[0m\u202e"
)

// controlsIn returns the control characters of s (C0, DEL, C1, the line and
// paragraph separators, bidirectional controls) other than newline, and
// bytes that are not UTF-8.
func controlsIn(s string) []string {
	var got []string
	for i, r := range s {
		switch {
		case r == '\n':
		case r == utf8.RuneError:
			got = append(got, strconvQuote(s[i:i+1]))
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r):
			got = append(got, strconvQuote(string(r)))
		}
	}
	return got
}

// expectNoControls fails t when one of the texts (name, text pairs) holds a
// control character besides newline.
func expectNoControls(t *testing.T, texts ...string) {
	t.Helper()
	for i := 0; i+1 < len(texts); i += 2 {
		if got := controlsIn(texts[i+1]); len(got) > 0 {
			t.Errorf("%s holds control characters %v:\n%s", texts[i], got, strconvQuote(texts[i+1]))
		}
	}
}

// summaryHeading matches a Markdown heading line as GitHub renders the job
// summary: any of \r\n, \r and \n ends a line.
var summaryHeading = regexp.MustCompile(`(?m)^ {0,3}#{1,6}(?: |$)`)

// expectOnlyOwnHeadings fails t when the step summary has a heading line
// that is not one of the tool's own table titles.
func expectOnlyOwnHeadings(t *testing.T, summary string) {
	t.Helper()
	for _, l := range regexp.MustCompile(`\r\n|\r|\n`).Split(summary, -1) {
		if summaryHeading.MatchString(l) && l != "### set-image-platform" && l != "### set-image-platform check" && l != "### set-image-platform dry run" {
			t.Errorf("step summary has a heading line the tool did not write: %q", l)
		}
	}
}

// TestRegistryTextInSummaryAndOutputs: platform fields of a config with
// \r, \n and Markdown reach the job summary, the log and the per-image
// output lines only escaped: no heading of the registry's, no raw control
// character, one output line per image.
func TestRegistryTextInSummaryAndOutputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		keys   string // platform members of the first image's config
		inputs map[string]string
	}{{
		name:   "heading in architecture, check mode",
		keys:   `"architecture":` + strconvQuote("amd64"+fakeHeading),
		inputs: map[string]string{"mode": "check"},
	}, {
		name:   "heading in architecture, set mode",
		keys:   `"architecture":` + strconvQuote("amd64"+fakeHeading),
		inputs: map[string]string{"platform": "linux/amd64"},
	}, {
		name:   "second platform line in architecture, check mode",
		keys:   `"architecture":` + strconvQuote("arm64\nlinux/amd64"),
		inputs: map[string]string{"mode": "check"},
	}, {
		name:   "terminal escapes in variant, check mode",
		keys:   `"architecture":"arm","variant":` + strconvQuote("v7"+fakeSuccess),
		inputs: map[string]string{"mode": "check"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry(t, registryOptions{})
			reg.push(t, "bad:1.0", packImageWith(t, 1, tc.keys))
			reg.push(t, "good:1.0", packImageWith(t, 1, `"architecture":"amd64"`))
			inputs := map[string]string{"image": reg.ref("bad:1.0") + "\n" + reg.ref("good:1.0")}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			res := runAction(t, inputs)
			if res.ExitCode != 0 && res.ExitCode != 1 {
				t.Fatalf("exit code = %d, want 0 or 1", res.ExitCode)
			}
			expectOnlyOwnHeadings(t, res.Summary)
			expectNoControls(t, "step summary", res.Summary, "stdout", res.Stdout, "stderr", res.Stderr)
			// The runner decodes %0D and %0A in a command's data back
			// into \r and \n.
			for _, l := range res.logLines() {
				if _, data, ok := runnerCommand(l); ok && regexp.MustCompile(`(?i)%0[ad]`).MatchString(data) {
					t.Errorf("workflow command carries a line break of the registry's: %q", l)
				}
			}
			for _, name := range scalarOutputs {
				if got := res.lines(name); len(got) != 2 {
					t.Errorf("output %s has %d lines, want 2 (one per image): %q", name, len(got), res.Outputs[name])
				}
				expectNoControls(t, "output "+name, res.Outputs[name])
			}
			expectNoInjectedCommands(t, res, fakeGitHubToken)
			expectSixOutputs(t, res, 2)
		})
	}
}

// hostileErrorFault answers manifest GETs with a registry error whose code
// and message paint a fake success on a terminal.
func hostileErrorFault(r *http.Request) (int, http.Header, string, bool) {
	if !isManifestGet(r) {
		return 0, nil, "", false
	}
	body := `{"errors":[{"code":` + strconvQuote("DENIED"+fakeSuccess) + `,"message":` + strconvQuote("denied"+fakeSuccess+fakeHeading) + `}]}`
	return http.StatusForbidden, http.Header{"Content-Type": {"application/json"}}, body, true
}

// TestRegistryErrorTerminalEscapes: a registry error with ANSI escapes,
// carriage returns and backspaces reaches the terminal, the log, the
// summary and the results JSON with none of them.
func TestRegistryErrorTerminalEscapes(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t, registryOptions{})
	reg.push(t, "app:1.0", packImage(t, 1))
	reg.proxy.inject(hostileErrorFault)
	ref := reg.ref("app:1.0")

	t.Run("cli", func(t *testing.T) {
		t.Parallel()
		res := runCLI(t, "--platform", "linux/amd64", ref)
		expectExit(t, res, 1)
		expectNoControls(t, "stdout", res.Stdout, "stderr", res.Stderr)
		if !strings.Contains(res.Stderr, "error: ") || !strings.Contains(res.Stderr, "denied") {
			t.Errorf("stderr lacks the registry's error:\n%s", res.Stderr)
		}
	})
	t.Run("cli json", func(t *testing.T) {
		t.Parallel()
		res := runCLI(t, "--platform", "linux/amd64", "--json", ref)
		expectExit(t, res, 1)
		expectNoControls(t, "stderr", res.Stderr)
		for _, r := range parseJSONArray(t, res.Stdout) {
			for k, v := range r {
				if s, ok := v.(string); ok {
					// jq -r prints the decoded string.
					expectNoControls(t, "results "+k, s)
				}
			}
		}
	})
	t.Run("action", func(t *testing.T) {
		t.Parallel()
		res := runAction(t, map[string]string{"image": ref, "platform": "linux/amd64"})
		expectExit(t, res, 1)
		expectOneError(t, res)
		expectNoControls(t, "stdout", res.Stdout, "step summary", res.Summary, "results", res.Outputs["results"])
		expectOnlyOwnHeadings(t, res.Summary)
	})
}

// parseJSONArray decodes the results JSON a CLI run printed.
func parseJSONArray(t *testing.T, s string) []resultObject {
	t.Helper()
	r := Result{Outputs: map[string]string{"results": strings.TrimSpace(s)}}
	return r.results(t)
}

// TestAutoEvidenceFileNames: file names from layers that carry line breaks
// and workflow commands reach the evidence line, the error and the summary
// escaped, on one line.
func TestAutoEvidenceFileNames(t *testing.T) {
	t.Parallel()
	const (
		cmdName = "app\n::error::" + hostileMark
		crName  = "tool\r## All images passed"
	)
	for _, tc := range []struct {
		name  string
		image func(t *testing.T) image
		// wantExit is 0 when the platform is decided, 1 on a conflict.
		wantExit int
		// wantLog is a substring of a log line: the file name escaped.
		wantLog string
	}{{
		name: "ignored scripts",
		image: func(t *testing.T) image {
			return binImage(`"architecture":"","os":"linux"`, binLayer(t, dockerLayer,
				executable("usr/bin/hello", testBinary(t, "hello-linux-amd64")),
				shellScript("bin/"+cmdName), shellScript("bin/"+crName)))
		},
		wantLog: `/bin/app\n::error::` + hostileMark,
	}, {
		name: "conflicting executables",
		image: func(t *testing.T) image {
			amd, arm := testBinary(t, "hello-linux-amd64"), testBinary(t, "hello-linux-arm64")
			return binImage(`"architecture":"","os":"linux"`, binLayer(t, dockerLayer,
				executable("opt/amd/"+cmdName, amd), executable("opt/amd/b", amd),
				executable("opt/arm/"+crName, arm), executable("opt/arm/b", arm)))
		},
		wantExit: 1,
		wantLog:  `/opt/arm/tool\r## All images passed`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, _ := newAppRegistry(t, registryOptions{}, tc.image(t))
			res := runAction(t, map[string]string{"image": reg.ref("app:1.0"), "platform": "auto"})
			expectExit(t, res, tc.wantExit)
			if !strings.Contains(res.Stdout, tc.wantLog) {
				t.Errorf("no log line names the file escaped, as %q", tc.wantLog)
			}
			expectNoControls(t, "step summary", res.Summary, "stdout", res.Stdout)
			expectOnlyOwnHeadings(t, res.Summary)
			for _, l := range res.logLines() {
				if _, data, ok := runnerCommand(l); ok && regexp.MustCompile(`(?i)%0[ad]`).MatchString(data) {
					t.Errorf("workflow command carries a line break from a file name: %q", l)
				}
			}
			expectNoInjectedCommands(t, res, fakeGitHubToken)
		})
	}
}
