package engine

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/set-image-platform/set-image-platform/internal/safetext"
)

// SummaryLine is the one line per image the logs carry:
// "ref  before -> after  old digest -> new digest".
func SummaryLine(r Result) string {
	return fmt.Sprintf("%s  %s -> %s  %s -> %s", r.Source, DisplayPlatforms(r.Before), DisplayPlatforms(r.After), r.PreviousDigest, r.Digest)
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
		out[i] = ResultJSON{Source: r.Source, Target: r.Target}
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

// FromEnv reads what both front doors take from the environment with
// their inputs: GITHUB_ACTOR, for github-token, and StallTimeoutEnv.
func FromEnv(getenv func(string) string, in *Input) error {
	in.GitHubActor = getenv("GITHUB_ACTOR")
	d, err := ParseStallTimeout(getenv(StallTimeoutEnv))
	in.StallTimeout = d
	return err
}
