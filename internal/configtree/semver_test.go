package configtree

import (
	"errors"
	"strings"
	"testing"
)

func TestRangeContains(t *testing.T) {
	tests := []struct {
		rng, v string
		want   bool
	}{
		{">= 1.0.0 < 2.0.0", "1.0.0", true},
		{">= 1.0.0 < 2.0.0", "1.9.9", true},
		{">= 1.0.0 < 2.0.0", "2.0.0", false},
		{">= 1.0.0 < 2.0.0", "0.9.0", false},
		{">=4.13.1 <10.0.0", "9.4.1", true},
		{"1.x", "1.7.0", true},
		{"1.x", "2.0.0", false},
		{"1.2.x", "1.3.0", false},
		{"1.2.3", "1.2.3", true},
		{"1.2.3", "1.2.4", false},
		{"=1.2.3", "1.2.3", true},
		{"> 1", "1.9.0", false},
		{"> 1", "2.0.0", true},
		{"<= 1.2", "1.2.9", true},
		{"<= 1.2", "1.3.0", false},
		{"", "7.0.0", true},
		{"1.x || >= 3.0.0", "3.1.0", true},
		{"1.x || >= 3.0.0", "2.1.0", false},
		{">= 1.0.0", "1.0.0-rc1", false},
	}
	for _, tc := range tests {
		r, err := ParseRange(tc.rng)
		if err != nil {
			t.Fatalf("ParseRange(%q): %v", tc.rng, err)
		}
		v, err := ParseVersion(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Contains(v); got != tc.want {
			t.Errorf("%q contains %s = %v, want %v", tc.rng, tc.v, got, tc.want)
		}
	}
}

func TestParseRangeErrors(t *testing.T) {
	for _, s := range []string{">= one", "~> 1.0", ">=", "1.2.3.4"} {
		if _, err := ParseRange(s); err == nil {
			t.Errorf("ParseRange(%q) succeeded", s)
		}
	}
	if _, err := ParseVersion("1.2"); err == nil {
		t.Error("ParseVersion(1.2) succeeded")
	}
}

func mod(name, version string, deps ...string) Module {
	m := Module{Name: name, Version: version}
	for i := 0; i+1 < len(deps); i += 2 {
		m.Requires = append(m.Requires, Dependency{Name: deps[i], Range: deps[i+1]})
	}
	return m
}

func TestCheckDependencies(t *testing.T) {
	tests := []struct {
		name string
		mods []Module
		is   error
		want []string
	}{
		{"satisfied", []Module{mod("stdlib", "9.4.1"), mod("webapp", "1.0.0", "puppetlabs/stdlib", ">= 4.0.0 < 10.0.0")}, nil, nil},
		{"no range", []Module{mod("stdlib", ""), mod("webapp", "1.0.0", "puppetlabs-stdlib", "")}, nil, nil},
		{"missing", []Module{mod("webapp", "1.0.0", "puppetlabs/stdlib", ">= 4.0.0"), mod("nginx", "2.0.0", "puppetlabs-stdlib", "")},
			ErrMissingModule, []string{"stdlib", `">= 4.0.0" by webapp`, `"any version" by nginx`}},
		{"conflict names both requirers", []Module{mod("stdlib", "6.0.0"),
			mod("webapp", "1.0.0", "puppetlabs/stdlib", ">= 4.0.0 < 5.0.0"), mod("nginx", "2.0.0", "puppetlabs/stdlib", ">= 6.0.0")},
			ErrVersionConflict, []string{"stdlib is pinned at 6.0.0", `">= 4.0.0 < 5.0.0" by webapp`, `">= 6.0.0" by nginx`}},
		{"unversioned but ranged", []Module{mod("stdlib", ""), mod("webapp", "1.0.0", "puppetlabs/stdlib", ">= 4.0.0")},
			ErrVersionConflict, []string{"no usable version"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckDependencies(tc.mods)
			if tc.is == nil {
				if err != nil {
					t.Fatalf("CheckDependencies: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
