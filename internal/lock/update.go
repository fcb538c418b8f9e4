package lock

import (
	"errors"
	"fmt"
	"slices"
)

// ErrNotLocked is returned by Update for a package the lock does not hold.
var ErrNotLocked = errors.New("package is not in the lock")

// Update returns a copy of base in which the named packages (every
// architecture of each) take their entries from fresh, a lock resolved
// later from the mirror: a hotfix that moves only the packages it must. The
// suites are fresh's, since the updated packages come from those Release
// files. Packages whose dependencies changed too must be named as well; the
// build reports any that are unmet.
func Update(base, fresh *Lock, names []string) (*Lock, error) {
	out := *base
	out.Packages = slices.Clone(base.Packages)
	out.Suites = slices.Clone(fresh.Suites)
	for _, name := range names {
		if !slices.ContainsFunc(base.Packages, func(p Package) bool { return p.Name == name }) {
			return nil, fmt.Errorf("updating %s: %w (the image does not install it)", name, ErrNotLocked)
		}
		var found bool
		for _, np := range fresh.Packages {
			if np.Name != name {
				continue
			}
			found = true
			i := slices.IndexFunc(out.Packages, func(p Package) bool { return p.Key() == np.Key() })
			if i < 0 {
				out.Packages = append(out.Packages, np)
			} else {
				out.Packages[i] = np
			}
		}
		if !found {
			return nil, fmt.Errorf("updating %s: the mirror no longer has it", name)
		}
	}
	out.Normalize()
	return &out, nil
}
