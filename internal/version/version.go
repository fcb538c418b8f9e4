// Package version implements the version schemes of bakery's products:
// parsing, formatting, ordering, computing the next version and planning
// upgrade paths. It does no I/O.
//
// # Schemes
//
// A product picks one scheme:
//
//   - semver-security: MAJOR.MINOR.SECURITY, e.g. 1.4.2. A new major breaks
//     compatibility, a new minor adds components or features, and the third
//     number is reserved for security releases. Every version is stable.
//   - calver: stable versions are MAJOR.YYYYMMDD.PATCH, e.g. 3.20261202.0,
//     where the minor is the release date (UTC) of the line and PATCH counts
//     hotfixes on it. Rolling builds towards the next line are
//     X.(Y+1).0-rolling.W, e.g. 3.20261203.0-rolling.4: a pre-release of
//     X.(Y+1).0, so it sorts after every X.Y.P and before any X.(Y+1).0 and
//     later stable line; rolling builds order by W. Development builds are
//     devel.SERIAL, SERIAL being the build serial YYYYMMDDHH or
//     YYYYMMDDHH.N (e.g. devel.2026120207.1). Devel builds are not on any
//     upgrade line: they order by serial among themselves and sort before
//     every stable and rolling version.
//
// Numbers are decimal without leading zeros, so each version has exactly
// one spelling: formatting a parsed version gives back the input.
//
// # Disruption serial
//
// A version may carry the build metadata +evacuationN, e.g.
// 1.4.2+evacuation3. N is the disruption serial: it changes when moving to
// the version needs machines drained (evacuated) or recreated rather than
// updated in place. Moving between two versions is disruptive when their
// serials differ or when either lacks one (unknown, so assume the worst);
// see [NeedsDisruption]. A new minor or major line starts at +evacuation0;
// a patch keeps its predecessor's serial, or increments it when the patch
// is disruptive. The metadata does not affect precedence: it only breaks
// ties, so that the order stays total and two versions compare equal
// exactly when they are spelt the same.
//
// # Upgrade paths
//
// A machine moves from one version to another in hops ([UpgradePath]):
// patches are free (one hop goes straight to the newest patch wanted),
// minors are taken one line at a time (each intermediate hop lands on the
// newest stable version of the next line that exists), and the lines of
// the current major are climbed before crossing to the next major. Crossing
// a major is one hop, to the newest version of the lowest line of the next
// major, and only happens when explicitly allowed. There are no downgrades.
package version

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Scheme names.
const (
	SemverSecurity = "semver-security" // MAJOR.MINOR.SECURITY
	Calver         = "calver"          // stable MAJOR.YYYYMMDD.PATCH; rolling X.(Y+1).0-rolling.W; devel "devel.SERIAL"
)

var (
	// ErrInvalid is wrapped by errors about malformed versions.
	ErrInvalid = errors.New("invalid version")
	// ErrUnknownScheme is wrapped by errors about scheme names that are
	// not one of [Schemes].
	ErrUnknownScheme = errors.New("unknown version scheme")
)

// Schemes returns the names of the known schemes.
func Schemes() []string { return []string{SemverSecurity, Calver} }

// Kind says where a version sits in a product's life cycle.
type Kind int

// Kinds. The zero Kind is Stable.
const (
	Stable  Kind = iota // a release on a line
	Rolling             // calver: a pre-release of the next line
	Devel               // calver: a development build, on no line
)

