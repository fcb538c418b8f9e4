package recipe

import (
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// VersionFromConfig as a recipe's version means "the config tree's tag":
// the build resolves config.ref and uses the tag at that commit.
const VersionFromConfig = "config"

// DefaultConfigPath is where the config tree goes in the image.
const DefaultConfigPath = "/etc/puppet/code/environments/production"

// Config names the configuration-management (Puppet) tree baked into the
// image: a git repository (URL or path; a relative path is relative to the
// recipe file) at a tag, branch or commit.
type Config struct {
	Repo      string `yaml:"repo" json:"repo"`
	Ref       string `yaml:"ref" json:"ref"`
	Path      string `yaml:"path" json:"path"` // install path in the image
	Apply     *Apply `yaml:"apply,omitempty" json:"apply,omitempty"`
	FirstBoot bool   `yaml:"first_boot,omitempty" json:"first_boot,omitempty"`
}

// Apply is what `puppet apply` runs during the build (and at first boot):
// a manifest of the tree, or a class with parameters.
type Apply struct {
	Manifest string         `yaml:"manifest,omitempty" json:"manifest,omitempty"` // relative to the tree
	Class    string         `yaml:"class,omitempty" json:"class,omitempty"`
	Params   map[string]any `yaml:"params,omitempty" json:"params,omitempty"` // string, bool, int or float values
}

var (
	refPattern       = regexp.MustCompile(`^[A-Za-z0-9._/+@-]{1,255}$`)
	classPattern     = regexp.MustCompile(`^(::)?[a-z][a-z0-9_]*(::[a-z][a-z0-9_]*)*$`)
	paramPattern     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	elementPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	configFieldNames = []string{"repo", "ref", "path", "apply", "first_boot"}
	applyFieldNames  = []string{"manifest", "class", "params"}
)

// ConfigRepo is the config repository to clone: a URL as written, or a
// path made absolute against the recipe's directory.
func (r *Recipe) ConfigRepo(recipeDir string) string {
	if r.Config == nil {
		return ""
	}
	repo := r.Config.Repo
	if isRemote(repo) || filepath.IsAbs(repo) {
		return repo
	}
	p := filepath.Join(recipeDir, repo)
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// isRemote reports whether a repository is a URL (scheme:// or scp-style
// user@host:path) rather than a local path.
func isRemote(repo string) bool {
	if strings.Contains(repo, "://") {
		return true
	}
	at, colon := strings.IndexByte(repo, '@'), strings.IndexByte(repo, ':')
	return at > 0 && colon > at
}

// decodeConfig decodes the config mapping; YAML null leaves it unset.
func decodeConfig(r *Recipe, n *yaml.Node) []*Error {
	if isNull(n) {
		return nil
	}
	c := &Config{}
	errs := eachKey(n, "config", configFieldNames, func(key string, v *yaml.Node) []*Error {
		return decodeConfigKey(c, key, v)
	})
	r.Config = c
	return errs
}

func decodeConfigKey(c *Config, key string, v *yaml.Node) []*Error {
	switch key {
	case "repo":
		return setString(&c.Repo, v, "config.repo")
	case "ref":
		return setString(&c.Ref, v, "config.ref")
	case "path":
		return setString(&c.Path, v, "config.path")
	case "first_boot":
		return setBool(&c.FirstBoot, v, "config.first_boot")
	}
	if isNull(v) {
		return nil
	}
	c.Apply = &Apply{}
	return eachKey(v, "config.apply", applyFieldNames, func(key string, v *yaml.Node) []*Error {
		return decodeApplyKey(c.Apply, key, v)
	})
}

func decodeApplyKey(a *Apply, key string, v *yaml.Node) []*Error {
	switch key {
	case "manifest":
		return setString(&a.Manifest, v, "config.apply.manifest")
	case "class":
		return setString(&a.Class, v, "config.apply.class")
	}
	if isNull(v) {
		return nil
	}
	a.Params = map[string]any{}
	return eachKey(v, "config.apply.params", nil, func(key string, v *yaml.Node) []*Error {
		val, err := scalarValue(v)
		if err != nil {
			err.Field = "config.apply.params." + key
			return []*Error{err}
		}
		a.Params[key] = val
		return nil
	})
}

// eachKey walks a mapping node, reporting a non-mapping, non-scalar,
// duplicate or (when allowed is set) unknown keys, and calls fn for each.
func eachKey(n *yaml.Node, field string, allowed []string, fn func(string, *yaml.Node) []*Error) []*Error {
	if n.Kind != yaml.MappingNode {
		return []*Error{fieldAt(n, field, problem("expected a mapping, got "+kindName(n), ""))}
	}
	var errs []*Error
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if e := checkKey(k, field, allowed, seen); e != nil {
			errs = append(errs, e)
			continue
		}
		seen[k.Value] = k.Line
		errs = append(errs, fn(k.Value, v)...)
	}
	return errs
}

func checkKey(k *yaml.Node, field string, allowed []string, seen map[string]int) *Error {
	if k.Kind != yaml.ScalarNode {
		return fieldAt(k, field, problem("keys must be plain words, got "+kindName(k), ""))
	}
	if line, dup := seen[k.Value]; dup {
		return fieldAt(k, field, problem(fmt.Sprintf("duplicate key %q, first set at line %d", k.Value, line), "remove one of the two"))
	}
	if allowed != nil && !slices.Contains(allowed, k.Value) {
		return fieldAt(k, field, problem(fmt.Sprintf("%q is not a %s field", k.Value, field), allowedHint(k.Value, allowed)))
	}
	return nil
}

func fieldAt(n *yaml.Node, field string, e *Error) *Error {
	e.Field = field
	return at(n, e)
}

func setString(dst *string, n *yaml.Node, field string) []*Error {
	s, err := scalarString(n, "a single value")
	if err != nil {
		err.Field = field
		return []*Error{err}
	}
	*dst = s
	return nil
}

func setBool(dst *bool, n *yaml.Node, field string) []*Error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return []*Error{fieldAt(n, field, problem("expected true or false, got "+kindName(n), ""))}
	}
	b, _ := strconv.ParseBool(strings.ToLower(n.Value))
	*dst = b
	return nil
}

