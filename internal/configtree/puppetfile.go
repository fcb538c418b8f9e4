package configtree

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Puppetfile is the subset of the r10k / librarian-puppet Puppetfile that
// bakery reads: a forge line and modules from git repositories or local
// paths.
//
//	forge 'https://forgeapi.puppet.com'
//	mod 'puppetlabs-stdlib', :git => 'https://git.example.org/stdlib.git', :tag => '9.4.1'
//	mod 'apache_backend', git: '/srv/git/apache_backend.git', commit: '0123…'
//	mod 'vendored', :path => 'vendor/vendored-1.0.0.tar.gz'
type Puppetfile struct {
	Forge   string
	Modules []ModuleSpec
}

// ModuleSpec is one `mod` line.
type ModuleSpec struct {
	Name    string // as written: "author-name", "author/name" or "name"
	Line    int
	Version string // a forge version; only accepted to report that forge modules need :git or :path
	Git     string
	Path    string // a directory or tarball, relative to the tree or absolute
	RefKind string // ref, tag, commit or branch; "" for the default branch
	Ref     string
}

// ParseError is a Puppetfile mistake at a line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// RefKinds are the options that pin a git module.
var RefKinds = []string{"ref", "tag", "commit", "branch"}

var (
	modNamePattern = regexp.MustCompile(`^(?:[A-Za-z0-9_]+[-/])?([a-z][a-z0-9_]*)$`)
	moduleOptions  = append([]string{"git", "path"}, RefKinds...)
)

// InstallName is the directory a module is installed as: the name without
// its author ("puppetlabs-stdlib" → "stdlib").
func (m ModuleSpec) InstallName() string { return ShortName(m.Name) }

// ShortName drops the author from a Forge-style module name.
func ShortName(name string) string {
	if m := modNamePattern.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return name
}

// ParsePuppetfile parses a Puppetfile; file names it in errors.
func ParsePuppetfile(file string, data []byte) (*Puppetfile, error) {
	toks, err := tokenize(file, string(data))
	if err != nil {
		return nil, err
	}
	p := &Puppetfile{}
	for _, stmt := range statements(toks) {
		if err := p.add(file, stmt); err != nil {
			return nil, err
		}
	}
	return p, p.checkDuplicates(file)
}

func (p *Puppetfile) add(file string, s []token) error {
	head := s[0]
	if head.kind != tIdent {
		return &ParseError{file, head.line, fmt.Sprintf("expected forge or mod, found %s", head)}
	}
	args := s[1:]
	if len(args) > 0 && args[0].kind == tLParen {
		if args[len(args)-1].kind != tRParen {
			return &ParseError{file, head.line, "missing ) after the arguments of " + head.text}
		}
		args = args[1 : len(args)-1]
	}
	switch head.text {
	case "forge":
		return p.addForge(file, head, args)
	case "mod":
		m, err := parseMod(file, head, args)
		if err == nil {
			p.Modules = append(p.Modules, m)
		}
		return err
	}
	return &ParseError{file, head.line, fmt.Sprintf("unknown directive %q (bakery reads forge and mod)", head.text)}
}

func (p *Puppetfile) addForge(file string, head token, args []token) error {
	if len(args) != 1 || args[0].kind != tString || strings.IndexFunc(args[0].text, unicode.IsControl) >= 0 {
		return &ParseError{file, head.line, "forge takes one quoted URL, e.g. forge 'https://forgeapi.puppet.com'"}
	}
	p.Forge = args[0].text
	return nil
}

func parseMod(file string, head token, args []token) (ModuleSpec, error) {
	m := ModuleSpec{Line: head.line}
	if len(args) == 0 || args[0].kind != tString {
		return m, &ParseError{file, head.line, "mod needs a quoted module name, e.g. mod 'puppetlabs-stdlib'"}
	}
	m.Name = args[0].text
	if !modNamePattern.MatchString(m.Name) {
		return m, &ParseError{file, head.line, fmt.Sprintf("%q is not a Puppet module name (lowercase letters, digits and _, optionally author- in front)", m.Name)}
	}
	rest := args[1:]
	if len(rest) >= 2 && rest[0].kind == tComma && rest[1].kind == tString {
		m.Version, rest = rest[1].text, rest[2:]
	}
	if err := parseOptions(file, &m, rest); err != nil {
		return m, err
	}
	return m, checkMod(file, m)
}

