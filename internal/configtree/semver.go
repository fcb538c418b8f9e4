package configtree

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Version is a semantic version as Puppet module metadata uses them.
type Version struct {
	Major, Minor, Patch int
	Pre                 string // pre-release ("rc1"); sorts before the release
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// ParseVersion reads MAJOR.MINOR.PATCH[-PRE][+BUILD].
func ParseVersion(s string) (Version, error) {
	v, n, err := parsePartial(s)
	if err == nil && n != 3 {
		err = fmt.Errorf("version %q needs three numbers, e.g. 1.2.3", s)
	}
	return v, err
}

// parsePartial reads a version of one to three numbers and says how many
// were given ("1.x" and "1" give 1).
func parsePartial(s string) (Version, int, error) {
	var v Version
	s, _, _ = strings.Cut(s, "+")
	s, v.Pre, _ = strings.Cut(s, "-")
	parts := strings.Split(s, ".")
	if len(parts) > 3 || s == "" {
		return v, 0, fmt.Errorf("%q is not a version", s)
	}
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		if p == "x" || p == "X" || p == "*" {
			return v, i, nil
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, 0, fmt.Errorf("%q is not a version", s)
		}
		*nums[i] = n
	}
	return v, len(parts), nil
}

// Compare orders versions; a pre-release sorts before its release.
func (v Version) Compare(w Version) int {
	if c := cmp.Or(cmp.Compare(v.Major, w.Major), cmp.Compare(v.Minor, w.Minor), cmp.Compare(v.Patch, w.Patch)); c != 0 {
		return c
	}
	switch {
	case v.Pre == w.Pre:
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	}
	return strings.Compare(v.Pre, w.Pre)
}

// Range is a version requirement such as ">= 1.0.0 < 2.0.0", "1.x" or
// "4.2.0"; alternatives are joined with "||".
type Range struct {
	text string
	alts [][]comparator // any alternative; all comparators of one
}

type comparator struct {
	op string // >=, <=, >, <, =
	v  Version
}

func (r Range) String() string { return r.text }

// ParseRange reads a metadata.json version_requirement. An empty range
// accepts every version.
func ParseRange(s string) (Range, error) {
	r := Range{text: strings.TrimSpace(s)}
	for _, alt := range strings.Split(s, "||") {
		cs, err := parseComparators(alt)
		if err != nil {
			return Range{}, fmt.Errorf("version range %q: %w", s, err)
		}
		r.alts = append(r.alts, cs)
	}
	return r, nil
}

func parseComparators(s string) ([]comparator, error) {
	var out []comparator
	fields := strings.Fields(s)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Trim(f, "<>=") == "" && i+1 < len(fields) { // ">= 1.0.0"
			f += fields[i+1]
			i++
		}
		cs, err := parseComparator(f)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func parseComparator(s string) ([]comparator, error) {
	op := s[:len(s)-len(strings.TrimLeft(s, "<>="))]
	v, n, err := parsePartial(s[len(op):])
	if err != nil {
		return nil, err
	}
	switch {
	case op == "" || op == "=":
		return exact(v, n), nil
	case op == ">=" || op == ">" || op == "<=" || op == "<":
		if n < 3 && (op == ">" || op == "<=") { // "> 1" means ≥ 2.0.0, "<= 1.2" means < 1.3.0
			return []comparator{{map[string]string{">": ">=", "<=": "<"}[op], bump(v, n)}}, nil
		}
		return []comparator{{op, v}}, nil
	}
	return nil, fmt.Errorf("unknown operator %q", op)
}

// exact turns "1.2.3" into = 1.2.3 and "1.x" / "1" into >= 1.0.0 < 2.0.0.
func exact(v Version, n int) []comparator {
	if n == 3 {
		return []comparator{{"=", v}}
	}
	if n == 0 {
		return nil
	}
	return []comparator{{">=", v}, {"<", bump(v, n)}}
}

// bump increments the last given number of a partial version.
func bump(v Version, n int) Version {
	switch n {
	case 1:
		return Version{Major: v.Major + 1}
	case 2:
		return Version{Major: v.Major, Minor: v.Minor + 1}
	}
	return v
}

// Contains reports whether v satisfies the range.
func (r Range) Contains(v Version) bool {
	if len(r.alts) == 0 {
		return true
	}
	for _, alt := range r.alts {
		if allHold(alt, v) {
			return true
		}
	}
	return false
}

func allHold(cs []comparator, v Version) bool {
	for _, c := range cs {
		d := v.Compare(c.v)
		ok := map[string]bool{">=": d >= 0, ">": d > 0, "<=": d <= 0, "<": d < 0, "=": d == 0}[c.op]
		if !ok {
			return false
		}
	}
	return true
}
