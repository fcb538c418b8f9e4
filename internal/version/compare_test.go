package version

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCompareOrder checks every pair of each list, which is in strictly
// ascending order.
func TestCompareOrder(t *testing.T) {
	lists := []struct {
		scheme string
		asc    []string
	}{
		{semver, []string{
			"0.0.0", "0.0.1", "0.1.0", "0.1.1", "0.2.0", "0.10.0", "1.0.0",
			"1.2.3", "1.2.3+evacuation0", "1.2.3+evacuation1", "1.2.3+evacuation10",
			"1.2.4", "1.2.10+evacuation0", "1.3.0", "2.0.0", "10.0.0",
		}},
		{calver, []string{
			"devel.2026113023", "devel.2026120207", "devel.2026120207+evacuation0",
			"devel.2026120207.1", "devel.2026120207.2", "devel.2026120207.10",
			"devel.2026120208", "devel.2027010100",
			"0.10000101.0",
			"1.20261202.0", "1.20261202.0+evacuation3", "1.20261202.1", "1.20261202.2",
			"1.20261203.0-rolling.1", "1.20261203.0-rolling.1+evacuation1",
			"1.20261203.0-rolling.2", "1.20261203.0-rolling.10",
			"1.20261203.0", "1.20261203.1",
			"1.20261215.0-rolling.1", "1.20261215.0",
			"1.20270101.0",
			"2.0.0-rolling.1",
			"2.20261201.0",
		}},
	}
	for _, l := range lists {
		vs := make([]Version, len(l.asc))
		for i, s := range l.asc {
			vs[i] = MustParse(l.scheme, s)
		}
		for i := range vs {
			for j := range vs {
				want := cmpInt(i, j)
				if got := Compare(vs[i], vs[j]); got != want {
					t.Errorf("Compare(%s, %s) = %d, want %d", vs[i], vs[j], got, want)
				}
			}
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return +1
	}
	return 0
}

func TestCompareSchemes(t *testing.T) {
	s, c := MustParse(semver, "1.20261202.0"), MustParse(calver, "1.20261202.0")
	if got := Compare(c, s); got != -1 {
		t.Errorf("Compare(calver, semver) = %d, want -1 (scheme names break the tie)", got)
	}
	if got := Compare(s, c); got != +1 {
		t.Errorf("Compare(semver, calver) = %d, want +1", got)
	}
}

func TestNeedsDisruption(t *testing.T) {
	tests := []struct {
		from, to string
		want     bool
	}{
		{"1.2.3+evacuation1", "1.2.4+evacuation1", false},
		{"1.2.3+evacuation0", "1.3.0+evacuation0", false},
		{"1.2.3+evacuation1", "1.2.4+evacuation2", true},
		{"1.2.3+evacuation2", "1.3.0+evacuation0", true},
		{"1.2.3+evacuation1", "1.2.4", true},
		{"1.2.3", "1.2.4+evacuation1", true},
		{"1.2.3", "1.2.4", true},
		{"1.2.3", "1.2.3", true},
	}
	for _, tt := range tests {
		from, to := MustParse(semver, tt.from), MustParse(semver, tt.to)
		if got := NeedsDisruption(from, to); got != tt.want {
			t.Errorf("NeedsDisruption(%s, %s) = %v, want %v", from, to, got, tt.want)
		}
	}
}

// randomVersion draws from a small space so that ties and near-ties are
// frequent.
func randomVersion(r *rand.Rand) Version {
	v := Version{Scheme: calver}
	if r.IntN(3) == 0 {
		v.Scheme = semver
	}
	if r.IntN(2) == 0 {
		v.HasEvacuation, v.Evacuation = true, r.IntN(3)
	}
	kind := Stable
	if v.Scheme == calver {
		kind = Kind(r.IntN(3))
	}
	switch kind {
	case Devel:
		v.Kind = Devel
		v.Serial = []string{"2026120207", "2026120207.1", "2026120207.2", "2026120207.10", "2026120208", "2025123123"}[r.IntN(6)]
	case Rolling:
		v.Kind, v.Major, v.Minor, v.Build = Rolling, r.IntN(2), 20261201+r.IntN(3), 1+r.IntN(3)
	default:
		v.Major, v.Minor, v.Patch = r.IntN(2), 20261201+r.IntN(3), r.IntN(3)
	}
	return v
}

// TestCompareTotalOrder checks on random versions that Compare is
// reflexive, antisymmetric and transitive, and that it agrees with
// String equality.
func TestCompareTotalOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a, b, c := randomVersion(r), randomVersion(r), randomVersion(r)
		checkValid(t, a)
		ab, ba, bc, ac := Compare(a, b), Compare(b, a), Compare(b, c), Compare(a, c)
		if Compare(a, a) != 0 {
			t.Fatalf("Compare(%s, %[1]s) != 0", a)
		}
		if ab != -ba {
			t.Fatalf("Compare(%s, %s) = %d but reversed %d", a, b, ab, ba)
		}
		if equal := a.String() == b.String() && a.Scheme == b.Scheme; (ab == 0) != equal {
			t.Fatalf("Compare(%s, %s) = %d, but equal spelling and scheme = %v", a, b, ab, equal)
		}
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %s <= %s <= %s but Compare(a, c) = %d", a, b, c, ac)
		}
	}
}

// checkValid checks that v is a valid, canonical version of its scheme.
func checkValid(t *testing.T, v Version) {
	t.Helper()
	w, err := Parse(v.Scheme, v.String())
	if err != nil || w != v {
		t.Fatalf("%+v does not round-trip: %+v, %v", v, w, err)
	}
}

// TestCompareSort checks that sorting shuffled versions gives one
// order whatever the shuffle.
func TestCompareSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vs := make([]Version, 300)
	for i := range vs {
		vs[i] = randomVersion(r)
	}
	want := slices.Clone(vs)
	slices.SortFunc(want, Compare)
	for range 20 {
		r.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		got := slices.Clone(vs)
		slices.SortFunc(got, Compare)
		if !slices.Equal(got, want) {
			t.Fatal("sorting two shuffles of the same versions gave different orders")
		}
	}
}
