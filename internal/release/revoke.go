package release

import (
	"fmt"
	"slices"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

// Revoke marks img revoked and moves every channel that points at it back
// to the newest good version in that channel's history (a version it held
// before that is neither img nor revoked); a channel with none is emptied.
func (s State) Revoke(img catalog.Image, req Request) (catalog.Change, error) {
	if req.Reason == "" {
		return catalog.Change{}, fmt.Errorf("revoking %s needs a reason (--reason)", img.Name)
	}
	if s.revoked(img.Name) {
		return catalog.Change{}, fmt.Errorf("%s is already revoked (%s)", img.Name, s.Marks[img.Name].RevokedReason)
	}
	m := s.Marks[img.Name]
	m.Revoked, m.RevokedReason, m.RevokedAt = true, req.Reason, req.At
	var moves []catalog.Move
	for _, ch := range s.channelsAt(img.Name) {
		moves = append(moves, catalog.Move{Channel: ch, From: img.Name, To: s.fallback(ch, img.Name)})
	}
	return catalog.Change{
		Event: event(s, catalog.ActionRevoke, img, "", req),
		Moves: moves,
		Marks: []catalog.Mark{{Image: img.Name, Marks: m}},
	}, nil
}

// channelsAt returns the channels whose head is image, by name.
func (s State) channelsAt(image string) []string {
	var out []string
	for ch, h := range s.Heads {
		if h.Image == image {
			out = append(out, ch)
		}
	}
	slices.Sort(out)
	return out
}

// fallback is the newest good version channel held before, other than
// leaving.
func (s State) fallback(channel, leaving string) string {
	for _, h := range slices.Backward(s.History) {
		if h.Channel != channel || h.Image == "" || h.Image == leaving || s.revoked(h.Image) {
			continue
		}
		if _, ok := s.image(h.Image); ok {
			return h.Image
		}
	}
	return ""
}

// Unrevoke clears img's revocation. Channels are not moved back: promote
// the version again if it should lead a channel.
func (s State) Unrevoke(img catalog.Image, req Request) (catalog.Change, error) {
	if req.Reason == "" {
		return catalog.Change{}, fmt.Errorf("unrevoking %s needs a reason (--reason)", img.Name)
	}
	if !s.revoked(img.Name) {
		return catalog.Change{}, fmt.Errorf("%s is not revoked", img.Name)
	}
	m := s.Marks[img.Name]
	m.Revoked, m.RevokedReason, m.RevokedAt = false, "", time.Time{}
	return catalog.Change{
		Event: event(s, catalog.ActionUnrevoke, img, "", req),
		Marks: []catalog.Mark{{Image: img.Name, Marks: m}},
	}, nil
}

// Advisory describes a security release.
type Advisory struct {
	IDs      []string // e.g. DSA-5801-1, CVE-2026-1234
	Severity string   // low, medium, high, critical
	Fixed    []string // the packages it fixes
}

// Severities are the allowed advisory severities.
var Severities = []string{"low", "medium", "high", "critical"}

// SecurityRelease marks img as a security release: every older version on
// its line is then superseded (see SupersededBy).
func (s State) SecurityRelease(img catalog.Image, a Advisory, req Request) (catalog.Change, error) {
	if len(a.IDs) == 0 {
		return catalog.Change{}, fmt.Errorf("a security release needs at least one advisory ID (--advisory)")
	}
	if !slices.Contains(Severities, a.Severity) {
		return catalog.Change{}, fmt.Errorf("severity %q: want one of %v", a.Severity, Severities)
	}
	if s.revoked(img.Name) {
		return catalog.Change{}, fmt.Errorf("%s is revoked: a revoked version cannot be a security release", img.Name)
	}
	m := s.Marks[img.Name]
	m.Security, m.Advisories, m.Severity, m.Fixed = true, a.IDs, a.Severity, a.Fixed
	return catalog.Change{
		Event: event(s, catalog.ActionSecurityRelease, img, "", req),
		Marks: []catalog.Mark{{Image: img.Name, Marks: m}},
	}, nil
}

// SupersededBy returns the newest security release on img's line that is
// newer than img and not revoked, if there is one: moving to it is not
// optional.
func (s State) SupersededBy(img catalog.Image) (catalog.Image, bool) {
	v, err := s.Version(img)
	if err != nil {
		return catalog.Image{}, false
	}
	var best catalog.Image
	var found bool
	for _, other := range s.Images {
		m := s.Marks[other.Name]
		if !m.Security || m.Revoked {
			continue
		}
		ov, err := s.Version(other)
		if err != nil || !ov.SameLine(v) || version.Compare(ov, v) <= 0 {
			continue
		}
		if bv, _ := s.Version(best); !found || version.Compare(ov, bv) > 0 {
			best, found = other, true
		}
	}
	return best, found
}