func (k Kind) String() string {
	switch k {
	case Stable:
		return "stable"
	case Rolling:
		return "rolling"
	case Devel:
		return "devel"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Version is a parsed product version.
type Version struct {
	Scheme              string
	Kind                Kind
	Major, Minor, Patch int    // semver-security: Patch is the security number; calver: Minor is YYYYMMDD, Patch the hotfix count
	Build               int    // calver rolling: W
	Serial              string // calver devel: the build serial (e.g. "2026120207" or "2026120207.1")
	Evacuation          int    // the disruption serial from "+evacuationN"
	HasEvacuation       bool   // false: no "+evacuationN" metadata (treated as needing disruption)
}

const evacuationPrefix = "+evacuation"

// String formats v in its scheme's canonical spelling.
func (v Version) String() string {
	var s string
	switch v.Kind {
	case Devel:
		s = "devel." + v.Serial
	case Rolling:
		s = fmt.Sprintf("%d.%d.%d-rolling.%d", v.Major, v.Minor, v.Patch, v.Build)
	default:
		s = fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	}
	if v.HasEvacuation {
		s += evacuationPrefix + strconv.Itoa(v.Evacuation)
	}
	return s
}

// Line returns "MAJOR.MINOR", the release line a stable-X.Y channel is
// named after; a rolling version's line is the one it pre-releases. Devel
// versions are on no line: Line returns "".
func (v Version) Line() string {
	if v.Kind == Devel {
		return ""
	}
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
}

// SameLine reports whether v and w are of the same scheme and on the same
// release line. A devel version is on no line.
func (v Version) SameLine(w Version) bool {
	return v.Scheme == w.Scheme && v.Kind != Devel && w.Kind != Devel &&
		v.Major == w.Major && v.Minor == w.Minor
}

// MustParse is like [Parse] but panics on error. It is meant for tests and
// constants.
func MustParse(scheme, s string) Version {
	v, err := Parse(scheme, s)
	if err != nil {
		panic(err)
	}
	return v
}

// Parse parses s as a version of scheme. Errors wrap [ErrInvalid] and say
// what was expected, or [ErrUnknownScheme].
func Parse(scheme, s string) (Version, error) {
	var (
		v   Version
		err error
	)
	switch scheme {
	case SemverSecurity:
		v, err = parseSemver(s)
	case Calver:
		v, err = parseCalver(s)
	default:
		return Version{}, fmt.Errorf("parsing version %q: scheme %q is not one of %s: %w",
			s, scheme, strings.Join(Schemes(), ", "), ErrUnknownScheme)
	}
	if err != nil {
		return Version{}, fmt.Errorf("parsing %s version %q: %w: %w", scheme, s, err, ErrInvalid)
	}
	v.Scheme = scheme
	return v, nil
}

func parseSemver(s string) (Version, error) {
	core, v, err := cutEvacuation(s)
	if err != nil {
		return Version{}, err
	}
	nums, err := numbers(core, "MAJOR.MINOR.SECURITY")
	if err != nil {
		return Version{}, err
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, nil
}

func parseCalver(s string) (Version, error) {
	core, v, err := cutEvacuation(s)
	if err != nil {
		return Version{}, err
	}
	if serial, ok := strings.CutPrefix(core, "devel."); ok {
		if err := checkSerial(serial); err != nil {
			return Version{}, err
		}
		v.Kind, v.Serial = Devel, serial
		return v, nil
	}
	if head, build, ok := strings.Cut(core, "-"); ok {
		return parseRolling(v, head, build)
	}
	nums, err := numbers(core, "MAJOR.YYYYMMDD.PATCH, MAJOR.MINOR.0-rolling.W or devel.SERIAL")
	if err != nil {
		return Version{}, err
	}
	if err := checkDate(nums[1]); err != nil {
		return Version{}, err
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, nil
}

func parseRolling(v Version, head, build string) (Version, error) {
	const want = "MAJOR.MINOR.0-rolling.W"
	nums, err := numbers(head, want)
	if err != nil {
		return Version{}, err
	}
	digits, ok := strings.CutPrefix(build, "rolling.")
	if !ok {
		return Version{}, fmt.Errorf("pre-release %q: want rolling.W", build)
	}
	w, err := number(digits)
	if err != nil {
		return Version{}, fmt.Errorf("rolling build %q: %w", digits, err)
	}
	if w < 1 || nums[2] != 0 {
		return Version{}, fmt.Errorf("want %s with W at least 1 and patch 0", want)
	}
	v.Kind, v.Major, v.Minor, v.Patch, v.Build = Rolling, nums[0], nums[1], nums[2], w
	return v, nil
}

// cutEvacuation splits "+evacuationN" off s, returning the rest and a
// Version holding the metadata.
func cutEvacuation(s string) (string, Version, error) {
	core, meta, ok := strings.Cut(s, "+")
	if !ok {
		return s, Version{}, nil
	}
	digits, ok := strings.CutPrefix("+"+meta, evacuationPrefix)
	if !ok {
		return "", Version{}, fmt.Errorf("build metadata %q: want +evacuationN", "+"+meta)
	}
	n, err := number(digits)
	if err != nil {
		return "", Version{}, fmt.Errorf("disruption serial %q: %w", digits, err)
	}
	return core, Version{Evacuation: n, HasEvacuation: true}, nil
}

// numbers parses "A.B.C" into three numbers; want names the expected form.
func numbers(s, want string) ([3]int, error) {
	var nums [3]int
	parts := strings.Split(s, ".")
	if len(parts) != len(nums) {
		return nums, fmt.Errorf("want %s", want)
	}
	for i, p := range parts {
		n, err := number(p)
		if err != nil {
			return nums, fmt.Errorf("%q in %s: %w", p, want, err)
		}
		nums[i] = n
	}
	return nums, nil
}

var errNumber = errors.New("want a decimal number without leading zeros")

// number parses a non-negative decimal number without sign or leading zeros.
func number(s string) (int, error) {
	if s == "" || !allDigits(s) || (len(s) > 1 && s[0] == '0') {
		return 0, errNumber
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New("number out of range")
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkDate checks that n is a valid date YYYYMMDD with a four-digit year.
func checkDate(n int) error {
	y, m, d := n/10000, n/100%100, n%100
	if y < 1000 || y > 9999 || !validDate(y, m, d) {
		return fmt.Errorf("minor %d: want a date YYYYMMDD", n)
	}
	return nil
}

func validDate(y, m, d int) bool {
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// checkSerial checks a build serial: YYYYMMDDHH (UTC) optionally followed
// by ".N", N at least 1.
func checkSerial(s string) error {
	base, suffix, hasSuffix := strings.Cut(s, ".")
	if len(base) != 10 || !allDigits(base) {
		return fmt.Errorf("serial %q: want YYYYMMDDHH or YYYYMMDDHH.N", s)
	}
	y, _ := strconv.Atoi(base[0:4])
	m, _ := strconv.Atoi(base[4:6])
	d, _ := strconv.Atoi(base[6:8])
	h, _ := strconv.Atoi(base[8:10])
	if !validDate(y, m, d) || h > 23 {
		return fmt.Errorf("serial %q: %s is not a valid UTC date and hour", s, base)
	}
	if !hasSuffix {
		return nil
	}
	if n, err := number(suffix); err != nil || n < 1 {
		return fmt.Errorf("serial %q: want a suffix .N with N a number from 1", s)
	}
	return nil
}
