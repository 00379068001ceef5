package engine

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// checkImage lists what is wrong with one image's declared platform: a
// field that is not a valid name, an empty os or architecture, or one that
// differs from want.
func checkImage(ref, child string, have, want platform.Platform) []string {
	what := ref
	if child != "" {
		what = fmt.Sprintf("%s child %s", ref, child)
	}
	if f := invalidFinding(what, "config", have, want, ref); f != "" {
		return []string{f}
	}
	switch {
	case !have.Complete() && !want.IsZero():
		return []string{fmt.Sprintf("%s: config declares platform %s, which lacks an os or architecture; fix it with set-image-platform --platform %s %s", what, have.Display(), want, ref)}
	case !have.Complete():
		return []string{fmt.Sprintf("%s: config declares platform %s, which lacks an os or architecture; fix it with set-image-platform --platform <os/arch> %s", what, have.Display(), ref)}
	case !want.IsZero() && !platform.Same(have, want):
		return []string{fmt.Sprintf("%s: config declares platform %s, not %s; fix it with set-image-platform --platform %s --overwrite %s", what, have.Display(), want, want, ref)}
	}
	return nil
}

// invalidFinding is the finding about a platform, declared by whose (config
// or index entry), with fields that are not valid names, or "" when there
// is none. The platform is shown quoted, as Display does.
func invalidFinding(what, whose string, p, want platform.Platform, ref string) string {
	bad := p.Invalid()
	if len(bad) == 0 {
		return ""
	}
	fix := "auto"
	if !want.IsZero() {
		fix = want.String()
	}
	return fmt.Sprintf(`%s: %s declares platform %s, whose %s is not a valid name (letters, digits, ".", "_", "-"); fix it with set-image-platform --platform %s --overwrite %s`,
		what, whose, p.Display(), strings.Join(bad, " and "), fix, ref)
}

// checkIndex lists, per image child, a config or entry whose platform has a
// field that is not a valid name, a config without a platform, an entry
// that disagrees with its config, and a platform that differs from want (or
// from what the child's binaries show, with auto), each with the command
// that fixes it where one does.
func checkIndex(ref name.Reference, idx *plan.Index, children []*plan.Child, want platform.Platform, detected []platform.Platform) (*planned, error) {
	p := &planned{prev: idx.Digest, digest: idx.Digest}
	images := 0
	for _, c := range children {
		if c != nil {
			images++
		}
	}
	for i, c := range children {
		if c == nil {
			continue
		}
		e := idx.Entries[i]
		have, err := patch.ReadPlatform(c.Image.Config, nil)
		if err != nil {
			return nil, fmt.Errorf("reading platform of child %s: %w", e.Digest, err)
		}
		p.before, p.after = append(p.before, have), append(p.after, have)
		expect := want
		if i < len(detected) && !detected[i].IsZero() {
			expect = detected[i]
		}
		what := fmt.Sprintf("%s child %s", ref, e.Digest)
		fix := expect
		if images != 1 {
			fix = platform.Platform{} // one platform does not fix several; auto does
		}
		invalid := false
		for _, d := range []struct {
			whose string
			p     platform.Platform
		}{{"config", have}, {"index entry", e.Platform}} {
			if f := invalidFinding(what, d.whose, d.p, fix, ref.String()); f != "" {
				p.findings, invalid = append(p.findings, f), true
			}
		}
		if invalid {
			continue
		}
		switch {
		case !have.Complete() && e.Platform.Complete():
			p.findings = append(p.findings, fmt.Sprintf("%s: config declares platform %s, its index entry %s; fix it with set-image-platform %s", what, have.Display(), e.Platform.Display(), ref))
		case !have.Complete():
			p.findings = append(p.findings, fmt.Sprintf("%s: neither config nor index entry declares a platform; fix it with set-image-platform --platform auto %s", what, ref))
		case !e.Platform.Complete():
			p.findings = append(p.findings, fmt.Sprintf("%s: index entry declares platform %s, its config %s; fix it with set-image-platform %s", what, e.Platform.Display(), have.Display(), ref))
		case !platform.Same(have, e.Platform):
			p.findings = append(p.findings, fmt.Sprintf("%s: index entry says %s, config says %s; fix it with set-image-platform --platform auto --overwrite %s", what, e.Platform.Display(), have.Display(), ref))
		}
		if have.Complete() && !expect.IsZero() && !platform.Same(have, expect) {
			fix := "rebuild the image for the right platform"
			if images == 1 {
				fix = fmt.Sprintf("fix it with set-image-platform --platform %s --overwrite %s", expect, ref)
			}
			p.findings = append(p.findings, fmt.Sprintf("%s: declares platform %s, not %s; %s", what, have.Display(), expect, fix))
		}
	}
	return p, nil
}
