package action

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

var outputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// WriteOutputs appends outputs to the GITHUB_OUTPUT file in the heredoc
// form, each value with its own random delimiter. go-githubactions uses one
// fixed delimiter, which a value could carry to set outputs of its own.
func WriteOutputs(path string, outputs map[string]string) error {
	if path == "" {
		return nil
	}
	var b strings.Builder
	names := make([]string, 0, len(outputs))
	for k := range outputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := appendOutput(&b, k, outputs[k]); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening output file: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("writing output file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing output file: %w", err)
	}
	return nil
}

func appendOutput(b *strings.Builder, name, value string) error {
	if !outputName.MatchString(name) {
		return fmt.Errorf("writing output %q: not a valid output name", name)
	}
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return fmt.Errorf("writing output %q: making a delimiter: %w", name, err)
	}
	delim := "ghadelimiter_" + hex.EncodeToString(r[:])
	if strings.Contains(value, delim) || strings.Contains(name, delim) {
		return fmt.Errorf("writing output %q: value contains its delimiter", name)
	}
	fmt.Fprintf(b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	return nil
}
