package recipe

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// field is one recipe field: how to decode it from YAML and how to check its
// value (with defaults filled in). Checks return errors without a position;
// for list elements they set elem.
type field struct {
	name   string
	decode func(r *Recipe, n *yaml.Node) []*Error
	check  func(r *Recipe) []*Error
}

// Allowed values of the enumerated fields.
var (
	Distros      = []string{"debian"}
	Releases     = []string{"bookworm", "trixie"}
	Arches       = []string{"amd64"}
	OutputKinds  = []string{OutputQCOW2, OutputRaw, OutputRootfsTar}
	Compressions = []string{"zlib", "zstd"}
)

var (
	namePattern     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	packagePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	versionPattern  = regexp.MustCompile(`^[0-9A-Za-z.+~-]{1,128}$`)
	hostnamePattern = namePattern
)

// fields lists every recipe field in canonical order.
var fields = []field{
	stringField("name", func(r *Recipe) *string { return &r.Name }, checkName),
	stringField("distro", func(r *Recipe) *string { return &r.Distro }, enum(Distros)),
	stringField("release", func(r *Recipe) *string { return &r.Release }, enum(Releases)),
	stringField("arch", func(r *Recipe) *string { return &r.Arch }, enum(Arches)),
	stringField("mirror", func(r *Recipe) *string { return &r.Mirror }, checkURL),
	stringField("security_mirror", func(r *Recipe) *string { return &r.SecurityMirror }, checkURL),
	stringField("kernel", func(r *Recipe) *string { return &r.Kernel }, checkPackage),
	listField("packages", func(r *Recipe) *[]string { return &r.Packages }, "package names", eachOf(checkPackage)),
	listField("outputs", func(r *Recipe) *[]string { return &r.Outputs }, "outputs", checkOutputs),
	stringField("qcow2_compression", func(r *Recipe) *string { return &r.QCOW2Compression }, enum(Compressions)),
	{"disk_size", decodeSize, func(r *Recipe) []*Error { return errorList(checkDiskSize(r.DiskSize)) }},
	withCheck(stringField("version", func(r *Recipe) *string { return &r.Version }, checkVersion), checkRecipeVersion),
	stringField("name_template", func(r *Recipe) *string { return &r.NameTemplate }, checkTemplate),
	stringField("hostname", func(r *Recipe) *string { return &r.Hostname }, checkHostname),
	listField("tests", func(r *Recipe) *[]string { return &r.Tests }, "test script paths", eachOf(checkTestPath)),
	listField("elements", func(r *Recipe) *[]string { return &r.Elements }, "element names", checkElements),
	{"config", decodeConfig, checkConfig},
	stringField("version_scheme", func(r *Recipe) *string { return &r.VersionScheme }, checkScheme),
	{"channels", decodeChannels, checkChannels},
	{"support", decodeSupport, checkSupport},
}

// withCheck replaces a field's check with one that sees the whole recipe.
func withCheck(f field, check func(r *Recipe) []*Error) field {
	f.check = check
	return f
}

// setField names the field of an error unless a check named a sub-field
// (such as config.ref) already.
func setField(e *Error, name string) {
	if e.Field == "" {
		e.Field = name
	}
}

func fieldNamed(name string) *field {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i]
		}
	}
	return nil
}

func fieldNames() []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

func fieldList() string { return strings.Join(fieldNames(), ", ") }

// checkAll runs every field's checks on r, naming the field in each error.
func checkAll(r *Recipe) []*Error {
	var errs []*Error
	for _, f := range fields {
		for _, e := range f.check(r) {
			setField(e, f.name)
			errs = append(errs, e)
		}
	}
	return errs
}

// stringField is a field holding one string; YAML null leaves it empty, so
// that the default applies.
func stringField(name string, get func(*Recipe) *string, check func(string) *Error) field {
	decode := func(r *Recipe, n *yaml.Node) []*Error {
		s, err := scalarString(n, "a single value")
		if err != nil {
			return []*Error{err}
		}
		*get(r) = s
		return nil
	}
	return field{name, decode, func(r *Recipe) []*Error { return errorList(check(*get(r))) }}
}

// listField is a field holding a list of strings; YAML null leaves it nil,
// so that the default applies.
func listField(name string, get func(*Recipe) *[]string, what string, check func([]string) []*Error) field {
	decode := func(r *Recipe, n *yaml.Node) []*Error {
		if isNull(n) {
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return []*Error{at(n, problem("expected a list of "+what+", got "+kindName(n), listHint(n)))}
		}
		items, errs := make([]string, 0, len(n.Content)), []*Error(nil)
		for _, item := range n.Content {
			s, err := scalarString(resolve(item), "a single value in the list of "+what)
			if err != nil {
				errs = append(errs, err)
			}
			items = append(items, s)
		}
		*get(r) = items
		return errs
	}
	return field{name, decode, func(r *Recipe) []*Error { return check(*get(r)) }}
}

