package recipe

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is a user mistake in a recipe or in an environment override. File is
// the recipe file or, for overrides, the variable ("$BAKERY_RELEASE"); Line
// and Column are 1-based and zero when unknown.
type Error struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string
	Hint   string

	elem int   // 1-based list element the error is about; 0 for the whole field
	err  error // underlying cause, if any
}

// Error renders "FILE:LINE:COL: field "x": msg (hint)", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.location())
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		fmt.Fprintf(&b, " (%s)", e.Hint)
	}
	return b.String()
}

func (e *Error) location() string {
	loc := e.File
	if e.Line > 0 {
		loc += fmt.Sprintf(":%d", e.Line)
		if e.Column > 0 {
			loc += fmt.Sprintf(":%d", e.Column)
		}
		loc = strings.TrimPrefix(loc, ":")
	}
	if loc == "" {
		return ""
	}
	return loc + ": "
}

// Unwrap returns the underlying cause, such as a file-system error.
func (e *Error) Unwrap() error { return e.err }

// IsUserError reports whether err is, or joins, a mistake in a recipe or an
// override (a *Error), as opposed to a failure of bakery itself.
func IsUserError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// problem is an Error without a position yet.
func problem(msg, hint string) *Error { return &Error{Msg: msg, Hint: hint} }

// joinErrors sets File on each error, orders them by position and joins them.
// It returns nil for no errors and the *Error itself for one.
func joinErrors(file string, errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	joined := make([]error, len(errs))
	for i, e := range errs {
		if e.File == "" {
			e.File = file
		}
		joined[i] = e
	}
	if len(joined) == 1 {
		return joined[0]
	}
	return errors.Join(joined...)
}

// suggest returns the candidate closest to word by edit distance, or "" when
// none is close enough to be a likely typo.
func suggest(word string, candidates []string) string {
	best, bestDist := "", 3 // at most two edits, and one for short words
	if len(word) <= 5 {
		bestDist = 2
	}
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if d := distance(lw, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the optimal-string-alignment edit distance: insertions,
// deletions, substitutions and adjacent transpositions each cost one.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b)) // far from every candidate; keep it cheap
	}
	prev2, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cur[j] = editStep(a, b, i, j, prev2, prev, cur)
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func editStep(a, b string, i, j int, prev2, prev, cur []int) int {
	cost := 1
	if a[i-1] == b[j-1] {
		cost = 0
	}
	d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
	if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
		d = min(d, prev2[j-2]+1)
	}
	return d
}

// allowedHint is the hint for a value outside a fixed set: a suggestion when
// one is close, then the allowed values.
func allowedHint(value string, allowed []string) string {
	hint := "allowed: " + strings.Join(allowed, ", ")
	if s := suggest(value, allowed); s != "" {
		hint = fmt.Sprintf("did you mean `%s`? %s", s, hint)
	}
	return hint
}
