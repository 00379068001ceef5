package engine

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/set-image-platform/set-image-platform/internal/patch"
	"github.com/set-image-platform/set-image-platform/internal/plan"
	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// checkImage lists what is wrong with one image's declared platform: an
// empty os or architecture, or one that differs from want.
func checkImage(ref, child string, have, want platform.Platform) []string {
	what := ref
	if child != "" {
		what = fmt.Sprintf("%s child %s", ref, child)
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

// checkIndex lists, per image child, a config without a platform, an entry
// that disagrees with its config, and a platform that differs from want.
func checkIndex(ref name.Reference, idx *plan.Index, children []*plan.Child, want platform.Platform, detected []platform.Platform) (*planned, error) {
	p := &planned{prev: idx.Digest, digest: idx.Digest}
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
		p.findings = append(p.findings, checkImage(ref.String(), e.Digest.String(), have, expect)...)
		switch {
		case !e.Platform.Complete():
			p.findings = append(p.findings, fmt.Sprintf("%s child %s: index entry declares platform %s; fix it with set-image-platform %s", ref, e.Digest, e.Platform.Display(), ref))
		case have.Complete() && !platform.Same(have, e.Platform):
			p.findings = append(p.findings, fmt.Sprintf("%s child %s: index entry says %s, config says %s; rebuild the image, or fix the wrong one", ref, e.Digest, e.Platform.Display(), have.Display()))
		}
	}
	return p, nil
}
