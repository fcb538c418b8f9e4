package version

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func parseAll(scheme string, ss ...string) []Version {
	vs := make([]Version, len(ss))
	for i, s := range ss {
		vs[i] = MustParse(scheme, s)
	}
	return vs
}

// hopString spells a hop "FROM>TO" with "!" when it is disruptive and
// "M" when it crosses majors.
func hopString(h Hop) string {
	s := h.From.String() + ">" + h.To.String()
	if h.Disruptive {
		s += "!"
	}
	if h.Major {
		s += "M"
	}
	return s
}

func TestUpgradePath(t *testing.T) {
	semverAvail := parseAll(semver,
		"1.2.0+evacuation0", "1.2.1+evacuation0", "1.2.2+evacuation1",
		"1.3.0+evacuation0", "1.3.1+evacuation0", "1.3.2+evacuation1",
		// no 1.4 line
		"1.5.0+evacuation0", "1.5.1+evacuation0",
		"2.1.0+evacuation0", "2.1.3+evacuation0", "2.2.0+evacuation0",
		"3.0.0",
	)
	calverAvail := parseAll(calver,
		"1.20261101.0+evacuation0", "1.20261101.1+evacuation0",
		"1.20261115.0-rolling.1+evacuation0", "1.20261115.0+evacuation0",
		"1.20261201.0+evacuation0", "1.20261201.1+evacuation1",
		"devel.2026120207",
	)
	tests := []struct {
		name       string
		scheme     string
		avail      []Version
		from, to   string
		allowMajor bool
		want       string // hops, space separated
	}{
		{"same version", semver, semverAvail, "1.2.0+evacuation0", "1.2.0+evacuation0", false, ""},
		{"patch jump", semver, semverAvail, "1.2.0+evacuation0", "1.2.2+evacuation1", false, "1.2.0+evacuation0>1.2.2+evacuation1!"},
		{"patch jump to unlisted", semver, nil, "1.2.0+evacuation0", "1.2.7+evacuation0", false, "1.2.0+evacuation0>1.2.7+evacuation0"},
		{"next minor direct", semver, semverAvail, "1.2.1+evacuation0", "1.3.1+evacuation0", false, "1.2.1+evacuation0>1.3.1+evacuation0"},
		{"via newest of middle line", semver, parseAll(semver, "1.3.0", "1.3.4", "1.3.2", "1.4.0", "1.4.1"),
			"1.2.0", "1.4.1", false, "1.2.0>1.3.4! 1.3.4>1.4.1!"},
		{"missing line skipped", semver, semverAvail, "1.2.1+evacuation0", "1.5.1+evacuation0", false,
			"1.2.1+evacuation0>1.3.2+evacuation1! 1.3.2+evacuation1>1.5.1+evacuation0!"},
		{"target not available", semver, semverAvail, "1.2.1+evacuation0", "1.7.0+evacuation0", false,
			"1.2.1+evacuation0>1.3.2+evacuation1! 1.3.2+evacuation1>1.5.1+evacuation0! 1.5.1+evacuation0>1.7.0+evacuation0"},
		{"major allowed", semver, semverAvail, "1.3.0+evacuation0", "2.2.0+evacuation0", true,
			"1.3.0+evacuation0>1.5.1+evacuation0 1.5.1+evacuation0>2.1.3+evacuation0M 2.1.3+evacuation0>2.2.0+evacuation0"},
		{"major straight to target line", semver, semverAvail, "1.5.0+evacuation0", "2.1.0+evacuation0", true,
			"1.5.0+evacuation0>2.1.0+evacuation0M"},
		{"two majors", semver, semverAvail, "1.5.1+evacuation0", "3.0.0", true,
			"1.5.1+evacuation0>2.1.3+evacuation0M 2.1.3+evacuation0>2.2.0+evacuation0 2.2.0+evacuation0>3.0.0!M"},
		{"major to unlisted major", semver, semverAvail, "2.2.0+evacuation0", "5.0.0+evacuation0", true,
			"2.2.0+evacuation0>3.0.0!M 3.0.0>5.0.0+evacuation0!M"},
		{"other schemes and kinds ignored", semver, append(parseAll(calver, "1.20261201.0"), semverAvail[:6]...),
			"1.2.0+evacuation0", "1.20261202.0+evacuation0", false,
			"1.2.0+evacuation0>1.3.2+evacuation1! 1.3.2+evacuation1>1.20261202.0+evacuation0!"},
		{"calver minors", calver, calverAvail, "1.20261101.0+evacuation0", "1.20261201.1+evacuation1", false,
			"1.20261101.0+evacuation0>1.20261115.0+evacuation0 1.20261115.0+evacuation0>1.20261201.1+evacuation1!"},
		{"calver rolling is only a target", calver, calverAvail, "1.20261101.1+evacuation0", "1.20261202.0-rolling.3+evacuation1", false,
			"1.20261101.1+evacuation0>1.20261115.0+evacuation0 1.20261115.0+evacuation0>1.20261201.1+evacuation1! 1.20261201.1+evacuation1>1.20261202.0-rolling.3+evacuation1"},
		// A rolling version is on the line it pre-releases.
		{"calver from rolling", calver, calverAvail, "1.20261115.0-rolling.1+evacuation0", "1.20261201.1+evacuation1", false,
			"1.20261115.0-rolling.1+evacuation0>1.20261201.1+evacuation1!"},
		{"calver from rolling two lines", calver, calverAvail, "1.20261102.0-rolling.1+evacuation0", "1.20261201.1+evacuation1", false,
			"1.20261102.0-rolling.1+evacuation0>1.20261115.0+evacuation0 1.20261115.0+evacuation0>1.20261201.1+evacuation1!"},
		{"calver rolling to its release", calver, calverAvail, "1.20261115.0-rolling.1+evacuation0", "1.20261115.0+evacuation0", false,
			"1.20261115.0-rolling.1+evacuation0>1.20261115.0+evacuation0"},
		{"devel to devel", calver, calverAvail, "devel.2026120207", "devel.2026120207.1+evacuation0", false,
			"devel.2026120207>devel.2026120207.1+evacuation0!"},
	}
	for _, tt := range tests {
		from, to := MustParse(tt.scheme, tt.from), MustParse(tt.scheme, tt.to)
		hops, err := UpgradePath(from, to, tt.avail, tt.allowMajor)
		if err != nil {
			t.Errorf("%s: UpgradePath(%s, %s): %v", tt.name, from, to, err)
			continue
		}
		got := make([]string, len(hops))
		for i, h := range hops {
			got[i] = hopString(h)
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("%s: UpgradePath(%s, %s) =\n  %s\nwant\n  %s", tt.name, from, to, s, tt.want)
		}
	}
}

