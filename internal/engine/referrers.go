package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/set-image-platform/set-image-platform/internal/limits"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/referrers"
)

// ReferrerPolicy is what a run does about the referrers (signatures,
// attestations, SBOMs, other artifacts) of a digest that changes.
type ReferrerPolicy int

// The policies, as the referrers input names them.
const (
	// WarnReferrers names them in a warning.
	WarnReferrers ReferrerPolicy = iota
	// FailOnReferrers looks them up before writing, and writes nothing
	// when any would be orphaned.
	FailOnReferrers
	// CarryReferrers re-points the unsigned ones to the new digest.
	CarryReferrers
)

var policyNames = []string{"warn", "fail", "carry"}

func (p ReferrerPolicy) String() string { return policyNames[p] }

// ParseReferrerPolicy reads the referrers input; empty is warn.
func ParseReferrerPolicy(s string) (ReferrerPolicy, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" {
		return WarnReferrers, nil
	}
	if i := slices.Index(policyNames, v); i >= 0 {
		return ReferrerPolicy(i), nil
	}
	return 0, &InputError{Input: "referrers", Err: fmt.Errorf("unknown value %q: want warn, fail or carry", s)}
}

// subject is a digest that changes: an image's, an index's or an index
// child's. Size is the size of the new manifest, for a carried subject.
type subject struct {
	Old, New v1.Hash
	Size     int64
	Child    bool
}

// changedSubjects lists the digests p changes: the top one and each
// changed child's.
func changedSubjects(p *plan.Plan) []subject {
	if !p.Changed {
		return nil
	}
	out := []subject{{Old: p.PreviousDigest, New: p.Digest, Size: int64(len(p.Bytes))}}
	for _, ch := range p.Children {
		if ch != nil && ch.Changed {
			out = append(out, subject{Old: ch.PreviousDigest, New: ch.Digest, Size: int64(len(ch.Manifest)), Child: true})
		}
	}
	return out
}

// subjectReferrers is what the lookups found for one subject: every
// referrer, and those carry may move.
type subjectReferrers struct {
	subject
	found referrers.Found
	carry []referrers.Referrer
}

// lookups is what refers to every changed digest, and what could not be
// checked.
type lookups struct {
	subjects []subjectReferrers
	failed   []error
}

// all is every referrer found, subject by subject.
func (l lookups) all() []referrers.Referrer {
	var out []referrers.Referrer
	for _, s := range l.subjects {
		out = append(out, s.found.Referrers...)
	}
	return out
}

// lookUp finds the referrers of each subject in src, limits.PerStage at once. With
// carry it also decides which may move: a referrer that may is looked up
// in turn, as one with referrers of its own stays. A lookup that fails
// keeps what the others found.
func lookUp(ctx context.Context, src referrers.Source, subs []subject, carry bool) lookups {
	l := lookups{subjects: make([]subjectReferrers, len(subs))}
	failed := make([][]error, len(subs))
	limits.All(len(subs), limits.PerStage, func(i int) {
		l.subjects[i], failed[i] = lookUpOne(ctx, src, subs[i], carry)
	})
	l.failed = slices.Concat(failed...)
	return l
}

func lookUpOne(ctx context.Context, src referrers.Source, s subject, carry bool) (subjectReferrers, []error) {
	out := subjectReferrers{subject: s}
	var failed []error
	var err error
	if out.found, err = referrers.Find(ctx, src, s.Old); err != nil {
		failed = append(failed, err)
	}
	if !carry {
		return out, failed
	}
	for _, r := range out.found.Referrers {
		if !referrers.CanCarry(r, false) {
			continue
		}
		own, err := referrers.Find(ctx, src, r.Digest)
		if err != nil {
			// Whether it has referrers of its own is not known: it stays.
			failed = append(failed, err)
			continue
		}
		if referrers.CanCarry(r, len(own.Referrers) > 0) {
			out.carry = append(out.carry, r)
		}
	}
	return out, failed
}

// warnLookups names what could not be checked, one warning per lookup.
func warnLookups(log Logger, source string, failed []error) {
	for _, e := range failed {
		var ie *referrers.IncompleteError
		if !errors.As(e, &ie) {
			log.Warning(fmt.Sprintf("%s: %v", source, e))
			continue
		}
		for _, l := range ie.Lookups {
			log.Warning(fmt.Sprintf("%s: could not check %s for referrers of %s: %v; what it lists may be orphaned by the new digest too", source, l.What, ie.Subject, l.Err))
		}
	}
}

