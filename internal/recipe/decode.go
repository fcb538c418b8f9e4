package recipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// document parses data as exactly one YAML document whose top level is a
// mapping, and returns that mapping.
func document(file string, data []byte) (top *yaml.Node, err error) {
	defer func() { // yaml.v3 has panicked on hostile input before; never crash on a recipe
		if p := recover(); p != nil {
			top, err = nil, &Error{File: file, Msg: fmt.Sprintf("invalid YAML: %v", p)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, emptyError(file, 1, 1)
		}
		return nil, syntaxError(file, data, err)
	}
	if err := singleDocument(file, data, dec); err != nil {
		return nil, err
	}
	return topMapping(file, &doc)
}

func emptyError(file string, line, col int) *Error {
	return &Error{File: file, Line: line, Column: col, Msg: "recipe is empty",
		Hint: "a recipe is a mapping of fields; at least name and version are required"}
}

func singleDocument(file string, data []byte, dec *yaml.Decoder) error {
	var extra yaml.Node
	err := dec.Decode(&extra)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return syntaxError(file, data, err)
	}
	return &Error{File: file, Line: extra.Line, Column: extra.Column,
		Msg: "recipe has more than one YAML document", Hint: "remove the extra `---` separator"}
}

func topMapping(file string, doc *yaml.Node) (*yaml.Node, error) {
	if len(doc.Content) == 0 {
		return nil, emptyError(file, doc.Line, doc.Column)
	}
	top := resolve(doc.Content[0])
	switch {
	case isNull(top):
		return nil, emptyError(file, top.Line, top.Column)
	case top.Kind != yaml.MappingNode:
		return nil, &Error{File: file, Line: top.Line, Column: top.Column,
			Msg:  "recipe must be a mapping of fields, got " + kindName(top),
			Hint: "write one `field: value` per line, e.g. `name: debian-cloud`"}
	}
	return top, nil
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are yaml.v3's parser (not scanner) errors: for these it
// reports a 0-based line, or none for the first line.
var parserProblems = []string{
	"did not find expected <stream-start>", "did not find expected <document start>",
	"found duplicate %YAML directive", "found incompatible YAML document",
	"found undefined tag handle", "did not find expected node content",
	"did not find expected '-' indicator", "did not find expected key",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"found duplicate %TAG directive",
}

// syntaxError turns a yaml.v3 parse error into an *Error with its line.
func syntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if slices.Contains(parserProblems, msg) {
		line++
	}
	e := &Error{File: file, Line: line, Msg: "invalid YAML: " + msg}
	if hasTab(data, e.Line) {
		e.Hint = "indent with spaces: YAML does not allow tabs"
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		e.Line, e.Column = find(data, "*"+m[1])
	}
	return e
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// find returns the 1-based line and column of the first occurrence of s in
// data, or zeros.
func find(data []byte, s string) (line, col int) {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0, 0
	}
	before := data[:i]
	return bytes.Count(before, []byte("\n")) + 1, i - bytes.LastIndexByte(before, '\n')
}

// hasTab reports whether line (1-based; 0 for any line) of data has a tab.
func hasTab(data []byte, line int) bool {
	lines := bytes.Split(data, []byte("\n"))
	if line > 0 && line <= len(lines) {
		lines = lines[line-1 : line]
	}
	return bytes.Contains(bytes.Join(lines, nil), []byte("\t"))
}

// decoded is a recipe as decoded from YAML, with where each field was found.
type decoded struct {
	recipe Recipe
	top    *yaml.Node
	values map[string]*yaml.Node // field name → value node
	bad    map[string]bool       // fields with type errors: not checked further
	errs   []*Error
}

// decode converts the top-level mapping into a Recipe, reporting unknown,
// duplicate and mistyped fields. Values are checked later by check.
func decode(top *yaml.Node) *decoded {
	d := &decoded{top: top, values: map[string]*yaml.Node{}, bad: map[string]bool{}}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, value := top.Content[i], resolve(top.Content[i+1])
		f, err := lookupKey(key, keys)
		if err != nil {
			d.errs = append(d.errs, err)
			continue
		}
		keys[f.name], d.values[f.name] = key, value
		d.add(f.name, f.decode(&d.recipe, value))
	}
	return d
}

// add records errors for a field; a field with errors is not checked further.
func (d *decoded) add(field string, errs []*Error) {
	for _, e := range errs {
		setField(e, field)
		d.errs = append(d.errs, e)
		d.bad[field] = true
	}
}

// lookupKey returns the field a mapping key names, or why it names none.
func lookupKey(key *yaml.Node, seen map[string]*yaml.Node) (*field, *Error) {
	if key.Kind != yaml.ScalarNode {
		return nil, at(key, problem("field names must be plain words, got "+kindName(key), "allowed fields: "+fieldList()))
	}
	if first, dup := seen[key.Value]; dup {
		e := problem(fmt.Sprintf("duplicate field, first set at line %d", first.Line), "remove one of the two")
		e.Field = key.Value
		return nil, at(key, e)
	}
	f := fieldNamed(key.Value)
	if f == nil {
		e := problem("not a recipe field", unknownFieldHint(key.Value))
		e.Field = key.Value
		return nil, at(key, e)
	}
	return f, nil
}

func unknownFieldHint(name string) string {
	hint := "allowed fields: " + fieldList()
	if s := suggest(name, fieldNames()); s != "" {
		hint = fmt.Sprintf("did you mean `%s`? %s", s, hint)
	}
	return hint
}

// check runs every field's checks on c and positions the errors in the file:
// at the field's value (or list element) or, for a missing field, at the
// top-level mapping.
func (d *decoded) check(c *Recipe) []*Error {
	var errs []*Error
	for _, f := range fields {
		if d.bad[f.name] {
			continue
		}
		for _, e := range f.check(c) {
			setField(e, f.name)
			errs = append(errs, at(d.position(e.Field, e.elem), e))
		}
	}
	return errs
}

// position finds the node of a field (or of a sub-field such as
// config.apply.class: the deepest part present).
func (d *decoded) position(field string, elem int) *yaml.Node {
	parts := strings.Split(field, ".")
	n, ok := d.values[parts[0]]
	if !ok {
		return d.top
	}
	for _, p := range parts[1:] {
		n = mappingValue(n, p)
	}
	if elem > 0 && n.Kind == yaml.SequenceNode && elem <= len(n.Content) {
		return n.Content[elem-1]
	}
	return n
}

// mappingValue returns the value of key in mapping n, or n itself.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return n
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return n
}

// at places e at node n.
func at(n *yaml.Node, e *Error) *Error {
	e.Line, e.Column = n.Line, n.Column
	return e
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// kindName describes a node for error messages: "a list", "a number", ...
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return scalarKindName(n)
	}
	return "an alias"
}

func scalarKindName(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!int", "!!float":
		return fmt.Sprintf("a number (%s)", n.Value)
	case "!!bool":
		return fmt.Sprintf("a boolean (%s)", n.Value)
	}
	return fmt.Sprintf("a string (%q)", n.Value)
}

// scalarString returns a scalar's text; what names the expected value.
func scalarString(n *yaml.Node, what string) (string, *Error) {
	if n.Kind != yaml.ScalarNode {
		return "", at(n, problem(fmt.Sprintf("expected %s, got %s", what, kindName(n)), ""))
	}
	if isNull(n) {
		return "", nil
	}
	return n.Value, nil
}
