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
	if err := appendFile(path, b.String()); err != nil {
		return fmt.Errorf("writing outputs: %w", err)
	}
	return nil
}

// appendFile appends text to the runner's file at path (none when empty).
// go-githubactions' file commands panic on a write error; this returns it.
func appendFile(path, text string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
