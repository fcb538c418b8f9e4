package apt

import (
	"fmt"
	"strings"
)

// Version is a Debian package version: [epoch:]upstream[-revision].
type Version struct {
	Epoch    int
	Upstream string
	Revision string
}

// ParseVersion splits a version string as dpkg does. The epoch is what comes
// before the first colon, the revision what follows the last hyphen.
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Version{}, fmt.Errorf("parsing version: empty")
	}
	var v Version
	if e, rest, ok := strings.Cut(s, ":"); ok {
		n, err := parseEpoch(e)
		if err != nil {
			return Version{}, fmt.Errorf("parsing version %q: %w", s, err)
		}
		v.Epoch, s = n, rest
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v.Upstream, v.Revision = s[:i], s[i+1:]
		if v.Revision == "" {
			return Version{}, fmt.Errorf("parsing version %q: empty revision", s)
		}
	} else {
		v.Upstream = s
	}
	if err := v.check(); err != nil {
		return Version{}, fmt.Errorf("parsing version %q: %w", s, err)
	}
	return v, nil
}

func parseEpoch(e string) (int, error) {
	if e == "" || len(e) > 9 {
		return 0, fmt.Errorf("bad epoch %q", e)
	}
	n := 0
	for _, c := range e {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad epoch %q", e)
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

func (v Version) check() error {
	if v.Upstream == "" {
		return fmt.Errorf("empty upstream version")
	}
	if !isDigit(v.Upstream[0]) {
		return fmt.Errorf("upstream version must start with a digit")
	}
	for _, part := range []string{v.Upstream, v.Revision} {
		for i := 0; i < len(part); i++ {
			if c := part[i]; !isAlnum(c) && !strings.ContainsRune(".+-~:", rune(c)) {
				return fmt.Errorf("invalid character %q", c)
			}
		}
	}
	return nil
}

// String formats the version as dpkg prints it.
func (v Version) String() string {
	s := v.Upstream
	if v.Epoch > 0 {
		s = fmt.Sprintf("%d:%s", v.Epoch, s)
	}
	if v.Revision != "" {
		s += "-" + v.Revision
	}
	return s
}

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int {
	if v.Epoch != w.Epoch {
		return sign(v.Epoch - w.Epoch)
	}
	if c := compareFragment(v.Upstream, w.Upstream); c != 0 {
		return c
	}
	return compareFragment(v.Revision, w.Revision)
}

// CompareVersions compares two version strings with dpkg's algorithm.
// Unparsable versions sort before parsable ones and among themselves
// byte-wise, so sorting never fails.
func CompareVersions(a, b string) int {
	va, erra := ParseVersion(a)
	vb, errb := ParseVersion(b)
	switch {
	case erra != nil && errb != nil:
		return strings.Compare(a, b)
	case erra != nil:
		return -1
	case errb != nil:
		return 1
	}
	return va.Compare(vb)
}

// compareFragment is dpkg's verrevcmp: alternate non-digit and digit runs;
// non-digits compare by order(), digit runs numerically.
func compareFragment(a, b string) int {
	for a != "" || b != "" {
		var c int
		if c, a, b = compareNonDigits(a, b); c != 0 {
			return c
		}
		if c, a, b = compareDigits(a, b); c != 0 {
			return c
		}
	}
	return 0
}

func compareNonDigits(a, b string) (int, string, string) {
	for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
		oa, ob := order(a), order(b)
		if oa != ob {
			return sign(oa - ob), a, b
		}
		a, b = a[1:], b[1:]
	}
	return 0, a, b
}

// order ranks the first byte of s: '~' before end of string before letters
// before everything else; digits (end of the non-digit run) rank as 0.
func order(s string) int {
	if s == "" {
		return 0
	}
	c := s[0]
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

func compareDigits(a, b string) (int, string, string) {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	na, nb := digitRun(a), digitRun(b)
	if na != nb && (na > 0 || nb > 0) {
		return sign(na - nb), a, b
	}
	if c := strings.Compare(a[:na], b[:nb]); c != 0 {
		return c, a, b
	}
	return 0, a[na:], b[nb:]
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