// parseOptions reads `, :key => 'value'` and `, key: 'value'` pairs.
func parseOptions(file string, m *ModuleSpec, toks []token) error {
	seen := map[string]bool{}
	for len(toks) > 0 {
		key, value, rest, err := nextOption(file, m.Line, toks)
		if err != nil {
			return err
		}
		if seen[key] {
			return &ParseError{file, value.line, fmt.Sprintf("option :%s is given twice", key)}
		}
		seen[key] = true
		if err := setOption(file, m, key, value); err != nil {
			return err
		}
		toks = rest
	}
	return nil
}

func nextOption(file string, line int, toks []token) (string, token, []token, error) {
	bad := func(at int) error {
		return &ParseError{file, at, "expected `, :option => 'value'` after the module name"}
	}
	if toks[0].kind != tComma || len(toks) < 3 {
		return "", token{}, nil, bad(toks[0].line)
	}
	switch k := toks[1]; {
	case k.kind == tLabel && toks[2].kind == tString:
		return k.text, toks[2], toks[3:], nil
	case k.kind == tSymbol && len(toks) >= 4 && toks[2].kind == tArrow && toks[3].kind == tString:
		return k.text, toks[3], toks[4:], nil
	}
	return "", token{}, nil, bad(toks[1].line)
}

func setOption(file string, m *ModuleSpec, key string, v token) error {
	switch {
	case key == "git":
		m.Git = v.text
	case key == "path":
		m.Path = v.text
	case slices.Contains(RefKinds, key):
		if m.RefKind != "" {
			return &ParseError{file, v.line, fmt.Sprintf("module %s has both :%s and :%s; pin it once", m.Name, m.RefKind, key)}
		}
		m.RefKind, m.Ref = key, v.text
	default:
		return &ParseError{file, v.line, fmt.Sprintf("unknown option :%s (bakery reads :%s)", key, strings.Join(moduleOptions, ", :"))}
	}
	if v.text == "" || strings.HasPrefix(v.text, "-") || strings.IndexFunc(v.text, unicode.IsControl) >= 0 {
		return &ParseError{file, v.line, fmt.Sprintf("option :%s is empty, starts with - or has control characters", key)}
	}
	return nil
}

func checkMod(file string, m ModuleSpec) error {
	e := func(msg string) error { return &ParseError{file, m.Line, fmt.Sprintf("module %s: %s", m.Name, msg)} }
	switch {
	case m.Git == "" && m.Path == "" && m.Version != "":
		return e("Forge modules need the internet; pin it with :git => URL and :tag, or :path")
	case m.Git == "" && m.Path == "":
		return e("give :git => URL (with :tag, :branch, :commit or :ref) or :path => DIR")
	case m.Git != "" && m.Path != "":
		return e("give :git or :path, not both")
	case m.Path != "" && m.RefKind != "":
		return e(":" + m.RefKind + " needs :git")
	case m.Version != "":
		return e("a version string and :git or :path cannot be combined; pin with :tag or :commit")
	}
	return nil
}

func (p *Puppetfile) checkDuplicates(file string) error {
	first := map[string]ModuleSpec{}
	for _, m := range p.Modules {
		if f, dup := first[m.InstallName()]; dup {
			return &ParseError{file, m.Line, fmt.Sprintf("module %s is also declared at line %d (as %s)", m.InstallName(), f.Line, f.Name)}
		}
		first[m.InstallName()] = m
	}
	return nil
}

// Format renders the Puppetfile canonically; ParsePuppetfile reads it back
// to the same modules.
func (p *Puppetfile) Format() string {
	var b strings.Builder
	if p.Forge != "" {
		fmt.Fprintf(&b, "forge %s\n\n", quote(p.Forge))
	}
	for _, m := range p.Modules {
		fmt.Fprintf(&b, "mod %s", quote(m.Name))
		for _, kv := range [][2]string{{"git", m.Git}, {"path", m.Path}, {m.RefKind, m.Ref}} {
			if kv[0] != "" && kv[1] != "" {
				fmt.Fprintf(&b, ",\n  :%s => %s", kv[0], quote(kv[1]))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// quote writes s as a Ruby single-quoted string.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
