package release

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/version"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(12 * time.Hour)
}

// released records v reaching stable (and its line) on the date s.
func (b *builder) released(v, s string) *builder {
	pv := version.MustParse(b.s.Policy.Scheme, v)
	return b.head("stable", v, date(s)).head(LineChannel(pv.Line()), v, date(s))
}

// supportText spells the support of every line, one per line:
// "LINE STATUS EOL RULE NEWEST RELEASED", "-" for what is not known.
func supportText(ls []LineSupport) string {
	var out []string
	for _, l := range ls {
		out = append(out, fmt.Sprintf("%s %s %s %s %s %s", l.Line, l.Status, dateText(l.EOL), or(l.Rule), l.Newest, dateText(l.Released)))
	}
	return strings.Join(out, "\n")
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02T15")
}

func or(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func TestSupport(t *testing.T) {
	tests := []struct {
		name  string
		state func() *builder
		now   string
		want  string
	}{
		{
			name: "both rules",
			state: func() *builder {
				// 1.0.1 out of order: the rules must not depend on it.
				return build("2.2.0", "2.1.1", "2.1.0", "2.0.0", "1.4.1", "1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0", "1.0.1").
					support(recipe.Support{NewerMinors: 2, MinWeeks: 4, MonthsAfterNextMajor: 6}).
					released("1.0.0", "2026-01-10").
					released("1.1.0", "2026-02-01").
					released("1.2.0", "2026-02-10").
					head("stable-1.0", "1.0.1", date("2026-02-20")). // a hotfix: the line was released before
					released("1.3.0", "2026-04-01").
					released("1.4.0", "2026-04-20").revoke("1.4.0", "bad"). // 1.4 is not released after all
					released("2.0.0", "2026-05-15").
					released("2.1.0", "2026-07-01")
			},
			now: "2026-08-01",
			want: `1.0 end-of-life 2026-03-01T12 newer_minors 1.0.1 2026-01-10T12
1.1 end-of-life 2026-04-01T12 newer_minors 1.1.0 2026-02-01T12
1.2 security-only 2026-11-15T12 months_after_next_major 1.2.0 2026-02-10T12
1.3 security-only 2026-11-15T12 months_after_next_major 1.3.0 2026-04-01T12
1.4 pre-release - - 1.4.1 -
2.0 security-only - - 2.0.0 2026-05-15T12
2.1 supported - - 2.1.1 2026-07-01T12
2.2 pre-release - - 2.2.0 -`,
		},
		{
			name: "next major earlier than min weeks",
			state: func() *builder {
				return build("2.0.0", "1.1.0", "1.0.0").
					support(recipe.Support{NewerMinors: 1, MinWeeks: 8, MonthsAfterNextMajor: 1}).
					released("1.0.0", "2026-01-01").released("1.1.0", "2026-02-01").released("2.0.0", "2026-02-05")
			},
			now: "2026-03-05",
			want: `1.0 end-of-life 2026-03-05T12 months_after_next_major 1.0.0 2026-01-01T12
1.1 end-of-life 2026-03-05T12 months_after_next_major 1.1.0 2026-02-01T12
2.0 supported - - 2.0.0 2026-02-05T12`,
		},
		{
			name: "min weeks later than the nth newer minor",
			state: func() *builder {
				return build("1.2.0", "1.1.0", "1.0.0").
					support(recipe.Support{NewerMinors: 2, MinWeeks: 4}).
					released("1.0.0", "2026-01-01").released("1.1.0", "2026-02-01").released("1.2.0", "2026-02-03")
			},
			now: "2026-02-28",
			want: `1.0 security-only 2026-03-01T12 newer_minors 1.0.0 2026-01-01T12
1.1 security-only - - 1.1.0 2026-02-01T12
1.2 supported - - 1.2.0 2026-02-03T12`,
		},
		{
			name: "newer minors rule off",
			state: func() *builder {
				return build("1.2.0", "1.1.0", "1.0.0").
					support(recipe.Support{MonthsAfterNextMajor: 12}).
					released("1.0.0", "2026-01-01").released("1.1.0", "2026-02-01").released("1.2.0", "2026-03-01")
			},
			now: "2027-06-01",
			want: `1.0 security-only - - 1.0.0 2026-01-01T12
1.1 security-only - - 1.1.0 2026-02-01T12
1.2 supported - - 1.2.0 2026-03-01T12`,
		},
		{
			name: "next major rule off",
			state: func() *builder {
				return build("3.0.0", "2.0.0", "1.0.0").
					support(recipe.Support{NewerMinors: 1}).
					released("1.0.0", "2026-01-01").released("2.0.0", "2026-02-01").released("3.0.0", "2026-03-01")
			},
			now: "2027-06-01",
			want: `1.0 security-only - - 1.0.0 2026-01-01T12
2.0 security-only - - 2.0.0 2026-02-01T12
3.0 supported - - 3.0.0 2026-03-01T12`,
		},
		{
			name: "months from the earliest newer major",
			state: func() *builder {
				return build("3.0.0", "2.0.0", "1.0.0").
					support(recipe.Support{MonthsAfterNextMajor: 2}).
					released("1.0.0", "2026-01-01").released("3.0.0", "2026-02-01").released("2.0.0", "2026-03-01")
			},
			now: "2026-01-02",
			want: `1.0 security-only 2026-04-01T12 months_after_next_major 1.0.0 2026-01-01T12
2.0 security-only 2026-04-01T12 months_after_next_major 2.0.0 2026-03-01T12
3.0 supported - - 3.0.0 2026-02-01T12`,
		},
		{
			// AddDate normalises: January 31 plus a month is March 3.
			name: "month end",
			state: func() *builder {
				return build("2.0.0", "1.0.0").support(recipe.Support{MonthsAfterNextMajor: 1}).
					released("1.0.0", "2026-01-01").released("2.0.0", "2026-01-31")
			},
			now: "2026-03-02",
			want: `1.0 security-only 2026-03-03T12 months_after_next_major 1.0.0 2026-01-01T12
2.0 supported - - 2.0.0 2026-01-31T12`,
		},
		{
			name: "nothing released",
			state: func() *builder {
				return build("1.1.0", "1.0.0").head("devel", "1.1.0", date("2026-01-01"))
			},
			now: "2026-03-01",
			want: `1.0 pre-release - - 1.0.0 -
1.1 pre-release - - 1.1.0 -`,
		},
		{
			name: "calver lines by date, rolling and devel builds on none",
			state: func() *builder {
				return build("devel.2026120107", "3.20261215.0-rolling.1", "3.20261201.0", "3.20261101.2", "3.20261101.0").
					scheme(version.Calver).
					released("3.20261101.0", "2026-11-01").released("3.20261201.0", "2026-12-01")
			},
			now: "2026-12-02",
			want: `3.20261101 security-only - - 3.20261101.2 2026-11-01T12
3.20261201 supported - - 3.20261201.0 2026-12-01T12`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := supportText(tt.state().s.Support(date(tt.now)))
			if got != tt.want {
				t.Errorf("Support:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestLineEOL(t *testing.T) {
	b := build("2.0.0", "1.0.0", "devel.2026010100").
		support(recipe.Support{MonthsAfterNextMajor: 1}).
		released("1.0.0", "2026-01-01").released("2.0.0", "2026-02-01")
	eol := date("2026-03-01")
	tests := []struct {
		v      string
		now    time.Time
		status string
	}{
		{"1.0.0", eol.Add(-time.Second), StatusSecurityOnly},
		{"1.0.0", eol, StatusEndOfLife},
		{"2.0.0", eol, StatusSupported},
	}
	for _, tt := range tests {
		ls, ok := b.s.LineEOL(b.img(tt.v), tt.now)
		if !ok || ls.Status != tt.status || (tt.v == "1.0.0" && !ls.EOL.Equal(eol)) {
			t.Errorf("LineEOL(%s, %s) = %+v, %v; want status %s, EOL %s", tt.v, tt.now, ls, ok, tt.status, eol)
		}
	}
	if ls, ok := b.s.LineEOL(b.img("devel.2026010100"), eol); ok {
		t.Errorf("LineEOL of a semver-invalid version = %+v, want none", ls)
	}
	if ls, ok := b.s.LineEOL(catalog.Image{Name: "other", Version: "3.0.0"}, eol); ok {
		t.Errorf("LineEOL of a line nobody built = %+v, want none", ls)
	}
}

func TestStatus(t *testing.T) {
	b := build("2.0.0", "1.1.1", "1.1.0", "1.0.0", "1.0.1").
		support(recipe.Support{MonthsAfterNextMajor: 1}).
		released("1.0.0", "2026-01-01").released("1.1.0", "2026-02-01").released("2.0.0", "2026-03-01").
		head("devel", "2.0.0", date("2026-02-20")).
		security("1.1.1").revoke("1.0.1", "bad")
	now := date("2026-03-15")
	tests := []struct {
		v       string
		summary string
		line    string
		status  string
	}{
		{"2.0.0", "devel,stable,stable-2.0", "2.0", StatusSupported},
		{"1.1.1", "security", "1.1", StatusSecurityOnly},
		{"1.1.0", "SUPERSEDED (security)", "1.1", StatusSecurityOnly},
		{"1.0.1", "REVOKED", "1.0", StatusSecurityOnly},
		{"1.0.0", "stable-1.0", "1.0", StatusSecurityOnly},
	}
	for _, tt := range tests {
		st := b.s.Status(b.img(tt.v), now)
		if got := st.Summary(); got != tt.summary || st.Line != tt.line || st.LineStatus != tt.status {
			t.Errorf("Status(%s) = %q, line %s %s; want %q, line %s %s", tt.v, got, st.Line, st.LineStatus, tt.summary, tt.line, tt.status)
		}
	}
	st := b.s.Status(b.img("1.0.0"), date("2026-04-01"))
	if st.Summary() != "end-of-life" || !st.EndOfLife.Equal(date("2026-04-01")) {
		t.Errorf("Status(1.0.0) at its end of life = %+v, %q", st, st.Summary())
	}
	junk := b.s.Status(catalog.Image{Name: "junk", Version: "1.2"}, now)
	if junk.SchemeInvalid == "" || junk.Summary() != "-" || junk.Channels == nil {
		t.Errorf("Status of an unparsable version = %+v", junk)
	}
}
