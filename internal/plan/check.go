package plan

import (
	"fmt"
	"strings"

	"github.com/set-image-platform/set-image-platform/internal/platform"
)

// checkImage lists what is wrong with one image's declared platform: a
// field that is not a valid name, an empty os or architecture, or one that
// differs from want.
func checkImage(ref, child string, have, want platform.Platform) []Finding {
	if f, ok := invalidFinding(ref, child, "config", have, want); ok {
		return []Finding{f}
	}
	switch {
	case !have.Complete() && !want.IsZero():
		return []Finding{newFinding(ref, child, incomplete(have), Fix{Platform: want})}
	case !have.Complete():
		return []Finding{newFinding(ref, child, incomplete(have), Fix{Any: true})}
	case !want.IsZero() && !platform.Same(have, want):
		return []Finding{newFinding(ref, child, fmt.Sprintf("config declares platform %s, not %s", have.Display(), want), Fix{Platform: want, Overwrite: true})}
	}
	return nil
}

// incomplete is the problem of a config whose platform lacks an os or an
// architecture, naming the empty field: "linux/?" alone leaves a person to
// guess what "?" stands for.
func incomplete(have platform.Platform) string {
	empty := "its architecture is empty"
	switch {
	case have.OS == "" && have.Architecture == "":
		empty = "its os and architecture are empty"
	case have.OS == "":
		empty = "its os is empty"
	}
	return fmt.Sprintf("config declares platform %s, which lacks an os or architecture: %s", have.Display(), empty)
}

// invalidFinding is the finding about a platform, declared by whose (config
// or index entry), with fields that are not valid names, and whether there
// is one. The platform is shown quoted, as Display does.
func invalidFinding(ref, child, whose string, p, want platform.Platform) (Finding, bool) {
	bad := p.Invalid()
	if len(bad) == 0 {
		return Finding{}, false
	}
	return newFinding(ref, child, fmt.Sprintf(`%s declares platform %s, whose %s is not a valid name (letters, digits, ".", "_", "-")`, whose, p.Display(), strings.Join(bad, " and ")),
		fixPlatform(want, true)), true
}

// Check plans check mode for the tree at root: nothing changes, and the
// findings say what is wrong with each image's declared platform against
// want (or, with want zero, what its binaries show, where detected). ref
// names the image a run that fixes them names.
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
		if e := root.Entry; e != nil && e.HasPlatform {
			// An image listed with a platform (a layout's index.json entry,
			// as crane and containerd write it) is judged as an index's
			// child is: the entry must say what the config says.
			if f, ok := invalidFinding(ref, "", "index entry", e.Platform, expect); ok {
				p.Findings = append(p.Findings, f)
			} else if f, ok := entryFinding(ref, "", root.Declared, e.Platform); ok {
				p.Findings = append(p.Findings, f)
			}
		}
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
// each with what fixes it. only says the child is the index's only image,
// which one platform can fix.
func checkChild(c *Node, ref string, want platform.Platform, only bool) []Finding {
	have, e := c.Declared, c.Entry.Platform
	expect := want
	if !c.Detected.IsZero() {
		expect = c.Detected
	}
	child := c.Entry.Digest.String()
	fix := expect
	if !only {
		fix = platform.Platform{} // one platform does not fix several; auto does
	}
	var out []Finding
	for _, d := range []struct {
		whose string
		p     platform.Platform
	}{{"config", have}, {"index entry", e}} {
		if f, ok := invalidFinding(ref, child, d.whose, d.p, fix); ok {
			out = append(out, f)
		}
	}
	if len(out) > 0 {
		return out
	}
	if f, ok := entryFinding(ref, child, have, e); ok {
		out = append(out, f)
	}
	if have.Complete() && !expect.IsZero() && !platform.Same(have, expect) {
		fix := Fix{Rebuild: true}
		if only {
			fix = Fix{Platform: expect, Overwrite: true}
		}
		out = append(out, newFinding(ref, child, fmt.Sprintf("declares platform %s, not %s", have.Display(), expect), fix))
	}
	return out
}

// entryFinding is the finding about a child's config and entry platforms
// that are missing or disagree, and whether there is one.
func entryFinding(ref, child string, have, e platform.Platform) (Finding, bool) {
	var problem string
	var fix Fix // a run without a platform copies the one that is there
	switch {
	case !have.Complete() && e.Complete():
		problem = fmt.Sprintf("config declares platform %s, its index entry %s", have.Display(), e.Display())
	case !have.Complete():
		problem, fix = "neither config nor index entry declares a platform", Fix{Auto: true}
	case !e.Complete():
		problem = fmt.Sprintf("index entry declares platform %s, its config %s", e.Display(), have.Display())
	case !platform.Same(have, e):
		problem, fix = fmt.Sprintf("index entry says %s, config says %s", e.Display(), have.Display()), Fix{Auto: true, Overwrite: true}
	default:
		return Finding{}, false
	}
	return newFinding(ref, child, problem, fix), true
}

// CheckPlatform lists what is wrong with the platform have that a source
// declares without a config at hand (the Docker engine's inspect), as
// Check does for an image: ref names the image.
func CheckPlatform(ref string, have, want platform.Platform) []Finding {
	return checkImage(ref, "", have, want)
}
