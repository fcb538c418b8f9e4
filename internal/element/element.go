// Package element reads and runs diskimage-builder elements: directories
// with element-deps, package-installs.yaml, environment.d/ and the phase
// directories extra-data.d, pre-install.d, install.d, post-install.d,
// finalise.d and cleanup.d. Existing diskimage-builder elements work
// unchanged as long as they use these parts.
package element

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/bakery-dev/bakery/internal/treehash"
)

// Element is one element directory, read and hashed.
type Element struct {
	Name     string
	Dir      string
	Deps     []string  // element-deps, in file order
	Packages []Package // package-installs.yaml
	Hash     string    // "sha256:…" over the element's files (see treehash.Dir)
}

// Errors of finding and ordering elements.
var (
	ErrNotFound = errors.New("element not found on the element path")
	ErrCycle    = errors.New("element dependency cycle")
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// Find returns the directory of the first element called name on path.
func Find(path []string, name string) (string, error) {
	if !namePattern.MatchString(name) || strings.Contains(name, "..") {
		return "", fmt.Errorf("element %q: not a valid element name", name)
	}
	for _, dir := range path {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("element %q (searched %s): %w", name, strings.Join(path, ":"), ErrNotFound)
}

// Load reads the element in dir.
func Load(name, dir string) (Element, error) {
	e := Element{Name: name, Dir: dir}
	var err error
	if e.Deps, err = readDeps(filepath.Join(dir, "element-deps")); err != nil {
		return e, fmt.Errorf("element %s: %w", name, err)
	}
	if e.Packages, err = ReadPackageInstalls(filepath.Join(dir, "package-installs.yaml")); err != nil {
		return e, fmt.Errorf("element %s: %w", name, err)
	}
	if e.Hash, err = treehash.Dir(dir); err != nil {
		return e, fmt.Errorf("element %s: %w", name, err)
	}
	return e, nil
}

// readDeps reads element-deps: one element name a line, # comments.
func readDeps(file string) ([]string, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading element-deps: %w", err)
	}
	defer f.Close()
	var deps []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		dep, _, _ := strings.Cut(sc.Text(), "#")
		if dep = strings.TrimSpace(dep); dep == "" {
			continue
		}
		if !namePattern.MatchString(dep) {
			return nil, fmt.Errorf("%s:%d: %q is not an element name", file, line, dep)
		}
		deps = append(deps, dep)
	}
	return deps, sc.Err()
}

// Resolve finds the named elements and everything they depend on, and
// orders them so that each element comes after its dependencies (in the
// order named, then in element-deps order).
func Resolve(path []string, names []string) ([]Element, error) {
	r := resolver{path: path, state: map[string]int{}, loaded: map[string]Element{}}
	for _, n := range names {
		if err := r.visit(n, nil); err != nil {
			return nil, err
		}
	}
	return r.order, nil
}

type resolver struct {
	path   []string
	state  map[string]int // 0 new, 1 visiting, 2 done
	loaded map[string]Element
	order  []Element
}

func (r *resolver) visit(name string, chain []string) error {
	switch r.state[name] {
	case 2:
		return nil
	case 1:
		cycle := append(chain[slices.Index(chain, name):], name)
		return fmt.Errorf("%w: %s", ErrCycle, strings.Join(cycle, " -> "))
	}
	r.state[name] = 1
	e, err := r.load(name, chain)
	if err != nil {
		return err
	}
	next := append(slices.Clone(chain), name)
	for _, d := range e.Deps {
		if err := r.visit(d, next); err != nil {
			return err
		}
	}
	r.state[name] = 2
	r.order = append(r.order, e)
	return nil
}

func (r *resolver) load(name string, chain []string) (Element, error) {
	dir, err := Find(r.path, name)
	if err != nil && len(chain) > 0 {
		return Element{}, fmt.Errorf("%w (a dependency of %s)", err, chain[len(chain)-1])
	}
	if err != nil {
		return Element{}, err
	}
	return Load(name, dir)
}

// PackageNames lists the packages the elements install, sorted and unique.
func PackageNames(elems []Element) []string {
	var names []string
	for _, e := range elems {
		for _, p := range e.Packages {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Locked pins one element by its content hash.
type Locked struct {
	Name string `json:"name"`
	Hash string `json:"sha256"`
}

// Lock returns the elements' pinned records, in build order: what a bakery
// lock embeds.
func Lock(elems []Element) []Locked {
	out := make([]Locked, len(elems))
	for i, e := range elems {
		out[i] = Locked{Name: e.Name, Hash: e.Hash}
	}
	return out
}

// DefaultPath is the element path: the given directories (ELEMENTS_PATH,
// --elements-path), then elements/ beside the recipe, then elements/ at the
// top of the repository holding the recipe. Missing directories are left
// out.
func DefaultPath(given []string, recipeDir string) []string {
	candidates := append(slices.Clone(given), filepath.Join(recipeDir, "elements"))
	if top := repoTop(recipeDir); top != "" {
		candidates = append(candidates, filepath.Join(top, "elements"))
	}
	var out []string
	for _, c := range candidates {
		abs, err := filepath.Abs(c)
		if fi, serr := os.Stat(abs); err == nil && serr == nil && fi.IsDir() && !slices.Contains(out, abs) {
			out = append(out, abs)
		}
	}
	return out
}

// repoTop is the nearest directory at or above dir with a .git entry.
func repoTop(dir string) string {
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// SplitPath splits a colon-separated element path, dropping empty parts.
func SplitPath(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
