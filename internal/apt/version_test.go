package apt

import (
	"context"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/runner"
)

var versionTable = []struct {
	a, b string
	want int
}{
	{"1.0", "1.0", 0},
	{"1.0", "1.0-0", 0}, // an absent revision equals revision 0
	{"0:1.0", "1.0", 0},
	{"1.0~rc1", "1.0", -1},  // ~ sorts before the end
	{"1.0~~", "1.0~~a", -1}, // policy: ~~ < ~~a < ~ < "" < a
	{"1.0~~a", "1.0~", -1},
	{"1.0~", "1.0", -1},
	{"1.0", "1.0a", -1},
	{"1.0a", "1.0+", -1}, // letters before non-letters
	{"1.0+", "1.0.", -1}, // '+' (0x2b) before '.' (0x2e)
	{"2.30", "2.4", 1},   // numeric, not lexical
	{"1.01", "1.1", 0},   // leading zeros ignored
	{"1:1.0", "2.0", 1},  // epoch wins
	{"1.0-1", "1.0-2", -1},
	{"1.0-10", "1.0-9", 1},
	{"1.0-1", "1.0-1.1", -1},
	{"1.0-1~bpo1", "1.0-1", -1}, // backports sort below
	{"2.36-9+deb12u10", "2.36-9+deb12u9", 1},
	{"2.36-9+deb12u4", "2.36-9", 1},
	{"252.39-1~deb12u1", "252.38-1~deb12u1", 1},
	{"7.88.1-10+deb12u14", "7.88.1-10+deb12u8", 1},
	{"1.2.3-a-b", "1.2.3-a-c", -1}, // hyphens in upstream: revision after the last one
	{"1:2.38.1-5+deb12u3", "2:1", -1},
}

// TestIntegrationCompareWithDpkg checks the table against dpkg itself.
func TestIntegrationCompareWithDpkg(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dpkg")
	}
	if err := runner.Require("dpkg"); err != nil {
		t.Skip(err)
	}
	ops := map[int]string{-1: "lt", 0: "eq", 1: "gt"}
	for _, tt := range versionTable {
		argv := []string{"dpkg", "--compare-versions", tt.a, ops[tt.want], tt.b}
		if _, err := (runner.Exec{}).Run(context.Background(), runner.Cmd{Args: argv}); err != nil {
			t.Errorf("dpkg disagrees: %s: %v", strings.Join(argv, " "), err)
		}
	}
}

// Orderings from Debian Policy §5.6.12 and dpkg's own test suite.
func TestCompareVersions(t *testing.T) {
	tests := append(versionTable, struct {
		a, b string
		want int
	}{"a", "1", -1}) // unparsable sorts first
	for _, tt := range tests {
		got := CompareVersions(tt.a, tt.b)
		if got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if back := CompareVersions(tt.b, tt.a); back != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, back, -tt.want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want Version
	}{
		{"1.0", Version{0, "1.0", ""}},
		{"1:2.3-4", Version{1, "2.3", "4"}},
		{"2:1.2-3-4", Version{2, "1.2-3", "4"}},
		{"1.0~rc1+dfsg-1~bpo12+1", Version{0, "1.0~rc1+dfsg", "1~bpo12+1"}},
		{"3:1:2-1", Version{3, "1:2", "1"}},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseVersion(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != strings.TrimPrefix(tt.in, "0:") {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
	for _, bad := range []string{"", ":1.0", "x:1.0", "a1.0", "1.0 1", "1.0-", "-1", "1.0_1", "1234567890:1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", bad)
		}
	}
}

// FuzzCompareVersions checks that parsing round-trips and that the order is
// antisymmetric and consistent with equality of the parsed form.
func FuzzCompareVersions(f *testing.F) {
	for _, s := range [][2]string{{"1.0~rc1", "1.0"}, {"1:2.3-4", "2.3-4"}, {"2.36-9+deb12u10", "2.36-9+deb12u9"}, {"1.01", "1.1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("not antisymmetric: cmp(%q,%q)=%d cmp(%q,%q)=%d", a, b, ab, b, a, ba)
		}
		v, err := ParseVersion(a)
		if err != nil {
			return
		}
		again, err := ParseVersion(v.String())
		if err != nil || again.Compare(v) != 0 {
			t.Fatalf("round trip of %q via %q: %+v, %v", a, v.String(), again, err)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q does not equal itself", a)
		}
	})
}
