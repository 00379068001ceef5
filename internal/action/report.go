package action

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/engine"
	"github.com/set-image-platform/set-image-platform/internal/referrers"
	"github.com/set-image-platform/set-image-platform/internal/safetext"
	"github.com/set-image-platform/set-image-platform/internal/sweep"
)

// Outputs are the step outputs for results: one line per image for the
// scalar ones (empty for an image that failed before anything was written),
// and the results JSON.
func Outputs(results []engine.Result, log engine.Logger) (map[string]string, error) {
	cols := map[string][]string{}
	for _, r := range results {
		row := map[string]string{"digest": "", "image": "", "previous-digest": "", "changed": "", "platform": ""}
		if r.Err == nil || r.Written() {
			row = map[string]string{
				"digest":          r.Digest,
				"image":           r.Image(),
				"previous-digest": r.PreviousDigest,
				"changed":         fmt.Sprint(r.Changed),
				"platform":        engine.Platforms(r.After),
			}
		}
		for k, v := range row {
			// A raw line break from registry text would shift every
			// later image's line.
			cols[k] = append(cols[k], safetext.Line(v))
		}
	}
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(cols)) {
		var kept int
		out[k], kept = sweep.FitLines(cols[k], sweep.OutputLimit)
		if kept < len(results) {
			log.Info(fmt.Sprintf("the %s output holds the lines of the first %d of %d images, to stay under GitHub's 1 MB output limit: results-file has them all", k, kept, len(results)))
		}
	}
	keep := func(r engine.ResultJSON) bool { return r.Changed || r.Error != "" }
	all := engine.ResultsJSON(results)
	js, omitted, err := sweep.ResultsOutput(all, keep, sweep.OutputLimit)
	if err != nil {
		return nil, err
	}
	if omitted > 0 {
		log.Info(trimmed(all, keep, omitted))
	}
	out["results"] = js
	return out, nil
}

// trimmed says what the results output left out: the unchanged images,
// and, when those were not enough, changed or failed ones too.
func trimmed(all []engine.ResultJSON, keep func(engine.ResultJSON) bool, omitted int) string {
	unchanged := 0
	for _, r := range all {
		if !keep(r) {
			unchanged++
		}
	}
	const why = ", to stay under GitHub's 1 MB output limit: results-file has them all"
	if omitted == unchanged {
		return fmt.Sprintf("the results output holds only the changed and failed images: %d unchanged images are left out%s", unchanged, why)
	}
	return fmt.Sprintf("the results output holds the first %d of %d changed or failed images and no unchanged one: %d left out (%d changed or failed, %d unchanged)%s",
		len(all)-omitted, len(all)-unchanged, omitted, omitted-unchanged, unchanged, why)
}

// Markdown is the step summary: a table with one row per image. In check
// mode the columns are the declared platform, the expected one and the
// verdict.
func Markdown(cfg *engine.Config, o *engine.Outcome) string {
	results := o.Results
	var b strings.Builder
	if o.Throttled > 0 {
		fmt.Fprintf(&b, "The registries answered 429 Too Many Requests %d times; the run lowered its requests in flight to them for a while.\n\n", o.Throttled)
	}
	if cfg.Mode == engine.Check {
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
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", safetext.Cell(r.Source), safetext.Cell(engine.DisplayPlatforms(r.Before)), safetext.Cell(expected), safetext.Cell(verdict))
		}
		return b.String()
	}
	title := "### set-image-platform\n\n"
	if cfg.DryRun {
		title = "### set-image-platform dry run\n\nNothing was pushed: the table says what a run would change.\n\n"
	}
	b.WriteString(title + "| image | platform before | platform after | digest before | digest after | changed |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(&b, "| %s | | | | | failed: %s |\n", safetext.Cell(r.Source), safetext.Cell(r.Err.Error()))
			continue
		}
		changed := fmt.Sprint(r.Changed)
		if r.DryRun {
			changed = "dry run: would change"
			if !r.Changed {
				changed = "dry run: unchanged"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | `%s` | %s |\n", safetext.Cell(r.Source), safetext.Cell(engine.DisplayPlatforms(r.Before)), safetext.Cell(engine.DisplayPlatforms(r.After)), r.PreviousDigest, r.Digest, changed)
	}
	referrersMarkdown(&b, results)
	return b.String()
}

// referrersMarkdown lists under the table what refers to the digests that
// changed, when anything does.
func referrersMarkdown(b *strings.Builder, results []engine.Result) {
	head := "\n#### Signatures, attestations and other referrers of the previous digests\n\n| image | subject | referrer | kind | artifact type | found by |\n|---|---|---|---|---|---|\n"
	for _, r := range results {
		for _, ref := range r.Referrers {
			b.WriteString(head)
			head = ""
			fmt.Fprintf(b, "| %s | `%s` | `%s` | %s | %s | %s |\n", safetext.Cell(r.Source), ref.Subject, ref.Digest, referrers.Classify(ref).Kind, safetext.Cell(ref.ArtifactType), ref.FoundBy)
		}
	}
}
