package apt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrSyntax is wrapped by every *SyntaxError.
var ErrSyntax = errors.New("syntax error")

// SyntaxError locates a malformed line in a control file.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// Field is one "Name: value" entry. Continuation lines are joined to the
// value with "\n", without their leading space or tab.
type Field struct {
	Name  string
	Value string
	Line  int
}

// Paragraph is one stanza of a deb822 control file (dpkg status, Packages,
// Release, .sources), in file order.
type Paragraph struct {
	Line   int // where it starts, from 1
	Fields []Field
}

// Value returns the value of the named field; names compare case-insensitively.
func (p Paragraph) Value(name string) (string, bool) {
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// maxLine bounds a single line of a control file.
const maxLine = 16 << 20

// ParseParagraphs reads deb822 paragraphs: blank (or whitespace-only) lines
// separate them, lines starting with '#' are comments, lines starting with
// a space or tab continue the previous field. Duplicate fields are errors.
func ParseParagraphs(r io.Reader) ([]Paragraph, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var p paragraphParser
	for sc.Scan() {
		if err := p.line(strings.TrimSuffix(sc.Text(), "\r")); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading line %d: %w", p.n+1, err)
	}
	p.flush()
	return p.done, nil
}

type paragraphParser struct {
	n    int // current line number
	cur  *Paragraph
	done []Paragraph
}

func (p *paragraphParser) line(s string) error {
	p.n++
	switch {
	case strings.TrimSpace(s) == "":
		p.flush()
	case s[0] == '#':
	case s[0] == ' ' || s[0] == '\t':
		return p.continuation(s)
	default:
		return p.field(s)
	}
	return nil
}

func (p *paragraphParser) flush() {
	if p.cur != nil {
		p.done = append(p.done, *p.cur)
		p.cur = nil
	}
}

func (p *paragraphParser) continuation(s string) error {
	if p.cur == nil {
		return &SyntaxError{Line: p.n, Msg: "continuation line outside a field"}
	}
	f := &p.cur.Fields[len(p.cur.Fields)-1]
	f.Value += "\n" + strings.TrimRight(s[1:], " \t")
	return nil
}

func (p *paragraphParser) field(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return &SyntaxError{Line: p.n, Msg: fmt.Sprintf("expected \"Field: value\", got %q", truncate(s, 60))}
	}
	if p.cur == nil {
		p.cur = &Paragraph{Line: p.n}
	}
	if _, dup := p.cur.Value(name); dup {
		return &SyntaxError{Line: p.n, Msg: fmt.Sprintf("duplicate field %s", name)}
	}
	p.cur.Fields = append(p.cur.Fields, Field{Name: name, Value: strings.TrimSpace(value), Line: p.n})
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
