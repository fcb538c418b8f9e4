package apt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

var (
	errUnknownType     = errors.New("unknown type (want deb or deb-src)")
	errMissingSuite    = errors.New("missing URI or suite")
	errUnclosedOptions = errors.New("unclosed [options]")
	errComponents      = errors.New("components are required unless the suite ends in /, and forbidden then")
)

func parseOneLineSources(r io.Reader) ([]Source, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var srcs []Source
	for n := 1; sc.Scan(); n++ {
		src, ok, err := ParseSourceLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if ok {
			srcs = append(srcs, src)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	return srcs, nil
}

// ParseSourceLine parses one line of sources.list:
//
//	deb [ option=value ... ] uri suite [component ...]
//
// ok is false for blank lines, comments and deb-src lines.
func ParseSourceLine(line string) (src Source, ok bool, err error) {
	line, _, _ = strings.Cut(line, "#")
	line = strings.TrimSpace(line)
	if line == "" {
		return Source{}, false, nil
	}
	typ := line
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		typ = line[:i]
	}
	if typ != "deb" && typ != "deb-src" {
		return Source{}, false, fmt.Errorf("%w: %q", errUnknownType, typ)
	}
	opts, rest, err := splitOptions(strings.TrimSpace(line[len(typ):]))
	if err != nil {
		return Source{}, false, err
	}
	src, err = sourceFromWords(splitWords(rest))
	if err != nil || typ != "deb" {
		return Source{}, false, err
	}
	src.SignedBy = opts["signed-by"]
	return src, true, nil
}

// splitOptions takes a leading "[a=b c=d]" off rest.
func splitOptions(rest string) (map[string]string, string, error) {
	if !strings.HasPrefix(rest, "[") {
		return nil, rest, nil
	}
	inner, after, ok := strings.Cut(rest[1:], "]")
	if !ok {
		return nil, "", errUnclosedOptions
	}
	opts := map[string]string{}
	for _, kv := range strings.Fields(inner) {
		k, v, _ := strings.Cut(kv, "=")
		opts[strings.TrimRight(strings.ToLower(k), "+-")] = v
	}
	return opts, after, nil
}

// splitWords splits on whitespace outside brackets, so that a URI such as
// "cdrom:[Debian GNU/Linux 12]/" stays one word.
func splitWords(s string) []string {
	var words []string
	var word strings.Builder
	inBrackets := false
	for _, r := range s {
		switch {
		case r == '[':
			inBrackets = true
		case r == ']':
			inBrackets = false
		case (r == ' ' || r == '\t') && !inBrackets:
			if word.Len() > 0 {
				words = append(words, word.String())
				word.Reset()
			}
			continue
		}
		word.WriteRune(r)
	}
	if word.Len() > 0 {
		words = append(words, word.String())
	}
	return words
}

func sourceFromWords(words []string) (Source, error) {
	if len(words) < 2 {
		return Source{}, errMissingSuite
	}
	src := Source{URI: words[0], Suite: words[1], Components: words[2:]}
	if len(src.Components) == 0 {
		src.Components = nil
	}
	if strings.HasSuffix(src.Suite, "/") != (len(src.Components) == 0) {
		return Source{}, errComponents
	}
	return src, nil
}
