package version

import (
	"errors"
	"strings"
	"testing"
)

const (
	semver = SemverSecurity
	calver = Calver
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		scheme, in string
		want       Version
	}{
		{semver, "0.0.0", Version{Scheme: semver}},
		{semver, "1.2.3", Version{Scheme: semver, Major: 1, Minor: 2, Patch: 3}},
		{semver, "10.20.30", Version{Scheme: semver, Major: 10, Minor: 20, Patch: 30}},
		{semver, "1.2.3+evacuation2", Version{Scheme: semver, Major: 1, Minor: 2, Patch: 3, Evacuation: 2, HasEvacuation: true}},
		{semver, "1.2.3+evacuation0", Version{Scheme: semver, Major: 1, Minor: 2, Patch: 3, HasEvacuation: true}},
		{semver, "1.20261202.0", Version{Scheme: semver, Major: 1, Minor: 20261202}},
		{calver, "3.20261202.0", Version{Scheme: calver, Major: 3, Minor: 20261202}},
		{calver, "3.20240229.7+evacuation11", Version{Scheme: calver, Major: 3, Minor: 20240229, Patch: 7, Evacuation: 11, HasEvacuation: true}},
		{calver, "0.10000101.0", Version{Scheme: calver, Minor: 10000101}},
		{calver, "3.20261203.0-rolling.1", Version{Scheme: calver, Kind: Rolling, Major: 3, Minor: 20261203, Build: 1}},
		{calver, "3.20261232.0-rolling.12+evacuation1", Version{Scheme: calver, Kind: Rolling, Major: 3, Minor: 20261232, Build: 12, Evacuation: 1, HasEvacuation: true}},
		{calver, "0.1.0-rolling.1", Version{Scheme: calver, Kind: Rolling, Minor: 1, Build: 1}},
		{calver, "devel.2026120207", Version{Scheme: calver, Kind: Devel, Serial: "2026120207"}},
		{calver, "devel.2026120207.1", Version{Scheme: calver, Kind: Devel, Serial: "2026120207.1"}},
		{calver, "devel.2024022923.15+evacuation3", Version{Scheme: calver, Kind: Devel, Serial: "2024022923.15", Evacuation: 3, HasEvacuation: true}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.scheme, tt.in)
		if err != nil {
			t.Errorf("Parse(%s, %q): %v", tt.scheme, tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%s, %q) = %+v, want %+v", tt.scheme, tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("Parse(%s, %q).String() = %q", tt.scheme, tt.in, s)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		scheme, in string
		want       string // in the error message
	}{
		{semver, "", `parsing semver-security version "": want MAJOR.MINOR.SECURITY: invalid version`},
		{semver, "1.2", "want MAJOR.MINOR.SECURITY"},
		{semver, "1.2.3.4", "want MAJOR.MINOR.SECURITY"},
		{semver, "v1.2.3", `"v1" in MAJOR.MINOR.SECURITY: want a decimal number without leading zeros`},
		{semver, "01.2.3", `"01" in MAJOR.MINOR.SECURITY: want a decimal number without leading zeros`},
		{semver, "1.02.3", `"02"`},
		{semver, "1.2.03", `"03"`},
		{semver, "1..3", `"" in MAJOR.MINOR.SECURITY`},
		{semver, "-1.2.3", `"-1"`},
		{semver, "+1.2.3", `build metadata "+1.2.3": want +evacuationN`},
		{semver, "1.2.3 ", `"3 "`},
		{semver, " 1.2.3", `" 1"`},
		{semver, "1.2.3-rc", `"3-rc" in MAJOR.MINOR.SECURITY`},
		{semver, "1.2.3-rc.1", "want MAJOR.MINOR.SECURITY"},
		{semver, "1.2.3-rolling.1", "want MAJOR.MINOR.SECURITY"},
		{semver, "devel.2026120207", "want MAJOR.MINOR.SECURITY"},
		{semver, "1.2.99999999999999999999", `"99999999999999999999" in MAJOR.MINOR.SECURITY: number out of range`},
		{semver, "1.2.3+", `build metadata "+": want +evacuationN`},
		{semver, "1.2.3+build5", `build metadata "+build5": want +evacuationN`},
		{semver, "1.2.3+evacuation", `disruption serial "": want a decimal number without leading zeros`},
		{semver, "1.2.3+evacuation01", `disruption serial "01"`},
		{semver, "1.2.3+evacuation-1", `disruption serial "-1"`},
		{semver, "1.2.3+evacuation1+evacuation2", `disruption serial "1+evacuation2"`},
		{semver, "1.2.3+Evacuation1", `want +evacuationN`},
		{calver, "", "want MAJOR.YYYYMMDD.PATCH, MAJOR.MINOR.0-rolling.W or devel.SERIAL"},
		{calver, "1.2.3", "minor 2: want a date YYYYMMDD"},
		{calver, "1.20261301.0", "minor 20261301: want a date YYYYMMDD"},
		{calver, "1.20260230.0", "minor 20260230: want a date YYYYMMDD"},
		{calver, "1.20250229.0", "minor 20250229: want a date YYYYMMDD"},
		{calver, "1.2026120.0", "minor 2026120: want a date YYYYMMDD"},
		{calver, "1.202612020.0", "minor 202612020: want a date YYYYMMDD"},
		{calver, "1.02026120.0", `"02026120"`},
		{calver, "1.20261202", "want MAJOR.YYYYMMDD.PATCH"},
		{calver, "1.20261202.01", `"01"`},
		{calver, "1.20261203.0-rolling.0", "want MAJOR.MINOR.0-rolling.W with W at least 1 and patch 0"},
		{calver, "1.20261203.1-rolling.1", "with W at least 1 and patch 0"},
		{calver, "1.20261203.0-rolling.01", `rolling build "01": want a decimal number`},
		{calver, "1.20261203.0-rolling", `pre-release "rolling": want rolling.W`},
		{calver, "1.20261203.0-beta.1", `pre-release "beta.1": want rolling.W`},
		{calver, "1.20261203.0-rolling.1.2", `rolling build "1.2"`},
		{calver, "1.20261203-rolling.1", "want MAJOR.MINOR.0-rolling.W"},
		{calver, "1.20261203.0-rolling.1+evacuationX", `disruption serial "X"`},
		{calver, "devel", "want MAJOR.YYYYMMDD.PATCH"},
		{calver, "devel.", `serial "": want YYYYMMDDHH or YYYYMMDDHH.N`},
		{calver, "devel.202612020", `serial "202612020": want YYYYMMDDHH`},
		{calver, "devel.20261202071", `serial "20261202071": want YYYYMMDDHH`},
		{calver, "devel.2026120224", `serial "2026120224": 2026120224 is not a valid UTC date and hour`},
		{calver, "devel.2026023107", "not a valid UTC date and hour"},
		{calver, "devel.202612020x", "want YYYYMMDDHH or YYYYMMDDHH.N"},
		{calver, "devel.2026120207.", `serial "2026120207.": want a suffix .N with N a number from 1`},
		{calver, "devel.2026120207.0", "want a suffix .N with N a number from 1"},
		{calver, "devel.2026120207.01", "want a suffix .N"},
		{calver, "devel.2026120207.1.2", "want a suffix .N"},
		{calver, "devel.2026120207+x", `build metadata "+x"`},
		{calver, "DEVEL.2026120207", "want MAJOR.YYYYMMDD.PATCH"},
	}
	for _, tt := range tests {
		v, err := Parse(tt.scheme, tt.in)
		if err == nil {
			t.Errorf("Parse(%s, %q) = %+v, want an error", tt.scheme, tt.in, v)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%s, %q): %v does not wrap ErrInvalid", tt.scheme, tt.in, err)
		}
		prefix := "parsing " + tt.scheme + " version "
		if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.want) {
			t.Errorf("Parse(%s, %q) error %q, want it to start with %q and contain %q", tt.scheme, tt.in, msg, prefix, tt.want)
		}
	}
}

