package version

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Bump names the kind of release [Next] computes.
type Bump string

// Bumps.
const (
	BumpMajor   Bump = "major"
	BumpMinor   Bump = "minor"
	BumpPatch   Bump = "patch" // security release (semver-security) or hotfix (calver)
	BumpRolling Bump = "rolling"
	BumpDevel   Bump = "devel"
)

// ErrBump is wrapped by [Next]'s errors about a bump that does not apply
// to the current version or lacks an option it needs.
var ErrBump = errors.New("invalid version bump")

// NextOptions says which version [Next] computes.
type NextOptions struct {
	Bump       Bump
	Date       time.Time // calver major/minor: the release date of the new line (its UTC day gives YYYYMMDD)
	Serial     string    // calver devel
	Disruptive bool      // patch bump that needs machines drained/recreated: Evacuation+1
}

// Next returns the version that follows cur for bump o.Bump.
//
// semver-security: major gives (X+1).0.0, minor X.(Y+1).0 and patch (a
// security release) X.Y.(Z+1); rolling and devel are errors.
//
// calver: major gives (X+1).DATE.0 and minor X.DATE.0, DATE being o.Date's
// UTC day as YYYYMMDD (a minor must be newer than cur, so two minors cannot
// share a day); patch (a hotfix, from a stable version only) gives
// X.Y.(P+1); rolling from a stable X.Y.P gives X.(Y+1).0-rolling.1 and from
// X.M.0-rolling.W gives X.M.0-rolling.(W+1); devel gives devel.<o.Serial>
// from any version.
//
// Disruption serial: major and minor start at +evacuation0 (a new line is
// counted even when cur had no metadata). Patch keeps cur's serial, or
// increments it when o.Disruptive; a patch of a version without metadata
// has none either, and so still counts as disruptive. Rolling and devel
// keep cur's metadata. o.Disruptive only affects patch bumps.
//
// Every result but devel sorts after cur. Errors wrap [ErrBump],
// [ErrInvalid] or [ErrUnknownScheme].
func Next(cur Version, o NextOptions) (Version, error) {
	var (
		next Version
		err  error
	)
	switch cur.Scheme {
	case SemverSecurity:
		next, err = nextSemver(cur, o)
	case Calver:
		next, err = nextCalver(cur, o)
	default:
		err = fmt.Errorf("scheme %q: %w", cur.Scheme, ErrUnknownScheme)
	}
	if err == nil {
		next.Scheme = cur.Scheme
		err = nextEvacuation(&next, cur, o)
	}
	if err == nil {
		err = checkNext(next, cur, o.Bump)
	}
	if err != nil {
		return Version{}, fmt.Errorf("computing %s bump of %s: %w", o.Bump, cur, err)
	}
	return next, nil
}

func nextSemver(cur Version, o NextOptions) (Version, error) {
	switch o.Bump {
	case BumpMajor:
		x, err := inc(cur.Major)
		return Version{Major: x}, err
	case BumpMinor:
		y, err := inc(cur.Minor)
		return Version{Major: cur.Major, Minor: y}, err
	case BumpPatch:
		z, err := inc(cur.Patch)
		return Version{Major: cur.Major, Minor: cur.Minor, Patch: z}, err
	case BumpRolling, BumpDevel:
		return Version{}, fmt.Errorf("scheme %s has no %s versions: %w", SemverSecurity, o.Bump, ErrBump)
	}
	return Version{}, unknownBump(o.Bump)
}

func nextCalver(cur Version, o NextOptions) (Version, error) {
	if o.Bump == BumpDevel {
		if o.Serial == "" {
			return Version{}, fmt.Errorf("a devel version needs a serial: %w", ErrBump)
		}
		return Version{Kind: Devel, Serial: o.Serial}, nil
	}
	if cur.Kind == Devel && isBump(o.Bump) {
		return Version{}, fmt.Errorf("a devel version is on no line, so has no %s successor: %w", o.Bump, ErrBump)
	}
	switch o.Bump {
	case BumpMajor, BumpMinor:
		return nextCalverLine(cur, o)
	case BumpPatch:
		if cur.Kind != Stable {
			return Version{}, fmt.Errorf("a hotfix needs a stable version, not a %s one: %w", cur.Kind, ErrBump)
		}
		p, err := inc(cur.Patch)
		return Version{Major: cur.Major, Minor: cur.Minor, Patch: p}, err
	case BumpRolling:
		return nextRolling(cur)
	}
	return Version{}, unknownBump(o.Bump)
}

func nextCalverLine(cur Version, o NextOptions) (Version, error) {
	if o.Date.IsZero() {
		return Version{}, fmt.Errorf("a new calver line needs a release date: %w", ErrBump)
	}
	d := o.Date.UTC()
	next := Version{Major: cur.Major, Minor: d.Year()*10000 + int(d.Month())*100 + d.Day()}
	if o.Bump == BumpMajor {
		x, err := inc(cur.Major)
		if err != nil {
			return Version{}, err
		}
		next.Major = x
	}
	if comparePrecedence(next, cur) <= 0 {
		return Version{}, fmt.Errorf("new line %s on %s would not follow %s: %w",
			next.Line(), d.Format(time.DateOnly), cur, ErrBump)
	}
	return next, nil
}

func nextRolling(cur Version) (Version, error) {
	if cur.Kind == Rolling {
		w, err := inc(cur.Build)
		return Version{Kind: Rolling, Major: cur.Major, Minor: cur.Minor, Build: w}, err
	}
	m, err := inc(cur.Minor)
	return Version{Kind: Rolling, Major: cur.Major, Minor: m, Build: 1}, err
}

func nextEvacuation(next *Version, cur Version, o NextOptions) error {
	switch o.Bump {
	case BumpMajor, BumpMinor:
		next.HasEvacuation, next.Evacuation = true, 0
		return nil
	case BumpPatch:
		next.HasEvacuation, next.Evacuation = cur.HasEvacuation, cur.Evacuation
		if !o.Disruptive || !cur.HasEvacuation {
			return nil
		}
		n, err := inc(cur.Evacuation)
		next.Evacuation = n
		return err
	}
	next.HasEvacuation, next.Evacuation = cur.HasEvacuation, cur.Evacuation
	return nil
}

// checkNext checks that next is a valid version of its scheme and, unless
// it is a devel build, newer than cur.
func checkNext(next, cur Version, b Bump) error {
	if _, err := Parse(next.Scheme, next.String()); err != nil {
		return err
	}
	if b != BumpDevel && Compare(next, cur) <= 0 {
		return fmt.Errorf("%s would not follow %s: %w", next, cur, ErrBump)
	}
	return nil
}

func isBump(b Bump) bool {
	switch b {
	case BumpMajor, BumpMinor, BumpPatch, BumpRolling, BumpDevel:
		return true
	}
	return false
}

func unknownBump(b Bump) error {
	return fmt.Errorf("unknown bump %q (want %s, %s, %s, %s or %s): %w",
		b, BumpMajor, BumpMinor, BumpPatch, BumpRolling, BumpDevel, ErrBump)
}

func inc(n int) (int, error) {
	if n == math.MaxInt {
		return 0, fmt.Errorf("%d cannot be incremented: %w", n, ErrBump)
	}
	return n + 1, nil
}
