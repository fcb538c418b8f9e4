package recipe

import (
	"fmt"
	"strings"
)

// Placeholders are the names a name template may use, as {name}.
var Placeholders = []string{"product", "distro", "release", "arch", "version", "serial"}

// ImageName renders the recipe's name template for one build serial.
func (r *Recipe) ImageName(serial string) string {
	c := r.withDefaults()
	values := map[string]string{
		"product": c.Name, "distro": c.Distro, "release": c.Release,
		"arch": c.Arch, "version": c.Version, "serial": serial,
	}
	pairs := make([]string, 0, 2*len(values))
	for k, v := range values {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(c.NameTemplate)
}

// checkTemplate accepts literal text of name-safe characters and known
// {placeholders}.
func checkTemplate(t string) *Error {
	for rest := t; rest != ""; {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			return checkLiteral(rest)
		}
		if e := checkLiteral(rest[:i]); e != nil {
			return e
		}
		if rest[i] == '}' {
			return problem(fmt.Sprintf("%q has a `}` without `{`", t), placeholderHint(""))
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return problem(fmt.Sprintf("%q has a `{` without `}`", t), placeholderHint(""))
		}
		if e := checkPlaceholder(rest[i+1 : i+end]); e != nil {
			return e
		}
		rest = rest[i+end+1:]
	}
	return nil
}

func checkPlaceholder(name string) *Error {
	for _, p := range Placeholders {
		if p == name {
			return nil
		}
	}
	return problem(fmt.Sprintf("unknown placeholder {%s}", name), placeholderHint(name))
}

func placeholderHint(name string) string {
	hint := "placeholders: {" + strings.Join(Placeholders, "} {") + "}"
	if s := suggest(name, Placeholders); name != "" && s != "" {
		hint = fmt.Sprintf("did you mean {%s}? %s", s, hint)
	}
	return hint
}

// checkLiteral accepts the characters that are safe in file and image names.
func checkLiteral(s string) *Error {
	for _, r := range s {
		if !isNameRune(r) {
			return problem(fmt.Sprintf("character %q is not allowed in image names", r),
				"use letters, digits and . _ + ~ - between placeholders")
		}
	}
	return nil
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+~-", r)
}
