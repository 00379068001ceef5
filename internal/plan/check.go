package plan

import (
	"fmt"
	"strings"

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

// Check plans check mode for the tree at root: nothing changes, and the
// findings say what is wrong with each image's declared platform against
// want (or, with want zero, what its binaries show, where detected). ref
// names the image in the findings and in the commands that fix them.
func Check(root *Node, ref string, want platform.Platform) (*Plan, error) {
	p := unchanged(root)
	if root.Index == nil {
		if root.declErr != nil {
			return nil, root.declErr
		}
		expect := want
		if expect.IsZero() {
			expect = root.Detected
		}
		p.Before, p.After = []platform.Platform{root.Declared}, []platform.Platform{root.Declared}
		p.Findings = checkImage(ref, "", root.Declared, expect)
		return p, nil
	}
	images := root.images()
	for _, c := range images {
		if c.declErr != nil {
			return nil, c.declErr
		}
		p.Before, p.After = append(p.Before, c.Declared), append(p.After, c.Declared)
		p.Findings = append(p.Findings, checkChild(c, ref, want, len(images) == 1)...)
	}
	return p, nil
}

// checkChild lists, for an index's image child, a config or entry whose
// platform has a field that is not a valid name, a config without a
// platform, an entry that disagrees with its config, and a platform that
// differs from want (or from what the child's binaries show, with auto),
// each with the command that fixes it where one does. only says the child
// is the index's only image, which one platform can fix.
func checkChild(c *Node, ref string, want platform.Platform, only bool) []string {
	have, e := c.Declared, c.Entry.Platform
	expect := want
	if !c.Detected.IsZero() {
		expect = c.Detected
	}
	what := fmt.Sprintf("%s child %s", ref, c.Entry.Digest)
	fix := expect
	if !only {
		fix = platform.Platform{} // one platform does not fix several; auto does
	}
	var out []string
	for _, d := range []struct {
		whose string
		p     platform.Platform
	}{{"config", have}, {"index entry", e}} {
		if f := invalidFinding(what, d.whose, d.p, fix, ref); f != "" {
			out = append(out, f)
		}
	}
	if len(out) > 0 {
		return out
	}
	if f := entryFinding(what, ref, have, e); f != "" {
		out = append(out, f)
	}
	if have.Complete() && !expect.IsZero() && !platform.Same(have, expect) {
		fix := "rebuild the image for the right platform"
		if only {
			fix = fmt.Sprintf("fix it with set-image-platform --platform %s --overwrite %s", expect, ref)
		}
		out = append(out, fmt.Sprintf("%s: declares platform %s, not %s; %s", what, have.Display(), expect, fix))
	}
	return out
}

// entryFinding is the finding about a child's config and entry platforms
// that are missing or disagree, or "".
func entryFinding(what, ref string, have, e platform.Platform) string {
	switch {
	case !have.Complete() && e.Complete():
		return fmt.Sprintf("%s: config declares platform %s, its index entry %s; fix it with set-image-platform %s", what, have.Display(), e.Display(), ref)
	case !have.Complete():
		return fmt.Sprintf("%s: neither config nor index entry declares a platform; fix it with set-image-platform --platform auto %s", what, ref)
	case !e.Complete():
		return fmt.Sprintf("%s: index entry declares platform %s, its config %s; fix it with set-image-platform %s", what, e.Display(), have.Display(), ref)
	case !platform.Same(have, e):
		return fmt.Sprintf("%s: index entry says %s, config says %s; fix it with set-image-platform --platform auto --overwrite %s", what, e.Display(), have.Display(), ref)
	}
	return ""
}
