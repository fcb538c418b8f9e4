package build

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bakery-dev/bakery/internal/hygiene"
)

// ErrHygiene is returned when the sealed tree still breaks a hygiene rule.
var ErrHygiene = errors.New("image fails hygiene rules")

// Hygiene makes the tree golden (no host keys, empty machine-id, no caches,
// logs, history or seeds, locked root) and checks the result.
type Hygiene struct{}

func (Hygiene) Name() string { return "hygiene" }

func (Hygiene) Run(_ context.Context, ws *Workspace) error {
	if err := hygiene.Clean(ws.Tree); err != nil {
		return fmt.Errorf("cleaning the tree: %w", err)
	}
	ws.Hygiene = hygiene.Check(ws.Tree)
	if ws.Hygiene.Passed() {
		return nil
	}
	var failed []string
	for _, r := range ws.Hygiene {
		if !r.Passed {
			failed = append(failed, fmt.Sprintf("%s: %s", r.Rule, strings.Join(r.Found, ", ")))
		}
	}
	return fmt.Errorf("%w: %s", ErrHygiene, strings.Join(failed, "; "))
}
