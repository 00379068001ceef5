package engine

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/safetext"
)

// SummaryLine is the one line per image the logs carry:
// "ref  before -> after  old digest -> new digest".
func SummaryLine(r Result) string {
	return fmt.Sprintf("%s  %s -> %s  %s -> %s", r.Source, displayPlatforms(r.Before), displayPlatforms(r.After), r.PreviousDigest, r.Digest)
}

// ResultJSON is one element of the results output.
type ResultJSON struct {
	Source         string `json:"source"`
	Target         string `json:"target"`
	PreviousDigest string `json:"previous-digest,omitempty"`
	Digest         string `json:"digest,omitempty"`
	Changed        bool   `json:"changed"`
	Platform       string `json:"platform"`
	Error          string `json:"error,omitempty"`
}

// JSON renders the results output: an array in input order.
func JSON(results []Result) ([]byte, error) {
	out := make([]ResultJSON, len(results))
	for i, r := range results {
		out[i] = ResultJSON{Source: r.Source, Target: r.Target}
		// JSON escapes control characters, but jq -r and the like print
		// them decoded: registry text is made safe here too.
		if r.Err != nil {
			out[i].Error = safetext.Line(r.Err.Error())
			if !r.written() {
				continue
			}
		}
		out[i].PreviousDigest, out[i].Digest = r.PreviousDigest, r.Digest
		out[i].Changed, out[i].Platform = r.Changed, safetext.Line(Platforms(r.After))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encoding results: %w", err)
	}
	return b, nil
}

// Outputs are the step outputs for results: one line per image for the
// scalar ones (empty for an image that failed before anything was written),
// and the results JSON.
func Outputs(results []Result) (map[string]string, error) {
	cols := map[string][]string{}
	for _, r := range results {
		row := map[string]string{"digest": "", "image": "", "previous-digest": "", "changed": "", "platform": ""}
		if r.Err == nil || r.written() {
			row = map[string]string{
				"digest":          r.Digest,
				"image":           r.TargetRepository + "@" + r.Digest,
				"previous-digest": r.PreviousDigest,
				"changed":         fmt.Sprint(r.Changed),
				"platform":        Platforms(r.After),
			}
		}
		for k, v := range row {
			// A raw line break from registry text would shift every
			// later image's line.
			cols[k] = append(cols[k], safetext.Line(v))
		}
	}
	out := map[string]string{}
	for k, v := range cols {
		out[k] = strings.Join(v, "\n")
	}
	js, err := JSON(results)
	if err != nil {
		return nil, err
	}
	out["results"] = string(js)
	return out, nil
}

// Markdown is the step summary: a table with one row per image. In check
// mode the columns are the declared platform, the expected one and the
// verdict.
func Markdown(cfg *Config, results []Result) string {
	var b strings.Builder
	if cfg.Mode == Check {
		expected := "os and architecture set"
		switch {
		case cfg.Auto:
			expected = "what its binaries show"
		case !cfg.Platform.IsZero():
			expected = cfg.Platform.String()
		}
		b.WriteString("### set-image-platform check\n\n| image | declared platform | expected platform | verdict |\n|---|---|---|---|\n")
		for _, r := range results {
			verdict := "passed"
			switch {
			case len(r.Findings) > 0:
				verdict = "failed: " + strings.Join(r.Findings, "; ")
			case r.Err != nil:
				verdict = "error: " + r.Err.Error()
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", safetext.Cell(r.Source), safetext.Cell(displayPlatforms(r.Before)), safetext.Cell(expected), safetext.Cell(verdict))
		}
		return b.String()
	}
	b.WriteString("### set-image-platform\n\n| image | platform before | platform after | digest before | digest after | changed |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(&b, "| %s | | | | | failed: %s |\n", safetext.Cell(r.Source), safetext.Cell(r.Err.Error()))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | `%s` | %t |\n", safetext.Cell(r.Source), safetext.Cell(displayPlatforms(r.Before)), safetext.Cell(displayPlatforms(r.After)), r.PreviousDigest, r.Digest, r.Changed)
	}
	return b.String()
}
