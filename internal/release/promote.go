package release

import (
	"fmt"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

// Promote moves img one step, into channel to, if every gate lets it
// through. It returns the change to apply: the channel move (and, into
// stable, the move of the version's stable-X.Y line; into a line, the move
// of stable when stable is on that line and older).
//
// Gates, in order: the image's latest boot test passed (qa); it is not
// revoked (revoked); it is not already the head; for a line channel, it is
// a stable version on that line (line) and the line reached stable before
// (ErrUnknown otherwise); the previous channel in the order held it
// (previous-channel) for to's soak time (soak); it is not older than to's
// head (no-downgrade). With req.Force and a reason, the previous-channel,
// soak and no-downgrade gates are overridden and named in the event.
func (s State) Promote(img catalog.Image, to string, req Request) (catalog.Change, error) {
	if req.Force && req.Reason == "" {
		return catalog.Change{}, fmt.Errorf("--force needs --reason: say why the gates are overridden")
	}
	v, err := s.Version(img)
	if err != nil {
		return catalog.Change{}, err
	}
	if err := s.hardGates(img, v, to); err != nil {
		return catalog.Change{}, err
	}
	var forced []string
	for _, gate := range s.softGates(img, v, to, req.At) {
		if !req.Force {
			return catalog.Change{}, gate
		}
		forced = append(forced, gate.Gate)
	}
	moves := s.promotionMoves(img, v, to)
	e := event(s, catalog.ActionPromote, img, to, req)
	e.Forced = forced
	return catalog.Change{Event: e, Moves: moves}, nil
}

// hardGates are the gates no --force overrides.
func (s State) hardGates(img catalog.Image, v version.Version, to string) error {
	if _, err := s.channelIndex(to); err != nil {
		return err
	}
	qa, tested := s.QA[img.Name]
	switch {
	case !tested:
		return &GateError{GateQA, img.Name + " was never boot-tested", "run: bakery test " + img.Name}
	case !qa.Passed:
		return &GateError{GateQA, fmt.Sprintf("%s failed its latest boot test (%s)", img.Name, qa.TestedAt.Format(time.RFC3339)), "fix the image and build a new version, or re-run: bakery test " + img.Name}
	case s.revoked(img.Name):
		return &GateError{GateRevoked, fmt.Sprintf("%s is revoked (%s)", img.Name, s.Marks[img.Name].RevokedReason), "revoked versions are never promoted; unrevoke it if the revocation was a mistake"}
	case s.head(to) == img.Name:
		return fmt.Errorf("%s is already the head of %s", img.Name, to)
	}
	line, ok := lineOf(to)
	switch {
	case !ok:
	case v.Kind != version.Stable:
		return &GateError{GateLine, fmt.Sprintf("%s is a %s version", img.Name, v.Kind), "only stable versions go on line " + line}
	case v.Line() != line:
		return &GateError{GateLine, fmt.Sprintf("%s is version %s, on line %s, not %s", img.Name, v, v.Line(), line), "promote it to " + LineChannel(v.Line())}
	case !s.hasChannel(to):
		return fmt.Errorf("%w line %s of %s: no version of it reached stable yet; promote it to stable", ErrUnknown, line, s.Product)
	}
	return nil
}

// hasChannel reports whether channel has ever had a head (an emptied
// channel still has one: "").
func (s State) hasChannel(channel string) bool {
	_, ok := s.Heads[channel]
	return ok
}

// softGates returns every forceable gate that refuses the promotion.
func (s State) softGates(img catalog.Image, v version.Version, to string, now time.Time) []*GateError {
	var out []*GateError
	i, _ := s.channelIndex(to)
	if i > 0 {
		prev := s.Policy.Channels[i-1].Name
		soak := time.Duration(s.Policy.Channels[i].Soak)
		entered, ok := s.enteredAt(prev, img.Name)
		switch {
		case !ok:
			out = append(out, &GateError{GatePrevious, fmt.Sprintf("%s has not been in %s", img.Name, prev), fmt.Sprintf("promote it to %s first, or --force --reason", prev)})
		case now.Sub(entered) < soak:
			ready := entered.Add(soak)
			out = append(out, &GateError{GateSoak,
				fmt.Sprintf("%s entered %s at %s, %s ago; %s needs %s", img.Name, prev, entered.Format(time.RFC3339), now.Sub(entered).Round(time.Minute), to, soakText(soak)),
				fmt.Sprintf("wait until %s, or --force --reason", ready.Format(time.RFC3339))})
		}
	}
	if g := s.orderGate(img, v, to); g != nil {
		out = append(out, g)
	}
	return out
}

func soakText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days of soak", d/(24*time.Hour))
	}
	return d.String() + " of soak"
}

// orderGate refuses a version older than the channel's head.
func (s State) orderGate(img catalog.Image, v version.Version, to string) *GateError {
	head, ok := s.image(s.head(to))
	if !ok {
		return nil
	}
	hv, err := s.Version(head)
	if err != nil || version.Compare(v, hv) >= 0 {
		return nil
	}
	satisfy := "promote a newer version, or --force --reason"
	if _, line := lineOf(to); !line && v.Kind == version.Stable {
		satisfy = fmt.Sprintf("for a hotfix on an older line promote it to %s; or --force --reason", LineChannel(v.Line()))
	}
	return &GateError{GateOrder, fmt.Sprintf("%s (%s) is older than %s's head %s (%s)", img.Name, v, to, head.Name, hv), satisfy}
}

// promotionMoves are the head moves of a promotion: the channel, and the
// stable channel and its line channel kept in step.
func (s State) promotionMoves(img catalog.Image, v version.Version, to string) []catalog.Move {
	moves := []catalog.Move{{Channel: to, From: s.head(to), To: img.Name}}
	follow := ""
	if to == "stable" && v.Kind == version.Stable {
		follow = LineChannel(v.Line())
	} else if line, ok := lineOf(to); ok && s.onLineAndOlder("stable", line, v) {
		follow = "stable"
	}
	if follow != "" && s.head(follow) != img.Name && !s.newerHead(follow, v) {
		moves = append(moves, catalog.Move{Channel: follow, From: s.head(follow), To: img.Name})
	}
	return moves
}

// onLineAndOlder reports whether channel's head is on line and older than v.
func (s State) onLineAndOlder(channel, line string, v version.Version) bool {
	head, ok := s.image(s.head(channel))
	if !ok {
		return false
	}
	hv, err := s.Version(head)
	return err == nil && hv.Line() == line && version.Compare(hv, v) < 0
}

// newerHead reports whether channel's head is newer than v.
func (s State) newerHead(channel string, v version.Version) bool {
	head, ok := s.image(s.head(channel))
	if !ok {
		return false
	}
	hv, err := s.Version(head)
	return err == nil && version.Compare(hv, v) > 0
}