func TestUpgradePathErrors(t *testing.T) {
	avail := parseAll(semver, "1.3.0", "2.0.0", "2.1.0")
	tests := []struct {
		name     string
		from, to Version
		want     string
	}{
		{"major refused", MustParse(semver, "1.2.0"), MustParse(semver, "2.1.0"),
			"upgrading 1.2.0 to 2.1.0: hop 1.3.0 to 2.0.0 crosses major versions; use --allow-major to allow it: no upgrade path"},
		{"major refused without lines between", MustParse(semver, "1.3.0"), MustParse(semver, "4.0.0"), "hop 1.3.0 to 2.0.0 crosses major versions; use --allow-major"},
		{"downgrade", MustParse(semver, "1.3.1"), MustParse(semver, "1.3.0"), "upgrading 1.3.1 to 1.3.0: that is a downgrade"},
		{"downgrade of metadata", MustParse(semver, "1.3.1+evacuation2"), MustParse(semver, "1.3.1+evacuation1"), "that is a downgrade"},
		{"downgrade across lines", MustParse(semver, "2.0.0"), MustParse(semver, "1.9.0"), "that is a downgrade"},
		{"schemes differ", MustParse(semver, "1.20261202.0"), MustParse(calver, "1.20261203.0"), `schemes "semver-security" and "calver" differ`},
		{"devel to stable", MustParse(calver, "devel.2026120207"), MustParse(calver, "1.20261203.0"), "devel versions are on no upgrade line"},
		{"stable to devel", MustParse(calver, "1.20261203.0"), MustParse(calver, "devel.2026120207"), "devel versions are on no upgrade line"},
		{"devel downgrade", MustParse(calver, "devel.2026120207.1"), MustParse(calver, "devel.2026120207"), "that is a downgrade"},
	}
	for _, tt := range tests {
		hops, err := UpgradePath(tt.from, tt.to, avail, false)
		if err == nil {
			t.Errorf("%s: UpgradePath(%s, %s) = %v, want an error", tt.name, tt.from, tt.to, hops)
			continue
		}
		if !errors.Is(err, ErrNoPath) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: UpgradePath(%s, %s) error %q, want ErrNoPath containing %q", tt.name, tt.from, tt.to, err, tt.want)
		}
	}
}

// TestUpgradePathProperties checks random paths: the hops chain from
// `from` to `to` in ascending order, every intermediate stop is the newest
// stable version of its line in available, and no available line is
// skipped between two stops.
func TestUpgradePathProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	randomSemver := func() Version {
		return Version{Scheme: semver, Major: r.IntN(3), Minor: r.IntN(5), Patch: r.IntN(3), HasEvacuation: true, Evacuation: r.IntN(2)}
	}
	for range 2000 {
		avail := make([]Version, r.IntN(12))
		for i := range avail {
			avail[i] = randomSemver()
		}
		from, to := randomSemver(), randomSemver()
		if Compare(from, to) > 0 {
			from, to = to, from
		}
		hops, err := UpgradePath(from, to, avail, true)
		if err != nil {
			t.Fatalf("UpgradePath(%s, %s, %v): %v", from, to, avail, err)
		}
		checkHops(t, from, to, avail, hops)
	}
}

func checkHops(t *testing.T, from, to Version, avail []Version, hops []Hop) {
	t.Helper()
	cur := from
	for i, h := range hops {
		if h.From != cur || Compare(h.From, h.To) >= 0 || (h.From.SameLine(h.To) && i < len(hops)-1) {
			t.Fatalf("%s to %s: hop %d %s>%s does not chain upwards across lines", from, to, i, h.From, h.To)
		}
		if h.Major != (h.From.Major != h.To.Major) || h.Disruptive != NeedsDisruption(h.From, h.To) {
			t.Fatalf("%s to %s: hop %+v has wrong flags", from, to, h)
		}
		for _, a := range avail {
			between := compareLines(a, h.From) > 0 && compareLines(a, h.To) < 0
			newer := a.SameLine(h.To) && Compare(a, h.To) > 0 && i < len(hops)-1
			if between || newer {
				t.Fatalf("%s to %s: hop %s>%s passes over available %s", from, to, h.From, h.To, a)
			}
		}
		if i < len(hops)-1 && !slices.Contains(avail, h.To) {
			t.Fatalf("%s to %s: stop %s is not available", from, to, h.To)
		}
		cur = h.To
	}
	if cur != to {
		t.Fatalf("%s to %s: path ends at %s", from, to, cur)
	}
}
