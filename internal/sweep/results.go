package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// OutputLimit is GitHub's limit on one step output, 1 MB.
const OutputLimit = 1_000_000

// ResultsOutput renders all as the results output, a JSON array. When
// that is longer than limit it holds only the items keep accepts (changed
// and failed images), and, if those do not fit either, as many of them
// as fit, in order; omitted says how many items were left out, so that
// the caller can say so in the log. The full array belongs in the results
// file.
func ResultsOutput[T any](all []T, keep func(T) bool, limit int) (out string, omitted int, err error) {
	full, err := encodeResults(all)
	if err != nil {
		return "", 0, err
	}
	if len(full) <= limit {
		return string(full), 0, nil
	}
	// Each item is encoded on its own and appended while it fits, with
	// its comma and the closing bracket.
	b, kept := []byte{'['}, 0
	for _, it := range all {
		if !keep(it) {
			continue
		}
		item, err := json.Marshal(it)
		if err != nil {
			return "", 0, fmt.Errorf("encoding results: %w", err)
		}
		sep := min(kept, 1)
		if len(b)+sep+len(item)+1 > limit {
			break
		}
		if sep == 1 {
			b = append(b, ',')
		}
		b = append(b, item...)
		kept++
	}
	return string(append(b, ']')), len(all) - kept, nil
}

// FitLines joins lines with line breaks, keeping the first ones whose
// whole is at most limit bytes (an output of one line per image stays in
// step with the images as far as it goes); kept says how many.
func FitLines(lines []string, limit int) (out string, kept int) {
	n := -1 // no separator before the first line
	for _, l := range lines {
		if n+1+len(l) > limit {
			break
		}
		n += 1 + len(l)
		kept++
	}
	return strings.Join(lines[:kept], "\n"), kept
}

// encodeResults is all as a JSON array; nil is [].
func encodeResults[T any](all []T) ([]byte, error) {
	if all == nil {
		all = []T{}
	}
	b, err := json.Marshal(all)
	if err != nil {
		return nil, fmt.Errorf("encoding results: %w", err)
	}
	return b, nil
}

// CreateResultsFile writes all, as a JSON array, to a new file in dir (two
// steps of a job, or two runs of one step, each get their own) and
// returns its path. The file is readable by everyone: the action runs as
// root in its container, and the steps after it run as the runner's user
// (uid 1001 on GitHub's runners), which must be able to open it.
func CreateResultsFile[T any](dir string, all []T) (string, error) {
	data, err := encodeResults(all)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "set-image-platform-results-*.json")
	if err != nil {
		return "", fmt.Errorf("creating the results file: %w", err)
	}
	// CreateTemp makes the file 0600 whatever the umask.
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing the results file %q: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// WriteResultsFile writes all, as a JSON array, to path (the command
// line's --results-file), replacing what is there.
func WriteResultsFile[T any](path string, all []T) error {
	data, err := encodeResults(all)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing the results file %q: %w", path, err)
	}
	return nil
}
