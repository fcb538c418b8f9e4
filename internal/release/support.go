package release

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

// Line support statuses.
const (
	StatusSupported    = "supported"     // the newest released line
	StatusSecurityOnly = "security-only" // older, still gets security releases
	StatusEndOfLife    = "end-of-life"
	StatusPreRelease   = "pre-release" // no version of the line reached stable yet
)

// LineSupport is the support status of one release line.
type LineSupport struct {
	Line     string    `json:"line"` // MAJOR.MINOR
	Major    int       `json:"major"`
	Newest   string    `json:"newest"`               // newest good version on the line
	Released time.Time `json:"released,omitzero"`    // when the line first reached stable
	EOL      time.Time `json:"end_of_life,omitzero"` // zero: not yet known
	Status   string    `json:"status"`
	Rule     string    `json:"rule,omitempty"` // the policy rule that set EOL
}

type lineInfo struct {
	line     version.Version // any version of the line (its Major/Minor matter)
	newest   version.Version
	released time.Time
}

// Support returns every release line of the product, oldest first, with
// its end-of-life date and status at now, by the product's support policy.
func (s State) Support(now time.Time) []LineSupport {
	lines := s.lines()
	var released []lineInfo
	for _, l := range lines {
		if !l.released.IsZero() {
			released = append(released, l)
		}
	}
	var newest *lineInfo
	if len(released) > 0 {
		newest = &released[len(released)-1]
	}
	var out []LineSupport
	for _, l := range lines {
		ls := LineSupport{Line: l.line.Line(), Major: l.line.Major, Newest: l.newest.String(), Released: l.released}
		switch {
		case l.released.IsZero():
			ls.Status = StatusPreRelease
		case newest != nil && l.line.SameLine(newest.line):
			ls.Status = StatusSupported
		default:
			ls.EOL, ls.Rule = s.endOfLife(l, released)
			ls.Status = StatusSecurityOnly
			if !ls.EOL.IsZero() && !now.Before(ls.EOL) {
				ls.Status = StatusEndOfLife
			}
		}
		out = append(out, ls)
	}
	return out
}

// lines groups the product's good stable versions by line, in version
// order, with the time each line first reached stable (its own channel or
// stable).
func (s State) lines() []lineInfo {
	byLine := map[string]*lineInfo{}
	stable := s.firstStable()
	for _, img := range s.Images {
		v, err := s.Version(img)
		if err != nil || v.Kind != version.Stable || s.revoked(img.Name) {
			continue
		}
		l := byLine[v.Line()]
		if l == nil {
			l = &lineInfo{line: v, newest: v}
			byLine[v.Line()] = l
		}
		if version.Compare(v, l.newest) > 0 {
			l.newest = v
		}
		if at, ok := stable[img.Name]; ok && (l.released.IsZero() || at.Before(l.released)) {
			l.released = at
		}
	}
	var out []lineInfo
	for _, l := range byLine {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b lineInfo) int { return version.Compare(a.newest, b.newest) })
	return out
}

// firstStable returns, by image, when it first reached stable or a line
// channel, in one pass over the history.
func (s State) firstStable() map[string]time.Time {
	out := map[string]time.Time{}
	for _, h := range s.History {
		if _, seen := out[h.Image]; !seen && h.Image != "" && (h.Channel == "stable" || strings.HasPrefix(h.Channel, "stable-")) {
			out[h.Image] = h.At
		}
	}
	return out
}

// endOfLife applies the support policy to an older released line: the
// earliest date any rule gives, or zero while no rule has ended it yet.
func (s State) endOfLife(l lineInfo, released []lineInfo) (time.Time, string) {
	p := s.Policy.Support
	var eol time.Time
	var rule string
	consider := func(t time.Time, r string) {
		if !t.IsZero() && (eol.IsZero() || t.Before(eol)) {
			eol, rule = t, r
		}
	}
	var newerMinors, nextMajors []time.Time
	for _, o := range released {
		switch {
		case o.line.Major == l.line.Major && o.line.Minor > l.line.Minor:
			newerMinors = append(newerMinors, o.released)
		case o.line.Major > l.line.Major:
			nextMajors = append(nextMajors, o.released)
		}
	}
	slices.SortFunc(newerMinors, func(a, b time.Time) int { return a.Compare(b) })
	if n := p.NewerMinors; n > 0 && len(newerMinors) >= n {
		t := newerMinors[n-1]
		if min := newerMinors[0].Add(time.Duration(p.MinWeeks) * 7 * 24 * time.Hour); min.After(t) {
			t = min
		}
		consider(t, "newer_minors")
	}
	if m := p.MonthsAfterNextMajor; m > 0 && len(nextMajors) > 0 {
		first := slices.MinFunc(nextMajors, func(a, b time.Time) int { return cmp.Compare(a.UnixNano(), b.UnixNano()) })
		consider(first.AddDate(0, m, 0), "months_after_next_major")
	}
	return eol, rule
}

// LineEOL returns the support entry of img's line, if the line is known.
func (s State) LineEOL(img catalog.Image, now time.Time) (LineSupport, bool) {
	v, err := s.Version(img)
	if err != nil {
		return LineSupport{}, false
	}
	for _, ls := range s.Support(now) {
		if ls.Line == v.Line() {
			return ls, true
		}
	}
	return LineSupport{}, false
}