// noticeForeign says which manifests a registry listed as referrers of a
// changed digest although their subject names another: they are left
// alone, and referrers fail does not count them.
func noticeForeign(log Logger, source string, l lookups) {
	for _, s := range l.subjects {
		for _, f := range s.found.Foreign {
			log.Notice(fmt.Sprintf("%s: %s listed %s as a referrer of %s, but its subject is %q: a foreign artifact, not this image's; left alone", source, f.ListedBy, f.Digest, s.Old, f.Subject))
		}
	}
}

// OrphanError is the failure of referrers fail: the change would orphan
// Referrers, or could not make sure it would not (Failed). Nothing was
// written.
type OrphanError struct {
	Referrers []referrers.Referrer
	Failed    []error
}

func (e *OrphanError) Error() string {
	var parts []string
	if n := len(e.Referrers); n > 0 {
		parts = append(parts, fmt.Sprintf("the new digest would orphan %s (%s, listed above and in results)", count(n, "referrer"), kinds(e.Referrers)))
	}
	if n := lookupCount(e.Failed); n > 0 {
		parts = append(parts, fmt.Sprintf("%s could not be checked (warned above)", count(n, "lookup")))
	}
	return "nothing written: " + strings.Join(parts, "; ") + "; sign, attest or attach " + them(len(e.Referrers)) + " again after the change"
}

// lookupCount is how many lookups failed.
func lookupCount(failed []error) int {
	n := 0
	for _, e := range failed {
		var ie *referrers.IncompleteError
		if errors.As(e, &ie) {
			n += len(ie.Lookups)
		} else {
			n++
		}
	}
	return n
}

// kindNouns are the kinds in words, in the order kinds counts them.
var kindNouns = []struct {
	kind referrers.Kind
	noun string
}{{referrers.Signature, "signature"}, {referrers.Attestation, "attestation"}, {referrers.SBOM, "SBOM"}, {referrers.Other, "other artifact"}}

// kinds counts rs by kind, in words: "2 signatures, 1 SBOM".
func kinds(rs []referrers.Referrer) string {
	var out []string
	for _, k := range kindNouns {
		n := 0
		for _, r := range rs {
			if referrers.Classify(r).Kind == k.kind {
				n++
			}
		}
		if n > 0 {
			out = append(out, count(n, k.noun))
		}
	}
	return strings.Join(out, ", ")
}

// humanBytes words a size in binary units: "512 B", "1.5 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// count is n and noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// them is the pronoun for n things.
func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// listReferrers logs one line per referrer: its kind in words, its digest
// and how it was found. A warning would be cut: it holds one message.
func listReferrers(log Logger, rs []referrers.Referrer) {
	for _, r := range rs {
		log.Info(fmt.Sprintf("  %s %s (%s)", referrers.Classify(r).Kind, r.Digest, foundBy(r)))
	}
}

// foundBy says in words where r was found.
func foundBy(r referrers.Referrer) string {
	switch r.FoundBy {
	case referrers.ByReferrersAPI:
		return "referrers API"
	case referrers.ByFallbackTag:
		return "fallback tag " + referrers.FallbackTag(r.Subject)
	case referrers.ByLayout:
		return "the layout's index.json"
	}
	return "cosign tag " + r.Tag
}

