package element

import (
	"errors"
	"fmt"
	"os"
	"regexp"

	"gopkg.in/yaml.v3"
)

// Package is one package-installs.yaml entry. Packages are installed when
// the image is bootstrapped, before any phase runs; Phase is kept for the
// record.
type Package struct {
	Name  string
	Phase string
}

var debPackage = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// ReadPackageInstalls reads package-installs.yaml in its simple forms:
//
//	vim:                 # a name with no options
//	curl:
//	  phase: install.d   # a name with a phase
//	- jq                 # or a plain list
//
// A missing file means no packages. Other options (uninstall, arch, …)
// are errors, so that they are never silently ignored.
func ReadPackageInstalls(file string) ([]Package, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading package-installs: %w", err)
	}
	return ParsePackageInstalls(file, data)
}

// ParsePackageInstalls parses package-installs.yaml content; errors name
// file:line.
func ParsePackageInstalls(file string, data []byte) (pkgs []Package, err error) {
	defer func() {
		if p := recover(); p != nil {
			pkgs, err = nil, fmt.Errorf("%s: invalid YAML: %v", file, p)
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	switch {
	case top.Kind == yaml.SequenceNode:
		return parseList(file, top)
	case top.Kind == yaml.MappingNode:
		return parseMapping(file, top)
	case top.Kind == yaml.ScalarNode && top.Tag == "!!null":
		return nil, nil
	}
	return nil, lineError(file, top, "expected a mapping of package names or a list")
}

func lineError(file string, n *yaml.Node, msg string) error {
	return fmt.Errorf("%s:%d: %s", file, n.Line, msg)
}

func parseList(file string, n *yaml.Node) ([]Package, error) {
	var pkgs []Package
	for _, item := range n.Content {
		p, err := packageName(file, item)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, Package{Name: p})
	}
	return pkgs, nil
}

func parseMapping(file string, n *yaml.Node) ([]Package, error) {
	var pkgs []Package
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, err := packageName(file, n.Content[i])
		if err != nil {
			return nil, err
		}
		phase, err := packageOptions(file, name, n.Content[i+1])
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, Package{Name: name, Phase: phase})
	}
	return pkgs, nil
}

func packageName(file string, n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || !debPackage.MatchString(n.Value) {
		return "", lineError(file, n, fmt.Sprintf("%q is not a Debian package name", n.Value))
	}
	return n.Value, nil
}

// packageOptions reads `name:` (null) or `name: {phase: X}`.
func packageOptions(file, name string, v *yaml.Node) (string, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return "", nil
	}
	if v.Kind != yaml.MappingNode {
		return "", lineError(file, v, fmt.Sprintf("package %s: expected nothing or {phase: ...}", name))
	}
	phase := ""
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if k.Value != "phase" || val.Kind != yaml.ScalarNode {
			return "", lineError(file, k, fmt.Sprintf("package %s: option %q is not supported (bakery reads phase)", name, k.Value))
		}
		phase = val.Value
	}
	return phase, nil
}
