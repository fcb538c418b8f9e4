package version

import (
	"cmp"
	"strings"
)

// Compare returns -1, 0 or +1 as a sorts before, equal to or after b.
//
// Precedence: devel versions sort before every other version, ordered by
// serial (date and hour, then the .N suffix numerically, no suffix first).
// Other versions order by MAJOR, MINOR, PATCH; a rolling X.M.0-rolling.W
// is a pre-release of X.M.0, so it sorts just before it, rolling builds
// ordering by W. Build metadata does not change precedence; it only breaks
// ties (no metadata first, then by disruption serial), and the scheme
// name breaks the last ties. So Compare is a total order, and for valid
// versions of one scheme Compare(a, b) == 0 exactly when a.String() ==
// b.String().
func Compare(a, b Version) int {
	if c := comparePrecedence(a, b); c != 0 {
		return c
	}
	if c := compareEvacuation(a, b); c != 0 {
		return c
	}
	return cmp.Compare(a.Scheme, b.Scheme)
}

// comparePrecedence compares a and b ignoring build metadata and scheme.
func comparePrecedence(a, b Version) int {
	ad, bd := a.Kind == Devel, b.Kind == Devel
	switch {
	case ad && bd:
		return compareSerials(a.Serial, b.Serial)
	case ad:
		return -1
	case bd:
		return +1
	}
	return cmp.Or(
		cmp.Compare(a.Major, b.Major),
		cmp.Compare(a.Minor, b.Minor),
		cmp.Compare(a.Patch, b.Patch),
		cmp.Compare(stableRank(a), stableRank(b)),
		cmp.Compare(a.Build, b.Build),
	)
}

// stableRank puts a pre-release (rolling) before the release it precedes.
func stableRank(v Version) int {
	if v.Kind == Stable {
		return 1
	}
	return 0
}

// compareSerials orders serials YYYYMMDDHH[.N] by date-hour, then by N
// (none first). Comparing suffixes by length first then bytewise is
// numeric order for numbers without leading zeros, and still a total
// order consistent with string equality for anything else.
func compareSerials(a, b string) int {
	abase, asuf, _ := strings.Cut(a, ".")
	bbase, bsuf, _ := strings.Cut(b, ".")
	return cmp.Or(
		cmp.Compare(abase, bbase),
		cmp.Compare(len(asuf), len(bsuf)),
		cmp.Compare(asuf, bsuf),
		cmp.Compare(a, b), // "X" and "X." differ only here
	)
}

func compareEvacuation(a, b Version) int {
	if a.HasEvacuation != b.HasEvacuation {
		if a.HasEvacuation {
			return +1
		}
		return -1
	}
	if !a.HasEvacuation {
		return 0
	}
	return cmp.Compare(a.Evacuation, b.Evacuation)
}

// NeedsDisruption reports whether moving from one version to another needs
// machines drained or recreated: when either lacks +evacuation metadata,
// or when their disruption serials differ.
func NeedsDisruption(from, to Version) bool {
	return !from.HasEvacuation || !to.HasEvacuation || from.Evacuation != to.Evacuation
}