// remakes are the commands that make rs again for ref, each once, in order.
func remakes(rs []referrers.Referrer, ref string) []string {
	var out []string
	for _, r := range rs {
		if c := referrers.Remake(referrers.Classify(r), ref); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// staying are the referrers of s that do not move to the new digest.
func (s subjectReferrers) staying() []referrers.Referrer {
	return slices.DeleteFunc(slices.Clone(s.found.Referrers), func(r referrers.Referrer) bool {
		return slices.ContainsFunc(s.carry, func(c referrers.Referrer) bool { return c.Digest == r.Digest })
	})
}

// warnOrphans says which referrers of s stay behind and how to make them
// again for repository@new, then lists them.
func warnOrphans(log Logger, source, repository string, s subjectReferrers, dryRun bool) {
	rs := s.staying()
	if len(rs) == 0 {
		return
	}
	log.Warning(orphanWarning(source, repository, s, rs, dryRun))
	listReferrers(log, rs)
}

func orphanWarning(source, repository string, s subjectReferrers, rs []referrers.Referrer, dryRun bool) string {
	what := "of the previous digest " + s.Old.String()
	if s.Child {
		what = "of child " + s.Old.String()
	}
	verb := "do not carry over"
	switch {
	case dryRun:
		verb = "would not carry over"
	case len(rs) == 1:
		verb = "does not carry over"
	}
	prefix := ""
	if dryRun {
		prefix = "dry run: "
	}
	msg := fmt.Sprintf("%s%s: %s %s %s to %s (%s, listed below and in results)", prefix, source, count(len(rs), "referrer"), what, verb, s.New, kinds(rs))
	if cmds := remakes(rs, referrers.NewRef(repository, s.New)); len(cmds) > 0 {
		return msg + "; make " + them(len(rs)) + " again for the new digest: " + strings.Join(cmds, "; ")
	}
	return msg + "; sign, attest or attach " + them(len(rs)) + " again for the new digest"
}

// carryAll carries the unsigned artifacts of each subject that changed
// over to its new digest, and returns what could not be carried, one line
// per subject.
func carryAll(ctx context.Context, deps Deps, dst referrers.Target, source string, l lookups, dryRun bool) []string {
	var failed []string
	for _, s := range l.subjects {
		if len(s.carry) == 0 {
			continue
		}
		if dryRun {
			deps.Log.Notice(fmt.Sprintf("dry run: %s: would carry %s of %s over to %s", source, count(len(s.carry), "referrer"), s.Old, s.New))
			listReferrers(deps.Log, s.carry)
			continue
		}
		moved, err := referrers.Carry(ctx, dst, s.carry, s.New, s.Size, s.found.API)
		if len(moved) > 0 {
			deps.Log.Notice(fmt.Sprintf("%s: carried %s of %s over to %s", source, count(len(moved), "referrer"), s.Old, s.New))
			for _, m := range moved {
				if m.From.FoundBy == referrers.ByLayout {
					// Found in the layout, where the old one was.
					m.To.FoundBy = referrers.ByLayout
				}
				deps.Log.Info(fmt.Sprintf("  %s %s, now %s (%s)", referrers.Classify(m.To).Kind, m.From.Digest, m.To.Digest, foundBy(m.To)))
			}
		}
		if err == nil {
			continue
		}
		failed = append(failed, fmt.Sprintf("could not carry %s of %s over to %s: %v", count(len(s.carry)-len(moved), "referrer"), s.Old, s.New, err))
		carried := map[v1.Hash]bool{}
		for _, m := range moved {
			carried[m.From.Digest] = true
		}
		for _, r := range s.carry {
			if !carried[r.Digest] {
				deps.Log.Info(fmt.Sprintf("  not carried: %s %s", referrers.Classify(r).Kind, r.Digest))
			}
		}
	}
	return failed
}

// CarryError is referrers: carry failing to carry some artifacts after
// the image was written: the image fails, and the target holds what was
// written.
type CarryError struct {
	Written *WrittenError
	// Failed says, per subject, what could not be carried and why.
	Failed []string
}

func (e *CarryError) Error() string {
	verb := "now points at"
	if e.Written.ByDigest {
		verb = "now holds"
	}
	return fmt.Sprintf("%s %s %s, but referrers: %s", e.Written.Target, verb, e.Written.Digest, strings.Join(e.Failed, "; "))
}

// Unwrap makes the result keep what was written.
func (e *CarryError) Unwrap() error { return e.Written }

// carryError is the error of job j written as p when failed is not empty.
func carryError(j Job, p *plan.Plan, failed []string) error {
	if len(failed) == 0 {
		return nil
	}
	w := &WrittenError{Target: j.Target.String(), Digest: p.Digest}
	if j.Target.IsDigest() {
		w.Target, w.ByDigest = j.Target.Repo.Name(), true
	}
	return &CarryError{Written: w, Failed: failed}
}

// errOrphans reports whether l would orphan anything, or could not tell.
func (l lookups) errOrphans() error {
	if all := l.all(); len(all) > 0 || len(l.failed) > 0 {
		return &OrphanError{Referrers: all, Failed: l.failed}
	}
	return nil
}

// listedSource answers a tag look-up from the listing of the repository's
// tags, when there is one, without a request for a tag that is not
// listed: a sweep lists every tag anyway, so the fallback and cosign tags
// of each digest cost nothing where there are none.
type listedSource struct {
	referrers.Source
	listed map[string]bool
}

func (s listedSource) GetManifest(ctx context.Context, ref string) (string, []byte, v1.Hash, error) {
	if _, err := v1.NewHash(ref); err != nil && s.listed != nil && !s.listed[ref] {
		return "", nil, v1.Hash{}, unlistedError(ref)
	}
	return s.Source.GetManifest(ctx, ref)
}

// unlistedError is a tag the repository's listing does not hold.
type unlistedError string

func (e unlistedError) Error() string {
	return fmt.Sprintf("tag %q is not in the repository's listing", string(e))
}
func (unlistedError) NotFound() bool { return true }
