package version

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// ErrNoPath is wrapped by [UpgradePath]'s errors.
var ErrNoPath = errors.New("no upgrade path")

// Hop is one step of an upgrade path.
type Hop struct {
	From, To   Version
	Major      bool // the hop crosses to another major version
	Disruptive bool // NeedsDisruption(From, To)
}

// UpgradePath returns the hops a machine takes from one version to
// another, stopping only at versions in available (the catalog's
// non-revoked versions; from and to need not be among them):
//
//   - Patches are free: within a line a hop goes straight to the target,
//     or to the newest patch of the line when passing through.
//   - Minors are taken one line at a time: each intermediate hop lands on
//     the newest stable version of the next line found in available; a
//     line with no available version is skipped.
//   - The remaining lines of the current major are climbed first; then a
//     major jump is one hop to the newest version of the lowest line of the
//     next major found in available (or to `to` itself). Unless allowMajor,
//     it is refused with an error wrapping [ErrNoPath] that says to use
//     --allow-major.
//
// Only stable versions of from's scheme are stops, besides to itself,
// which may be a rolling version. from == to gives no hops; from after to
// (a downgrade) is an error wrapping [ErrNoPath]. Devel versions are on no
// line: between two of them the path is one direct hop, and between a
// devel and any other version there is no path.
func UpgradePath(from, to Version, available []Version, allowMajor bool) ([]Hop, error) {
	if err := checkEnds(from, to); err != nil {
		return nil, fmt.Errorf("upgrading %s to %s: %w", from, to, err)
	}
	if Compare(from, to) == 0 {
		return nil, nil
	}
	if from.Kind == Devel {
		return []Hop{newHop(from, to)}, nil
	}
	lines := newestPerLine(from.Scheme, available)
	var hops []Hop
	for cur := from; Compare(cur, to) != 0; cur = hops[len(hops)-1].To {
		h := newHop(cur, nextStop(cur, to, lines))
		if h.Major && !allowMajor {
			return nil, fmt.Errorf("upgrading %s to %s: hop %s to %s crosses major versions; use --allow-major to allow it: %w",
				from, to, h.From, h.To, ErrNoPath)
		}
		hops = append(hops, h)
	}
	return hops, nil
}

func checkEnds(from, to Version) error {
	switch {
	case from.Scheme != to.Scheme:
		return fmt.Errorf("schemes %q and %q differ: %w", from.Scheme, to.Scheme, ErrNoPath)
	case (from.Kind == Devel) != (to.Kind == Devel):
		return fmt.Errorf("devel versions are on no upgrade line: %w", ErrNoPath)
	case Compare(from, to) > 0:
		return fmt.Errorf("that is a downgrade: %w", ErrNoPath)
	}
	return nil
}

func newHop(from, to Version) Hop {
	return Hop{From: from, To: to, Major: from.Major != to.Major, Disruptive: NeedsDisruption(from, to)}
}

// newestPerLine returns the newest stable version of scheme on each line
// found in available, sorted by line.
func newestPerLine(scheme string, available []Version) []Version {
	var stable []Version
	for _, v := range available {
		if v.Scheme == scheme && v.Kind == Stable {
			stable = append(stable, v)
		}
	}
	slices.SortFunc(stable, func(a, b Version) int { return -Compare(a, b) })
	// Newest first, so the first of each line is kept.
	newest := slices.CompactFunc(stable, Version.SameLine)
	slices.Reverse(newest)
	return newest
}

// nextStop returns where a hop from cur towards to lands: the newest
// version of the first line after cur's and before to's, or else to.
func nextStop(cur, to Version, lines []Version) Version {
	for _, l := range lines {
		if compareLines(l, cur) > 0 && compareLines(l, to) < 0 {
			return l
		}
	}
	return to
}

func compareLines(a, b Version) int {
	return cmp.Or(cmp.Compare(a.Major, b.Major), cmp.Compare(a.Minor, b.Minor))
}
