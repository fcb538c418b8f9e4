package manifest

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bakery-dev/bakery/internal/apt"
)

// ErrMissingField is wrapped when a dpkg status paragraph lacks a field.
var ErrMissingField = errors.New("missing field")

// ErrBadField is wrapped when a dpkg status field cannot be read.
var ErrBadField = errors.New("malformed field")

// Package is one installed Debian package.
type Package struct {
	Name          string `json:"name"`
	Version       string `json:"version"`
	Arch          string `json:"arch"`
	Source        string `json:"source"`         // source package name; Name when dpkg records none
	InstalledSize int64  `json:"installed_size"` // in KiB, as dpkg records it
}

// ReadDpkgStatus reads the packages installed in the tree at root.
func ReadDpkgStatus(root string) ([]Package, error) {
	path := filepath.Join(root, "var/lib/dpkg/status")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening dpkg status: %w", err)
	}
	defer f.Close()
	pkgs, err := ParseDpkgStatus(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return pkgs, nil
}

// ParseDpkgStatus parses a dpkg status file and returns the installed
// packages (whose Status ends in "installed": held packages count, removed
// ones and those with only config files left do not), sorted by name and
// architecture.
func ParseDpkgStatus(r io.Reader) ([]Package, error) {
	paras, err := apt.ParseParagraphs(r)
	if err != nil {
		return nil, fmt.Errorf("parsing dpkg status: %w", err)
	}
	var pkgs []Package
	for _, p := range paras {
		pkg, ok, err := packageFrom(p)
		if err != nil {
			return nil, fmt.Errorf("paragraph at line %d: %w", p.Line, err)
		}
		if ok {
			pkgs = append(pkgs, pkg)
		}
	}
	slices.SortFunc(pkgs, comparePackages)
	return pkgs, nil
}

func comparePackages(a, b Package) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Arch, b.Arch), strings.Compare(a.Version, b.Version))
}

func packageFrom(p apt.Paragraph) (Package, bool, error) {
	f, err := requireFields(p, "Package", "Status")
	if err != nil {
		return Package{}, false, err
	}
	installed, err := isInstalled(f[1])
	if err != nil || !installed {
		return Package{}, false, err
	}
	f, err = requireFields(p, "Package", "Version", "Architecture")
	if err != nil {
		return Package{}, false, err
	}
	pkg := Package{Name: f[0], Version: f[1], Arch: f[2], Source: sourceName(p, f[0])}
	if size, ok := p.Value("Installed-Size"); ok {
		if pkg.InstalledSize, err = strconv.ParseInt(size, 10, 64); err != nil || pkg.InstalledSize < 0 {
			return Package{}, false, fmt.Errorf("%w Installed-Size %q", ErrBadField, size)
		}
	}
	return pkg, true, nil
}

func requireFields(p apt.Paragraph, names ...string) ([]string, error) {
	values := make([]string, len(names))
	for i, n := range names {
		v, ok := p.Value(n)
		if !ok || v == "" {
			return nil, fmt.Errorf("%w %s", ErrMissingField, n)
		}
		values[i] = v
	}
	return values, nil
}

// isInstalled reads "Status: want flag status".
func isInstalled(status string) (bool, error) {
	words := strings.Fields(status)
	if len(words) != 3 {
		return false, fmt.Errorf("%w Status %q: want three words", ErrBadField, status)
	}
	return words[2] == "installed", nil
}

// sourceName reads "Source: name" or "Source: name (version)".
func sourceName(p apt.Paragraph, name string) string {
	src, _ := p.Value("Source")
	if fields := strings.Fields(src); len(fields) > 0 {
		return fields[0]
	}
	return name
}
