package apt

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseParagraphs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Paragraph
	}{
		{"empty", "", nil},
		{"blank lines only", "\n \n\t\n", nil},
		{"two paragraphs", "A: 1\nB:2\n\n\nC: 3\n", []Paragraph{
			{Line: 1, Fields: []Field{{"A", "1", 1}, {"B", "2", 2}}},
			{Line: 5, Fields: []Field{{"C", "3", 5}}},
		}},
		{"multi-line value", "Description: short\n long line\n .\n\tmore  \nNext: x", []Paragraph{
			{Line: 1, Fields: []Field{{"Description", "short\nlong line\n.\nmore", 1}, {"Next", "x", 5}}},
		}},
		{"empty first line of a multi-line field", "Conffiles:\n /etc/a 0123\n /etc/b 4567\n", []Paragraph{
			{Line: 1, Fields: []Field{{"Conffiles", "\n/etc/a 0123\n/etc/b 4567", 1}}},
		}},
		{"comments do not split", "# head\nA: 1\n# inside\nB: 2\n", []Paragraph{
			{Line: 2, Fields: []Field{{"A", "1", 2}, {"B", "2", 4}}},
		}},
		{"CRLF and whitespace-only separator", "A: 1\r\n  \r\nB: 2\r\n", []Paragraph{
			{Line: 1, Fields: []Field{{"A", "1", 1}}},
			{Line: 3, Fields: []Field{{"B", "2", 3}}},
		}},
		{"colon in value", "URIs: http://x:80/debian\n", []Paragraph{
			{Line: 1, Fields: []Field{{"URIs", "http://x:80/debian", 1}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseParagraphs(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseParagraphsErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
	}{
		{" leading continuation\n", 1},
		{"A: 1\n\n continuation after blank\n", 3},
		{"A: 1\nno colon here\n", 2},
		{"A: 1\n: no name\n", 2},
		{"A: 1\nTwo Words: x\n", 2},
		{"A: 1\nB: 2\na: 3\n", 3},
	}
	for _, tt := range tests {
		_, err := ParseParagraphs(strings.NewReader(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != tt.line || !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseParagraphs(%q) error = %v, want a SyntaxError at line %d", tt.in, err, tt.line)
		}
	}
}

func TestParagraphValueIgnoresCase(t *testing.T) {
	p := Paragraph{Fields: []Field{{Name: "Signed-By", Value: "k"}}}
	if v, ok := p.Value("signed-by"); !ok || v != "k" {
		t.Errorf("Value = %q, %v", v, ok)
	}
	if _, ok := p.Value("Signed"); ok {
		t.Error("prefix matched")
	}
}

func FuzzParseParagraphs(f *testing.F) {
	for _, s := range []string{
		"Package: a\nVersion: 1\n\nPackage: b\nDescription: x\n y\n .\n",
		"# c\nTypes: deb\nURIs: http://x\n",
		" x\n", "A:\n\n\nB: 1\r\n", ":", "A: 1\nA: 2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		paras, err := ParseParagraphs(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v is not a syntax error", err)
			}
			return
		}
		for _, p := range paras {
			if len(p.Fields) == 0 || p.Line < 1 || p.Fields[0].Line != p.Line {
				t.Fatalf("bad paragraph %#v", p)
			}
			for _, f := range p.Fields {
				if f.Name == "" || strings.ContainsAny(f.Name, " \t\n:") {
					t.Fatalf("bad field name %q", f.Name)
				}
			}
		}
	})
}
