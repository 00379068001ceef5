package engine

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/set-image-platform/set-image-platform/internal/referrers"
	"github.com/set-image-platform/set-image-platform/internal/safetext"
)

// SummaryLine is the one line per image the logs carry:
// "ref  before -> after  old digest -> new digest", or "ref  platform
// digest  unchanged"; in a dry run it starts "dry run: would change " (or
// "dry run: "), as nothing was pushed.
func SummaryLine(r Result) string {
	if !r.Changed {
		return DryRunPrefix(r, false) + fmt.Sprintf("%s  %s  %s  unchanged", r.Source, DisplayPlatforms(r.After), r.Digest)
	}
	return DryRunPrefix(r, true) + fmt.Sprintf("%s  %s -> %s  %s -> %s", r.Source, DisplayPlatforms(r.Before), DisplayPlatforms(r.After), r.PreviousDigest, r.Digest)
}

// DryRunPrefix starts what is said about r in a dry run: "dry run: would
// change " when it would change, else "dry run: "; "" when not a dry run.
func DryRunPrefix(r Result, change bool) string {
	switch {
	case !r.DryRun:
		return ""
	case change:
		return "dry run: would change "
	}
	return "dry run: "
}

// ResultJSON is one element of the results output.
type ResultJSON struct {
	Source         string `json:"source"`
	Target         string `json:"target"`
	PreviousDigest string `json:"previous-digest,omitempty"`
	Digest         string `json:"digest,omitempty"`
	Changed        bool   `json:"changed"`
	Platform       string `json:"platform"`
	// Referrers is never null: a pipeline iterates it.
	Referrers []ReferrerJSON `json:"referrers"`
	Error     string         `json:"error,omitempty"`
}

// ReferrerJSON is one element of a result's referrers.
type ReferrerJSON struct {
	Subject      string `json:"subject"`
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	FoundBy      string `json:"found-by"`
}

// referrersJSON renders rs, the registry's text made safe.
func referrersJSON(rs []referrers.Referrer) []ReferrerJSON {
	out := make([]ReferrerJSON, len(rs))
	for i, r := range rs {
		out[i] = ReferrerJSON{r.Subject.String(), r.Digest.String(), safetext.Line(r.MediaType), safetext.Line(r.ArtifactType), r.FoundBy}
	}
	return out
}

// JSON renders the results output: an array in input order.
func JSON(results []Result) ([]byte, error) {
	b, err := json.Marshal(ResultsJSON(results))
	if err != nil {
		return nil, fmt.Errorf("encoding results: %w", err)
	}
	return b, nil
}

// ResultsJSON are the elements of the results output, in input order.
func ResultsJSON(results []Result) []ResultJSON {
	out := make([]ResultJSON, len(results))
	for i, r := range results {
		out[i] = ResultJSON{Source: r.Source, Target: r.Target, Referrers: referrersJSON(r.Referrers)}
		// JSON escapes control characters, but jq -r and the like print
		// them decoded: registry text is made safe here too.
		if r.Err != nil {
			out[i].Error = safetext.Line(r.Err.Error())
			if !r.Written() {
				continue
			}
		}
		out[i].PreviousDigest, out[i].Digest = r.PreviousDigest, r.Digest
		out[i].Changed, out[i].Platform = r.Changed, safetext.Line(Platforms(r.After))
	}
	return out
}

// ErrFailed is returned when at least one image failed; the reasons were
// already logged.
var ErrFailed = errors.New("one or more images failed")

// Failed returns ErrFailed when an image of results failed.
func Failed(results []Result) error {
	for _, r := range results {
		if r.Err != nil {
			return ErrFailed
		}
	}
	return nil
}
