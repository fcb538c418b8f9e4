package version

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var day = time.Date(2026, 12, 2, 7, 30, 0, 0, time.UTC)

func TestNext(t *testing.T) {
	later := day.AddDate(0, 0, 13)
	// 2026-12-02 23:30 in UTC-5 is 2026-12-03 04:30 UTC.
	otherZone := time.Date(2026, 12, 2, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
	tests := []struct {
		scheme, cur string
		o           NextOptions
		want        string
	}{
		{semver, "1.2.3", NextOptions{Bump: BumpMajor}, "2.0.0+evacuation0"},
		{semver, "1.2.3+evacuation4", NextOptions{Bump: BumpMajor}, "2.0.0+evacuation0"},
		{semver, "1.2.3+evacuation4", NextOptions{Bump: BumpMinor}, "1.3.0+evacuation0"},
		{semver, "1.2.3", NextOptions{Bump: BumpMinor}, "1.3.0+evacuation0"},
		{semver, "0.0.0", NextOptions{Bump: BumpMinor, Disruptive: true}, "0.1.0+evacuation0"},
		{semver, "1.2.3+evacuation4", NextOptions{Bump: BumpPatch}, "1.2.4+evacuation4"},
		{semver, "1.2.3+evacuation4", NextOptions{Bump: BumpPatch, Disruptive: true}, "1.2.4+evacuation5"},
		{semver, "1.2.3", NextOptions{Bump: BumpPatch}, "1.2.4"},
		{semver, "1.2.3", NextOptions{Bump: BumpPatch, Disruptive: true}, "1.2.4"},
		{semver, "1.2.9", NextOptions{Bump: BumpPatch}, "1.2.10"},
		{calver, "3.20261120.2+evacuation1", NextOptions{Bump: BumpMajor, Date: day}, "4.20261202.0+evacuation0"},
		{calver, "3.20261202.2+evacuation1", NextOptions{Bump: BumpMajor, Date: day}, "4.20261202.0+evacuation0"},
		{calver, "3.20261203.0-rolling.5", NextOptions{Bump: BumpMajor, Date: day}, "4.20261202.0+evacuation0"},
		{calver, "3.20261120.2+evacuation1", NextOptions{Bump: BumpMinor, Date: day}, "3.20261202.0+evacuation0"},
		{calver, "3.20261120.2", NextOptions{Bump: BumpMinor, Date: otherZone}, "3.20261203.0+evacuation0"},
		{calver, "3.20261203.0-rolling.5", NextOptions{Bump: BumpMinor, Date: later}, "3.20261215.0+evacuation0"},
		{calver, "3.20261202.0-rolling.5", NextOptions{Bump: BumpMinor, Date: day}, "3.20261202.0+evacuation0"},
		{calver, "3.20261202.0", NextOptions{Bump: BumpPatch}, "3.20261202.1"},
		{calver, "3.20261202.1+evacuation2", NextOptions{Bump: BumpPatch}, "3.20261202.2+evacuation2"},
		{calver, "3.20261202.1+evacuation2", NextOptions{Bump: BumpPatch, Disruptive: true}, "3.20261202.2+evacuation3"},
		{calver, "3.20261202.1", NextOptions{Bump: BumpPatch, Disruptive: true}, "3.20261202.2"},
		{calver, "3.20261202.1+evacuation2", NextOptions{Bump: BumpRolling}, "3.20261203.0-rolling.1+evacuation2"},
		{calver, "3.20261231.0", NextOptions{Bump: BumpRolling}, "3.20261232.0-rolling.1"},
		{calver, "3.20261203.0-rolling.1+evacuation2", NextOptions{Bump: BumpRolling}, "3.20261203.0-rolling.2+evacuation2"},
		{calver, "3.20261203.0-rolling.9", NextOptions{Bump: BumpRolling, Disruptive: true}, "3.20261203.0-rolling.10"},
		{calver, "3.20261202.1+evacuation2", NextOptions{Bump: BumpDevel, Serial: "2026120207"}, "devel.2026120207+evacuation2"},
		{calver, "devel.2026120207", NextOptions{Bump: BumpDevel, Serial: "2026120207.1"}, "devel.2026120207.1"},
		{calver, "3.20261203.0-rolling.1", NextOptions{Bump: BumpDevel, Serial: "2026120207.1"}, "devel.2026120207.1"},
	}
	for _, tt := range tests {
		cur := MustParse(tt.scheme, tt.cur)
		got, err := Next(cur, tt.o)
		if err != nil {
			t.Errorf("Next(%s, %+v): %v", cur, tt.o, err)
			continue
		}
		if want := MustParse(tt.scheme, tt.want); got != want {
			t.Errorf("Next(%s, %+v) = %s, want %s", cur, tt.o, got, want)
		}
		if tt.o.Bump != BumpDevel && Compare(got, cur) <= 0 {
			t.Errorf("Next(%s, %+v) = %s does not sort after it", cur, tt.o, got)
		}
	}
}

func TestNextErrors(t *testing.T) {
	tests := []struct {
		cur  Version
		o    NextOptions
		is   error
		want string
	}{
		{MustParse(semver, "1.2.3"), NextOptions{Bump: BumpRolling}, ErrBump, "computing rolling bump of 1.2.3: scheme semver-security has no rolling versions"},
		{MustParse(semver, "1.2.3"), NextOptions{Bump: BumpDevel, Serial: "2026120207"}, ErrBump, "has no devel versions"},
		{MustParse(semver, "1.2.3"), NextOptions{Bump: "hotfix"}, ErrBump, `unknown bump "hotfix" (want major, minor, patch, rolling or devel)`},
		{MustParse(semver, "1.2.3"), NextOptions{}, ErrBump, `unknown bump ""`},
		{Version{Scheme: semver, Patch: 1<<63 - 1}, NextOptions{Bump: BumpPatch}, ErrBump, "cannot be incremented"},
		{MustParse(calver, "1.20261202.0+evacuation9223372036854775807"), NextOptions{Bump: BumpPatch, Disruptive: true}, ErrBump, "cannot be incremented"},
		{Version{Scheme: "semver"}, NextOptions{Bump: BumpPatch}, ErrUnknownScheme, `scheme "semver"`},
		{MustParse(calver, "1.20261202.0"), NextOptions{Bump: BumpMinor}, ErrBump, "a new calver line needs a release date"},
		{MustParse(calver, "1.20261202.0"), NextOptions{Bump: BumpMajor}, ErrBump, "needs a release date"},
		{MustParse(calver, "1.20261202.0"), NextOptions{Bump: BumpMinor, Date: day}, ErrBump, "new line 1.20261202 on 2026-12-02 would not follow 1.20261202.0"},
		{MustParse(calver, "1.20261202.3"), NextOptions{Bump: BumpMinor, Date: day.AddDate(0, 0, -1)}, ErrBump, "would not follow"},
		{MustParse(calver, "1.20261203.0-rolling.2"), NextOptions{Bump: BumpMinor, Date: day}, ErrBump, "new line 1.20261202 on 2026-12-02 would not follow 1.20261203.0-rolling.2"},
		{MustParse(calver, "1.20261202.0"), NextOptions{Bump: BumpMinor, Date: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalid, "want a date YYYYMMDD"},
		{MustParse(calver, "1.20261203.0-rolling.2"), NextOptions{Bump: BumpPatch}, ErrBump, "a hotfix needs a stable version, not a rolling one"},
		{MustParse(calver, "devel.2026120207"), NextOptions{Bump: BumpPatch}, ErrBump, "a devel version is on no line, so has no patch successor"},
		{MustParse(calver, "devel.2026120207"), NextOptions{Bump: BumpRolling}, ErrBump, "no rolling successor"},
		{MustParse(calver, "devel.2026120207"), NextOptions{Bump: BumpMinor, Date: day}, ErrBump, "no minor successor"},
		{MustParse(calver, "devel.2026120207"), NextOptions{Bump: BumpMajor, Date: day}, ErrBump, "no major successor"},
		{MustParse(calver, "devel.2026120207"), NextOptions{Bump: "weekly"}, ErrBump, `unknown bump "weekly"`},
		{MustParse(calver, "1.20261202.0"), NextOptions{Bump: BumpDevel}, ErrBump, "a devel version needs a serial"},
		{MustParse(calver, "1.20261202.0"), NextOptions{Bump: BumpDevel, Serial: "2026-12-02"}, ErrInvalid, `serial "2026-12-02": want YYYYMMDDHH`},
	}
	for _, tt := range tests {
		got, err := Next(tt.cur, tt.o)
		if err == nil {
			t.Errorf("Next(%s, %+v) = %s, want an error", tt.cur, tt.o, got)
			continue
		}
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Next(%s, %+v) error %q, want %v containing %q", tt.cur, tt.o, err, tt.is, tt.want)
		}
	}
}