func listHint(n *yaml.Node) string {
	example := "a, b"
	if n.Kind == yaml.ScalarNode && n.Value != "" {
		example = strings.Join(strings.FieldsFunc(n.Value, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }), ", ")
	}
	return fmt.Sprintf("write a YAML list: [%s], or one `- item` per line", example)
}

func decodeSize(r *Recipe, n *yaml.Node) []*Error {
	s, err := scalarString(n, "a size such as 4GiB")
	if err != nil || s == "" {
		return errorList(err)
	}
	size, perr := ParseSize(s)
	switch {
	case perr != nil:
		return []*Error{at(n, problem(perr.Error(), sizeHint))}
	case size == 0:
		return []*Error{at(n, problem("must not be zero", "at least "+MinDiskSize.String()))}
	}
	r.DiskSize = size
	return nil
}

func errorList(e *Error) []*Error {
	if e == nil {
		return nil
	}
	return []*Error{e}
}

// eachOf checks every element of a list, marking which element failed.
func eachOf(check func(string) *Error) func([]string) []*Error {
	return func(items []string) []*Error {
		var errs []*Error
		for i, v := range items {
			if e := check(v); e != nil {
				e.elem = i + 1
				errs = append(errs, e)
			}
		}
		return errs
	}
}

func checkName(s string) *Error {
	if s == "" {
		return problem("is required", "name the product, e.g. `name: debian-cloud`")
	}
	if !namePattern.MatchString(s) {
		return problem(fmt.Sprintf("%q is not a valid product name", s),
			"use lowercase letters, digits and dashes, e.g. debian-cloud")
	}
	return nil
}

// enum returns a check that accepts only the allowed values.
func enum(allowed []string) func(string) *Error {
	return func(s string) *Error { return checkEnum(s, allowed) }
}

func checkEnum(s string, allowed []string) *Error {
	if slices.Contains(allowed, s) {
		return nil
	}
	return problem(fmt.Sprintf("%q is not supported", s), allowedHint(s, allowed))
}

func checkURL(s string) *Error {
	if s == "" {
		return nil
	}
	hint := "write a URL such as http://deb.debian.org/debian"
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return problem(fmt.Sprintf("%q contains spaces or control characters", s), hint)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return problem(fmt.Sprintf("%q is not a valid URL", s), hint)
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return problem(fmt.Sprintf("%q has no host", s), hint)
		}
	case u.Scheme == "file":
		if u.Path == "" || u.Host != "" || u.Opaque != "" {
			return problem(fmt.Sprintf("%q is not a file URL with an absolute path", s), "write file:///path/to/mirror")
		}
	default:
		return problem(fmt.Sprintf("%q: URL scheme must be http, https or file", s), hint)
	}
	return nil
}

func checkPackage(s string) *Error {
	if packagePattern.MatchString(s) {
		return nil
	}
	return problem(fmt.Sprintf("%q is not a valid Debian package name", s),
		"package names are lowercase letters, digits and + . -, at least two characters, starting with a letter or digit")
}

func checkOutputs(outputs []string) []*Error {
	if len(outputs) == 0 {
		return []*Error{problem("must list at least one output", "allowed: "+strings.Join(OutputKinds, ", "))}
	}
	var errs []*Error
	for i, o := range outputs {
		e := checkEnum(o, OutputKinds)
		if e == nil && slices.Index(outputs, o) < i {
			e = problem(fmt.Sprintf("%q is listed twice", o), "list each output once")
		}
		if e != nil {
			e.elem = i + 1
			errs = append(errs, e)
		}
	}
	return errs
}

// outputRank orders outputs canonically; unknown ones sort last.
func outputRank(o string) int {
	if i := slices.Index(OutputKinds, o); i >= 0 {
		return i
	}
	return len(OutputKinds)
}

func checkDiskSize(s Size) *Error {
	switch {
	case s < MinDiskSize:
		return problem(fmt.Sprintf("%s is too small", s), "at least "+MinDiskSize.String())
	case s > MaxDiskSize:
		return problem(fmt.Sprintf("%s is too large", s), "at most "+MaxDiskSize.String())
	case s%MiB != 0:
		return problem(fmt.Sprintf("%s is not a whole number of MiB", s), "disks are partitioned in MiB; e.g. 4GiB or 3072MiB")
	}
	return nil
}

func checkVersion(s string) *Error {
	if s == "" {
		return problem("is required", "give the product version, e.g. `version: 0.1.0`")
	}
	if !versionPattern.MatchString(s) {
		return problem(fmt.Sprintf("%q is not a valid version", s),
			"use letters, digits and . + ~ - only, at most 128 characters, e.g. 0.1.0")
	}
	return nil
}

func checkHostname(s string) *Error {
	if hostnamePattern.MatchString(s) {
		return nil
	}
	return problem(fmt.Sprintf("%q is not a valid hostname", s),
		"use one label of lowercase letters, digits and dashes, at most 63 characters")
}

func checkTestPath(s string) *Error {
	if s == "" {
		return problem("test path is empty", "give a script path relative to the recipe file")
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
		return problem(fmt.Sprintf("%q contains control characters", s), "give a plain file path")
	}
	return nil
}
