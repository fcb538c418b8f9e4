package release

import (
	"fmt"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

// HotfixPlan is what a hotfix on an older line starts from: the line's
// head, whose lock and recipe the new build takes, and the version it gets.
type HotfixPlan struct {
	Line string
	Base catalog.Image
	Next version.Version
}

// Hotfix plans the next patch release of line: it builds on the head of
// stable-<line> and takes the patch after the newest version the line has
// (so an untested earlier hotfix is not reused); disruptive counts the
// disruption serial up.
func (s State) Hotfix(line string, disruptive bool) (HotfixPlan, error) {
	name := s.head(LineChannel(line))
	base, ok := s.image(name)
	if name == "" || !ok {
		return HotfixPlan{}, fmt.Errorf("%w line %s of %s: %s has no head (promote a version of the line to stable first)",
			ErrUnknown, line, s.Product, LineChannel(line))
	}
	newest, err := s.Version(base)
	if err != nil {
		return HotfixPlan{}, err
	}
	for _, img := range s.Images {
		v, err := s.Version(img)
		if err == nil && v.Kind == version.Stable && v.Line() == line && version.Compare(v, newest) > 0 {
			newest = v
		}
	}
	next, err := version.Next(newest, version.NextOptions{Bump: version.BumpPatch, Disruptive: disruptive})
	if err != nil {
		return HotfixPlan{}, fmt.Errorf("planning a hotfix on line %s: %w", line, err)
	}
	if baseV, _ := s.Version(base); disruptive && !next.HasEvacuation {
		return HotfixPlan{}, fmt.Errorf("line %s (%s) carries no +evacuationN disruption serial: every move along it is already treated as disruptive", line, baseV)
	}
	return HotfixPlan{Line: line, Base: base, Next: next}, nil
}

// RecordHotfix is the change that records a built hotfix: the image is
// marked Hotfix-For forID, and the audit log names its base.
func (s State) RecordHotfix(img catalog.Image, plan HotfixPlan, forID string, req Request) (catalog.Change, error) {
	if forID == "" {
		return catalog.Change{}, fmt.Errorf("a hotfix needs the issue or advisory it is for (--for)")
	}
	m := s.Marks[img.Name]
	m.HotfixFor = forID
	e := event(s, catalog.ActionHotfix, img, LineChannel(plan.Line), req)
	if e.Reason == "" {
		e.Reason = fmt.Sprintf("Hotfix-For: %s (from %s)", forID, plan.Base.Name)
	}
	return catalog.Change{Event: e, Marks: []catalog.Mark{{Image: img.Name, Marks: m}}}, nil
}