// scalarValue decodes a parameter value, keeping its YAML type.
func scalarValue(n *yaml.Node) (any, *Error) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return nil, at(n, problem("expected a string, number or boolean, got "+kindName(n), "Puppet parameters are single values"))
	}
	switch n.ShortTag() {
	case "!!bool":
		return strings.EqualFold(n.Value, "true"), nil
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return int(i), nil
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, nil
		}
	}
	return n.Value, nil
}

// checkConfig checks the config section (defaults filled).
func checkConfig(r *Recipe) []*Error {
	c := r.Config
	if c == nil {
		return nil
	}
	var errs []*Error
	for _, e := range []*Error{checkRepo(c.Repo), checkRef(c.Ref), checkConfigPath(c.Path)} {
		if e != nil {
			errs = append(errs, e)
		}
	}
	return append(errs, checkApply(c.Apply)...)
}

func checkRepo(s string) *Error {
	e := func(msg, hint string) *Error { return named("config.repo", problem(msg, hint)) }
	switch {
	case s == "":
		return e("is required", "give a git URL or a path, e.g. `repo: https://git.example.org/puppet.git`")
	case strings.HasPrefix(s, "-"):
		return e(fmt.Sprintf("%q must not start with -", s), "give a git URL or a path")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return e(fmt.Sprintf("%q contains control characters", s), "give a git URL or a path")
	}
	return nil
}

func checkRef(s string) *Error {
	hint := "give a tag, branch or commit, e.g. `ref: 0.1.0`"
	switch {
	case s == "":
		return named("config.ref", problem("is required", hint))
	case !refPattern.MatchString(s) || strings.HasPrefix(s, "-") || strings.Contains(s, ".."):
		return named("config.ref", problem(fmt.Sprintf("%q is not a valid git ref", s), hint))
	}
	return nil
}

func checkConfigPath(s string) *Error {
	if !strings.HasPrefix(s, "/") || path.Clean(s) != s || s == "/" || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return named("config.path", problem(fmt.Sprintf("%q is not a clean absolute path below /", s),
			"e.g. "+DefaultConfigPath))
	}
	return nil
}

func checkApply(a *Apply) []*Error {
	if a == nil {
		return nil
	}
	switch {
	case (a.Manifest == "") == (a.Class == ""):
		return []*Error{named("config.apply", problem("give either manifest or class", "e.g. `apply: {class: role::web, params: {port: 80}}`"))}
	case a.Manifest != "":
		return errorList(checkManifest(a))
	}
	if !classPattern.MatchString(a.Class) {
		return []*Error{named("config.apply.class", problem(fmt.Sprintf("%q is not a Puppet class name", a.Class), "e.g. site::role::web"))}
	}
	var errs []*Error
	for _, k := range slices.Sorted(maps.Keys(a.Params)) {
		if !paramPattern.MatchString(k) {
			errs = append(errs, named("config.apply.params", problem(fmt.Sprintf("%q is not a Puppet parameter name", k), "lowercase letters, digits and _")))
		}
	}
	return errs
}

func checkManifest(a *Apply) *Error {
	m := a.Manifest
	if strings.HasPrefix(m, "/") || path.Clean(m) != m || m == ".." || strings.HasPrefix(m, "../") {
		return named("config.apply.manifest", problem(fmt.Sprintf("%q is not a path inside the tree", m), "e.g. manifests/site.pp"))
	}
	if len(a.Params) > 0 {
		return named("config.apply.params", problem("params need a class", "with a manifest, set parameters in Hiera or the manifest"))
	}
	return nil
}

func named(field string, e *Error) *Error {
	e.Field = field
	return e
}

// checkRecipeVersion checks the version; "config" needs a config section.
func checkRecipeVersion(r *Recipe) []*Error {
	if r.Version == VersionFromConfig && r.Config == nil {
		return []*Error{problem(`"config" takes the version from the config tree's tag, but there is no config section`,
			"add `config: {repo: ..., ref: ...}` or give a version such as 0.1.0")}
	}
	if e := checkVersion(r.Version); e != nil {
		return []*Error{e}
	}
	return checkVersionInScheme(r)
}

func checkElements(names []string) []*Error {
	var errs []*Error
	for i, n := range names {
		var e *Error
		switch {
		case !elementPattern.MatchString(n):
			e = problem(fmt.Sprintf("%q is not a valid element name", n), "letters, digits and _ . - (a directory name on the element path)")
		case slices.Index(names, n) < i:
			e = problem(fmt.Sprintf("%q is listed twice", n), "list each element once")
		}
		if e != nil {
			e.elem = i + 1
			errs = append(errs, e)
		}
	}
	return errs
}

// withConfigDefaults returns a copy of c with its default path filled.
func withConfigDefaults(c *Config) *Config {
	if c == nil {
		return nil
	}
	cp := *c
	setDefault(&cp.Path, DefaultConfigPath)
	return &cp
}
