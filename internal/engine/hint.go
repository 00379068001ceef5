package engine

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/registry"
	"github.com/set-image-platform/set-image-platform/internal/store"
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
	// HintReferrers: referrers fail refused an orphaning change.
	HintReferrers
	// HintLoopback: nothing answered at a loopback address, which inside a
	// container is the container itself.
	HintLoopback
	// HintPlatform: a single image needs a platform to set: os/arch, or
	// auto to read it from the image's binaries.
	HintPlatform
	// HintStaleAttestation: an index attestation describes a child's
	// previous digest; make it again for the new one. Worded after a
	// warning, not an error.
	HintStaleAttestation
	// HintFix: the plan was refused; HintedError.Fix says what makes it go.
	HintFix
	// HintImmutable: the registry keeps tags immutable and refused to
	// overwrite one; push the result to a new tag.
	HintImmutable
	// HintNoEngine: nothing answers at DOCKER_HOST; where the engine is
	// (the runner mounts its socket into the action's container).
	HintNoEngine
	// HintEnginePermission: the engine's socket, or a proxy or plugin in
	// front of it, refused us.
	HintEnginePermission
	// HintEngineNotFound: the engine holds no image by that name; how it
	// gets there.
	HintEngineNotFound
)

// Words are a front door's words for what the core decides. The zero
// Words words nothing: hints and fixes are left out, inputs are named
// "input NAME".
type Words struct {
	// Hints word each hint, appended to the failure's message.
	Hints HintWords
	// Fix words the inputs of a fix (a refusal's or a check finding's):
	// "set platform: auto", or with Ref, the run that fixes a finding.
	// Why and Otherwise follow; Rebuild needs no words of the door.
	Fix func(f plan.Fix) string
	// Input names an input in an *InputError ("--tag").
	Input func(name string) string
}

// FixText words f: the door's inputs, then what they do and what else fixes
// it; "" without words.
func (w Words) FixText(f plan.Fix) string {
	switch {
	case f.Rebuild:
		return "rebuild the image for the right platform"
	case w.Fix == nil:
		return ""
	}
	s := w.Fix(f)
	if f.Why != "" {
		s += " " + f.Why
	}
	if f.Otherwise != "" {
		s += ", or " + f.Otherwise
	}
	return s
}

// HintedError is a failure with what to do about it, worded by the front
// door.
type HintedError struct {
	Err        error
	Hint       Hint
	Repository string
	// Fix is what makes a refused plan go, with HintFix.
	Fix   plan.Fix
	words string
}

func (e *HintedError) Error() string { return e.Err.Error() + e.words }
func (e *HintedError) Unwrap() error { return e.Err }

// describe turns err into a message a person can act on: what failed for
// which image, and what to do about it.
func describe(err error, ref store.Ref, writing bool, creds Credentials, words Words) error {
	var ie *InputError
	if errors.As(err, &ie) && words.Input != nil {
		ie.As = words.Input(ie.Input)
	}
	err = fmt.Errorf("%s: %w", ref, err)
	h := hintFor(err, ref, writing, creds)
	if h == NoHint {
		return err
	}
	he := &HintedError{Err: err, Hint: h, Repository: ref.Repo.Name()}
	var re *plan.RefusalError
	if h == HintFix && errors.As(err, &re) {
		he.Fix = re.Fix
		if w := words.FixText(re.Fix); w != "" {
			he.words = "; " + w
		}
		return he
	}
	he.words = words.Hints.Words(h, he.Repository)
	return he
}

// hintFor picks the hint for err about ref.
func hintFor(err error, ref store.Ref, writing bool, creds Credentials) Hint {
	var re *registry.Error
	var ph *registry.PlainHTTPError
	var ce *plan.ConflictError
	var oe *OrphanError
	var rf *plan.RefusalError
	var op *net.OpError
	switch {
	case errors.As(err, &oe):
		return HintReferrers
	case errors.As(err, &ph):
		return HintInsecure
	case errors.As(err, &ce):
		return HintOverwrite
	case errors.As(err, &rf):
		return HintFix
	case errors.Is(err, errPlatformRequired):
		return HintPlatform
	case errors.As(err, &op) && op.Op == "dial" && loopback(ref):
		return HintLoopback
	case errors.As(err, &re) && immutableTag(re):
		return HintImmutable
	case errors.As(err, &re) && re.Unauthorized():
		return unauthorizedHint(re, ref, writing, creds)
	case errors.As(err, &re) && re.NotFound():
		return HintNotFound
	}
	return NoHint
}

// immutableTag reports whether re is a registry refusing to overwrite a
// tag because its tags are immutable: ECR answers 400 TAG_INVALID, Harbor
// 412 Precondition Failed.
func immutableTag(re *registry.Error) bool {
	return re.Method == "PUT" && strings.Contains(re.Path, "/manifests/") &&
		(re.StatusCode == 412 || re.StatusCode == 400 && re.Code == "TAG_INVALID")
}

// loopback reports whether ref's registry is on a loopback address.
func loopback(ref store.Ref) bool {
	host := ref.Repo.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return registry.IsLoopback(host)
}

// unauthorizedHint is the hint when the registry refused access to ref.
func unauthorizedHint(re *registry.Error, ref store.Ref, writing bool, creds Credentials) Hint {
	ghcrHost := ref.Repo.Host == ghcr
	switch {
	case (writing || re.Method != "GET" && re.Method != "HEAD") && ghcrHost:
		return HintPushGitHub
	case writing || re.Method != "GET" && re.Method != "HEAD":
		return HintPush
	case creds.appliesTo(ref.Repo.Host):
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
