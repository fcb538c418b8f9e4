package configtree

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Dependency errors; the messages name every module that requires the one
// at fault.
var (
	ErrMissingModule   = errors.New("required module is not in the Puppetfile")
	ErrVersionConflict = errors.New("pinned module does not satisfy every requirement")
)

// requirement is one module's requirement on another.
type requirement struct {
	by    string // requiring module
	rng   string
	parse Range
}

// CheckDependencies checks that every metadata.json dependency of every
// module is in the Puppetfile at a version in range. Like librarian-puppet
// it reports a conflict naming every requirer.
func CheckDependencies(mods []Module) error {
	byName := map[string]Module{}
	for _, m := range mods {
		byName[m.Name] = m
	}
	reqs, order, err := gatherRequirements(mods)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range order {
		if err := checkRequirements(name, byName, reqs[name]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func gatherRequirements(mods []Module) (map[string][]requirement, []string, error) {
	reqs := map[string][]requirement{}
	var order []string
	for _, m := range mods {
		for _, d := range m.Requires {
			r, err := ParseRange(d.Range)
			if err != nil {
				return nil, nil, fmt.Errorf("module %s: dependency %s: %w", m.Name, d.Name, err)
			}
			name := ShortName(strings.ReplaceAll(d.Name, "/", "-"))
			if _, seen := reqs[name]; !seen {
				order = append(order, name)
			}
			reqs[name] = append(reqs[name], requirement{by: m.Name, rng: d.Range, parse: r})
		}
	}
	return reqs, order, nil
}

func checkRequirements(name string, byName map[string]Module, reqs []requirement) error {
	m, ok := byName[name]
	if !ok {
		return fmt.Errorf("%w: %s, required by %s", ErrMissingModule, name, requirers(reqs))
	}
	v, err := ParseVersion(m.Version)
	if err != nil {
		if allOpen(reqs) {
			return nil
		}
		return fmt.Errorf("%w: %s has no usable version in metadata.json (%q), required as %s", ErrVersionConflict, name, m.Version, requirers(reqs))
	}
	failing := slices.ContainsFunc(reqs, func(r requirement) bool { return !r.parse.Contains(v) })
	if !failing {
		return nil
	}
	return fmt.Errorf("%w: %s is pinned at %s, required as %s", ErrVersionConflict, name, v, requirers(reqs))
}

func allOpen(reqs []requirement) bool {
	return !slices.ContainsFunc(reqs, func(r requirement) bool { return strings.TrimSpace(r.rng) != "" })
}

// requirers lists "'>= 1.0.0 < 2.0.0' by webapp, '>= 3.0.0' by nginx".
func requirers(reqs []requirement) string {
	parts := make([]string, len(reqs))
	for i, r := range reqs {
		rng := r.rng
		if strings.TrimSpace(rng) == "" {
			rng = "any version"
		}
		parts[i] = fmt.Sprintf("%q by %s", rng, r.by)
	}
	return strings.Join(parts, ", ")
}
