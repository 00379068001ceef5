package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/registry"
)

// Hint is what a person can do about a failure. The core decides which
// one applies; the front door words it in its own terms (inputs and
// workflow permissions, or flags).
type Hint int

// The hints.
const (
	NoHint Hint = iota
	// HintInsecure: plain HTTP was refused; allow it if the registry
	// really speaks it.
	HintInsecure
	// HintPushGitHub: ghcr.io refused a write; the job's permissions or
	// the token's scopes.
	HintPushGitHub
	// HintPush: the registry refused a write; credentials with push rights.
	HintPush
	// HintCredentials: the registry refused the username and password given.
	HintCredentials
	// HintReadGitHub: ghcr.io refused a read; credentials or the job's
	// permissions.
	HintReadGitHub
	// HintRead: the registry refused a read; credentials.
	HintRead
	// HintNotFound: nothing at the reference, or not for these credentials.
	HintNotFound
	// HintOverwrite: a different platform is declared; allow replacing it.
	HintOverwrite
)

// Words words a hint about repository (a full repository name) for a front
// door: text appended to the failure's message, starting with "; ".
type Words func(h Hint, repository string) string

// HintedError is a failure with what to do about it, worded by the front
// door.
type HintedError struct {
	Err        error
	Hint       Hint
	Repository string
	words      string
}

func (e *HintedError) Error() string { return e.Err.Error() + e.words }
func (e *HintedError) Unwrap() error { return e.Err }

// describe turns err into a message a person can act on: what failed for
// which image, and what to do about it.
func describe(err error, ref name.Reference, writing bool, creds Credentials, words Words) error {
	err = fmt.Errorf("%s: %w", ref, err)
	h := hintFor(err, ref, writing, creds)
	if h == NoHint {
		return err
	}
	he := &HintedError{Err: err, Hint: h, Repository: ref.Context().Name()}
	if words != nil {
		he.words = words(h, he.Repository)
	}
	return he
}

// hintFor picks the hint for err about ref.
func hintFor(err error, ref name.Reference, writing bool, creds Credentials) Hint {
	var re *registry.Error
	var ph *registry.PlainHTTPError
	var ce *plan.ConflictError
	switch {
	case errors.As(err, &ph):
		return HintInsecure
	case errors.As(err, &ce):
		return HintOverwrite
	case errors.As(err, &re) && re.Unauthorized():
		return unauthorizedHint(re, ref, writing, creds)
	case errors.As(err, &re) && re.NotFound():
		return HintNotFound
	}
	return NoHint
}

// unauthorizedHint is the hint when the registry refused access to ref.
func unauthorizedHint(re *registry.Error, ref name.Reference, writing bool, creds Credentials) Hint {
	ghcrHost := ref.Context().RegistryStr() == ghcr
	switch {
	case (writing || re.Method != "GET" && re.Method != "HEAD") && ghcrHost:
		return HintPushGitHub
	case writing || re.Method != "GET" && re.Method != "HEAD":
		return HintPush
	case creds.appliesTo(ref.Context().RegistryStr()):
		return HintCredentials
	case ghcrHost:
		return HintReadGitHub
	}
	return HintRead
}

// HintWords are a front door's words for each hint, "%s" standing for the
// repository where it is named.
type HintWords map[Hint]string

// Words words h about repository; "" for a hint without words.
func (w HintWords) Words(h Hint, repository string) string {
	s := w[h]
	if strings.Contains(s, "%s") {
		return fmt.Sprintf(s, repository)
	}
	return s
}
