package version

import (
	"testing"
)

// fuzzRefs are versions each fuzzed version is compared against.
var fuzzRefs = []Version{
	MustParse(semver, "0.0.0"),
	MustParse(semver, "1.2.3+evacuation1"),
	MustParse(calver, "devel.2026120207.1"),
	MustParse(calver, "1.20261203.0-rolling.2"),
	MustParse(calver, "1.20261203.0"),
	MustParse(calver, "1.20261203.0+evacuation0"),
}

// FuzzParse checks, for both schemes, that whatever parses is canonical
// (formats back to the input), round-trips through Parse, and compares
// reflexively and antisymmetrically.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1.2.3", "0.0.0+evacuation0", "10.0.1+evacuation12", "1.02.3", "1.2", "1.2.3+x",
		"3.20261202.0", "3.20240229.1+evacuation2", "3.20261203.0-rolling.7",
		"3.20261203.0-rolling.0", "devel.2026120207", "devel.2026120207.3+evacuation1",
		"devel.2026120224", "1.99999999999999999999.0",
	} {
		f.Add(false, s)
		f.Add(true, s)
	}
	f.Fuzz(func(t *testing.T, isCalver bool, s string) {
		scheme := SemverSecurity
		if isCalver {
			scheme = Calver
		}
		v, err := Parse(scheme, s)
		if err != nil {
			return
		}
		if got := v.String(); got != s {
			t.Fatalf("Parse(%s, %q).String() = %q", scheme, s, got)
		}
		w, err := Parse(scheme, v.String())
		if err != nil || w != v {
			t.Fatalf("Parse(%s, %q) = %+v, reparsed %+v, %v", scheme, s, v, w, err)
		}
		if Compare(v, v) != 0 {
			t.Fatalf("Compare(%s, %[1]s) != 0", v)
		}
		for _, r := range fuzzRefs {
			if a, b := Compare(v, r), Compare(r, v); a != -b || (a == 0) != (v == r) {
				t.Fatalf("Compare(%s, %s) = %d, reversed %d", v, r, a, b)
			}
		}
	})
}
