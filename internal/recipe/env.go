package recipe

import (
	"strings"
	"unicode"
)

// override is one environment variable that changes a recipe field.
type override struct {
	variable string
	field    string
	apply    func(r *Recipe, value string)
}

var overrides = []override{
	{"BAKERY_DISTRO", "distro", func(r *Recipe, v string) { r.Distro = v }},
	{"BAKERY_RELEASE", "release", func(r *Recipe, v string) { r.Release = v }},
	{"BAKERY_ARCH", "arch", func(r *Recipe, v string) { r.Arch = v }},
	{"BAKERY_VERSION", "version", func(r *Recipe, v string) { r.Version = v }},
	{"BAKERY_MIRROR", "mirror", func(r *Recipe, v string) { r.Mirror = v }},
	{"BAKERY_NAME_TEMPLATE", "name_template", func(r *Recipe, v string) { r.NameTemplate = v }},
	{"BAKERY_PACKAGES", "packages", addPackages},
	{"BAKERY_OUTPUTS", "outputs", setOutputs},
	{"BAKERY_ELEMENTS", "elements", addElements},
	{"BAKERY_CONFIG_REPO", "config.repo", func(r *Recipe, v string) { r.Config.Repo = v }},
	{"BAKERY_CONFIG_REF", "config.ref", func(r *Recipe, v string) { r.Config.Ref = v }},
}

// ApplyEnv applies the BAKERY_* overrides that lookup (e.g. os.LookupEnv)
// finds set and non-empty, then validates the result. Errors name the
// variable as their File. On error r is left unchanged.
func (r *Recipe) ApplyEnv(lookup func(string) (string, bool)) error {
	c := *r
	if c.Config != nil {
		cfg := *c.Config // overrides must not reach r through the pointer
		c.Config = &cfg
	}
	source := map[string]string{} // field → "$VARIABLE"
	var errs []*Error
	for _, o := range overrides {
		v, ok := lookup(o.variable)
		if v = strings.TrimSpace(v); !ok || v == "" {
			continue
		}
		if strings.HasPrefix(o.field, "config.") && c.Config == nil {
			errs = append(errs, &Error{File: "$" + o.variable, Field: "config", Msg: "the recipe has no config section to override",
				Hint: "add `config: {repo: ..., ref: ...}` to the recipe"})
			continue
		}
		o.apply(&c, v)
		source[o.field] = "$" + o.variable
	}
	c = c.withDefaults()
	for _, e := range checkAll(&c) {
		e.File = source[e.Field]
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		return joinErrors("", errs)
	}
	*r = c.normalized()
	return nil
}

// addPackages adds comma- or space-separated package names.
func addPackages(r *Recipe, v string) {
	added := strings.FieldsFunc(v, func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
	r.Packages = append(append([]string(nil), r.Packages...), added...)
}

// addElements adds comma- or space-separated element names.
func addElements(r *Recipe, v string) {
	added := strings.FieldsFunc(v, func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
	r.Elements = append(append([]string(nil), r.Elements...), added...)
}

// setOutputs replaces the outputs with a comma-separated list.
func setOutputs(r *Recipe, v string) {
	r.Outputs = []string{}
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			r.Outputs = append(r.Outputs, o)
		}
	}
}
