package configtree

import (
	"fmt"
	"strings"
)

type tokenKind int

const (
	tIdent  tokenKind = iota // mod, forge
	tString                  // 'x' or "x"
	tSymbol                  // :git
	tLabel                   // git: (Ruby 1.9 hash key)
	tArrow                   // =>
	tComma                   // ,
	tLParen                  // (
	tRParen                  // )
	tNewline
)

type token struct {
	kind tokenKind
	text string
	line int
}

func (t token) String() string {
	switch t.kind {
	case tString:
		return fmt.Sprintf("string %s", quote(t.text))
	case tNewline:
		return "end of line"
	case tSymbol:
		return ":" + t.text
	case tLabel:
		return t.text + ":"
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits a Puppetfile into tokens.
type lexer struct {
	file string
	src  string
	pos  int
	line int
	toks []token
}

func tokenize(file, src string) ([]token, error) {
	l := &lexer{file: file, src: src, line: 1}
	for l.pos < len(l.src) {
		if err := l.next(); err != nil {
			return nil, err
		}
	}
	l.emit(tNewline, "")
	return l.toks, nil
}

func (l *lexer) emit(k tokenKind, text string) { l.toks = append(l.toks, token{k, text, l.line}) }

func (l *lexer) errorf(format string, args ...any) error {
	return &ParseError{l.file, l.line, fmt.Sprintf(format, args...)}
}

func (l *lexer) next() error {
	c := l.src[l.pos]
	switch {
	case c == '\n':
		l.emit(tNewline, "")
		l.line++
		l.pos++
	case c == ' ' || c == '\t' || c == '\r':
		l.pos++
	case c == '#':
		l.skipComment()
	case c == '\'' || c == '"':
		return l.str(c)
	case c == ':' && l.pos+1 < len(l.src) && isWordStart(l.src[l.pos+1]):
		l.pos++
		l.emit(tSymbol, l.word())
	case isWordStart(c):
		return l.ident()
	case strings.HasPrefix(l.src[l.pos:], "=>"):
		l.emit(tArrow, "=>")
		l.pos += 2
	case c == ',' || c == '(' || c == ')':
		l.emit(map[byte]tokenKind{',': tComma, '(': tLParen, ')': tRParen}[c], string(c))
		l.pos++
	default:
		return l.errorf("unexpected character %q", c)
	}
	return nil
}

func (l *lexer) skipComment() {
	for l.pos < len(l.src) && l.src[l.pos] != '\n' {
		l.pos++
	}
}

func (l *lexer) ident() error {
	w := l.word()
	if l.pos < len(l.src) && l.src[l.pos] == ':' && !strings.HasPrefix(l.src[l.pos:], "::") {
		l.pos++
		l.emit(tLabel, w)
		return nil
	}
	l.emit(tIdent, w)
	return nil
}

func isWordStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isWordByte(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' }

func (l *lexer) word() string {
	start := l.pos
	for l.pos < len(l.src) && isWordByte(l.src[l.pos]) {
		l.pos++
	}
	return l.src[start:l.pos]
}

// str reads a single- or double-quoted Ruby string with its escapes.
// Interpolation (#{...}) is refused: a Puppetfile is data here.
func (l *lexer) str(q byte) error {
	line := l.line
	var b strings.Builder
	for l.pos++; l.pos < len(l.src); l.pos++ {
		c := l.src[l.pos]
		switch {
		case c == q:
			l.pos++
			l.toks = append(l.toks, token{tString, b.String(), line})
			return nil
		case c == '\n':
			return &ParseError{l.file, line, "string is not closed on its line"}
		case q == '"' && strings.HasPrefix(l.src[l.pos:], "#{"):
			return l.errorf("string interpolation #{...} is not supported")
		case c == '\\' && l.pos+1 < len(l.src):
			l.pos++
			b.WriteString(unescape(q, l.src[l.pos]))
		default:
			b.WriteByte(c)
		}
	}
	return &ParseError{l.file, line, "string is not closed"}
}

func unescape(q, c byte) string {
	if q == '\'' {
		if c == '\'' || c == '\\' {
			return string(c)
		}
		return "\\" + string(c)
	}
	switch c {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	}
	return string(c)
}

// statements splits tokens at line ends, except after a comma or an arrow
// and inside parentheses, where a statement continues on the next line.
func statements(toks []token) [][]token {
	var out [][]token
	var cur []token
	depth := 0
	for _, t := range toks {
		switch t.kind {
		case tLParen:
			depth++
		case tRParen:
			depth--
		case tNewline:
			if depth > 0 || len(cur) > 0 && (cur[len(cur)-1].kind == tComma || cur[len(cur)-1].kind == tArrow) {
				continue
			}
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