func TestParseUnknownScheme(t *testing.T) {
	for _, scheme := range []string{"", "semver", "CalVer", "calver "} {
		_, err := Parse(scheme, "1.2.3")
		if !errors.Is(err, ErrUnknownScheme) || errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q, ...) error %v, want ErrUnknownScheme only", scheme, err)
		}
		if err != nil && !strings.Contains(err.Error(), "semver-security, calver") {
			t.Errorf("Parse(%q, ...) error %q does not list the schemes", scheme, err)
		}
	}
}

func TestSchemes(t *testing.T) {
	got := Schemes()
	if len(got) != 2 || got[0] != SemverSecurity || got[1] != Calver {
		t.Errorf("Schemes() = %q", got)
	}
	got[0] = "changed"
	if Schemes()[0] != SemverSecurity {
		t.Error("Schemes() returns a shared slice")
	}
}

func TestMustParse(t *testing.T) {
	if v := MustParse(semver, "1.2.3"); v.Patch != 3 {
		t.Errorf("MustParse = %+v", v)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse of an invalid version did not panic")
		}
	}()
	MustParse(semver, "1.2")
}

func TestString(t *testing.T) {
	tests := []struct {
		v    Version
		want string
	}{
		{Version{}, "0.0.0"},
		{Version{Scheme: semver, Major: 1, Minor: 2, Patch: 3}, "1.2.3"},
		{Version{Scheme: semver, Major: 1, Minor: 2, Patch: 3, HasEvacuation: true}, "1.2.3+evacuation0"},
		{Version{Scheme: semver, Major: 1, Evacuation: 4}, "1.0.0"}, // no HasEvacuation: no metadata
		{Version{Scheme: calver, Major: 2, Minor: 20261202, Patch: 1, Evacuation: 4, HasEvacuation: true}, "2.20261202.1+evacuation4"},
		{Version{Scheme: calver, Kind: Rolling, Major: 2, Minor: 20261203, Build: 7}, "2.20261203.0-rolling.7"},
		{Version{Scheme: calver, Kind: Devel, Serial: "2026120207.2", HasEvacuation: true, Evacuation: 1}, "devel.2026120207.2+evacuation1"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Stable: "stable", Rolling: "rolling", Devel: "devel", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		scheme, a, b string
		line         string // of a
		same         bool
	}{
		{semver, "1.2.3", "1.2.0", "1.2", true},
		{semver, "1.2.3+evacuation1", "1.2.4+evacuation2", "1.2", true},
		{semver, "1.2.3", "1.3.3", "1.2", false},
		{semver, "1.2.3", "2.2.3", "1.2", false},
		{calver, "3.20261202.4", "3.20261202.0", "3.20261202", true},
		{calver, "3.20261203.0-rolling.2", "3.20261203.1", "3.20261203", true},
		{calver, "3.20261203.0-rolling.2", "3.20261202.1", "3.20261203", false},
		{calver, "devel.2026120207", "devel.2026120207", "", false},
		{calver, "devel.2026120207", "0.0.0-rolling.1", "", false},
	}
	for _, tt := range tests {
		a, b := tryParse(t, tt.scheme, tt.a), tryParse(t, tt.scheme, tt.b)
		if got := a.Line(); got != tt.line {
			t.Errorf("%s.Line() = %q, want %q", a, got, tt.line)
		}
		if got := a.SameLine(b); got != tt.same {
			t.Errorf("%s.SameLine(%s) = %v, want %v", a, b, got, tt.same)
		}
		if got := b.SameLine(a); got != tt.same {
			t.Errorf("%s.SameLine(%s) = %v, want %v", b, a, got, tt.same)
		}
	}
	s, c := MustParse(semver, "1.20261202.0"), MustParse(calver, "1.20261202.0")
	if s.SameLine(c) {
		t.Errorf("versions of different schemes are on the same line")
	}
}

// tryParse parses s, failing the test if it is invalid.
func tryParse(t *testing.T, scheme, s string) Version {
	t.Helper()
	v, err := Parse(scheme, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
