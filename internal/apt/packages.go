package apt

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Package is one stanza of a repository's Packages index.
type Package struct {
	Name         string
	Version      string
	Architecture string
	Filename     string // pool path relative to the archive root
	Size         int64
	SHA256       string // hex
	Depends      string // as written: "libc6 (>= 2.34), foo | bar"
	PreDepends   string
	Provides     string
	Essential    bool
	Priority     string
	Paragraph    Paragraph // every field, for writing indices and status files
}

// ParsePackages reads a Packages index. Every stanza needs Package,
// Version, Architecture and Filename; Size and SHA256 must be well formed.
func ParsePackages(r io.Reader) ([]Package, error) {
	paras, err := ParseParagraphs(r)
	if err != nil {
		return nil, fmt.Errorf("parsing Packages: %w", err)
	}
	out := make([]Package, 0, len(paras))
	for _, p := range paras {
		pkg, err := packageFrom(p)
		if err != nil {
			return nil, fmt.Errorf("parsing Packages: %w", err)
		}
		out = append(out, pkg)
	}
	return out, nil
}

func packageFrom(p Paragraph) (Package, error) {
	get := func(name string) string { v, _ := p.Value(name); return v }
	pkg := Package{
		Name: get("Package"), Version: get("Version"), Architecture: get("Architecture"),
		Filename: get("Filename"), SHA256: get("SHA256"), Depends: get("Depends"),
		PreDepends: get("Pre-Depends"), Provides: get("Provides"), Priority: get("Priority"),
		Essential: strings.EqualFold(get("Essential"), "yes"), Paragraph: p,
	}
	for _, req := range []struct{ name, v string }{
		{"Package", pkg.Name}, {"Version", pkg.Version}, {"Architecture", pkg.Architecture}, {"Filename", pkg.Filename},
	} {
		if req.v == "" {
			return Package{}, &SyntaxError{Line: p.Line, Msg: "stanza without " + req.name}
		}
	}
	if _, err := ParseVersion(pkg.Version); err != nil {
		return Package{}, &SyntaxError{Line: p.Line, Msg: err.Error()}
	}
	if pkg.SHA256 != "" && !isHex(pkg.SHA256, 64) {
		return Package{}, &SyntaxError{Line: p.Line, Msg: fmt.Sprintf("package %s: bad SHA256 %q", pkg.Name, truncate(pkg.SHA256, 70))}
	}
	if s := get("Size"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return Package{}, &SyntaxError{Line: p.Line, Msg: fmt.Sprintf("package %s: bad Size %q", pkg.Name, truncate(s, 30))}
		}
		pkg.Size = n
	}
	return pkg, nil
}

// Key identifies a package build: name, version and architecture.
func (p Package) Key() string { return p.Name + " " + p.Version + " " + p.Architecture }

// Relation is one alternative of a dependency field: "name (op version)"
// with an optional ":arch" qualifier kept in Name.
type Relation struct {
	Name    string
	Op      string // "", "<<", "<=", "=", ">=", ">>"
	Version string
	Arch    string // the [arch list] restriction, as written
}

// ParseRelations splits a Depends-like field into AND groups of OR
// alternatives: "a (>= 1) | b, c" → [[a>=1 b] [c]].
func ParseRelations(field string) ([][]Relation, error) {
	var out [][]Relation
	for _, group := range strings.Split(field, ",") {
		if strings.TrimSpace(group) == "" {
			continue
		}
		var alts []Relation
		for _, alt := range strings.Split(group, "|") {
			r, err := parseRelation(strings.TrimSpace(alt))
			if err != nil {
				return nil, err
			}
			alts = append(alts, r)
		}
		out = append(out, alts)
	}
	return out, nil
}

func parseRelation(s string) (Relation, error) {
	var r Relation
	if i := strings.IndexByte(s, '['); i >= 0 {
		j := strings.IndexByte(s, ']')
		if j < i {
			return Relation{}, fmt.Errorf("%w: unbalanced [ in relation %q", ErrSyntax, truncate(s, 60))
		}
		r.Arch = strings.TrimSpace(s[i+1 : j])
		s = strings.TrimSpace(s[:i] + s[j+1:])
	}
	name, rest, _ := strings.Cut(s, "(")
	r.Name = strings.TrimSpace(name)
	if r.Name == "" || strings.ContainsAny(r.Name, " \t)") {
		return Relation{}, fmt.Errorf("%w: bad relation %q", ErrSyntax, truncate(s, 60))
	}
	if rest == "" {
		return r, nil
	}
	body, ok := strings.CutSuffix(strings.TrimSpace(rest), ")")
	if !ok {
		return Relation{}, fmt.Errorf("%w: unbalanced ( in relation %q", ErrSyntax, truncate(s, 60))
	}
	return withConstraint(r, strings.TrimSpace(body), s)
}

func withConstraint(r Relation, body, s string) (Relation, error) {
	for _, op := range []string{"<<", "<=", ">=", ">>", "=", "<", ">"} {
		if v, ok := strings.CutPrefix(body, op); ok {
			r.Op, r.Version = op, strings.TrimSpace(v)
			if r.Version == "" {
				break
			}
			return r, nil
		}
	}
	return Relation{}, fmt.Errorf("%w: bad version constraint in %q", ErrSyntax, truncate(s, 60))
}
