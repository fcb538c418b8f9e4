package apt

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

var errMissingField = errors.New("missing field")

func parseDeb822Sources(r io.Reader) ([]Source, error) {
	paras, err := ParseParagraphs(r)
	if err != nil {
		return nil, err
	}
	var srcs []Source
	for _, p := range paras {
		s, err := sourcesFromParagraph(p)
		if err != nil {
			return nil, fmt.Errorf("stanza at line %d: %w", p.Line, err)
		}
		srcs = append(srcs, s...)
	}
	return srcs, nil
}

// sourcesFromParagraph expands one stanza into a Source per URI and suite.
func sourcesFromParagraph(p Paragraph) ([]Source, error) {
	if !enabled(p) || !slices.Contains(words(p, "Types"), "deb") {
		return nil, nil
	}
	uris, suites, comps := words(p, "URIs"), words(p, "Suites"), words(p, "Components")
	if len(uris) == 0 {
		return nil, fmt.Errorf("%w URIs", errMissingField)
	}
	if len(suites) == 0 {
		return nil, fmt.Errorf("%w Suites", errMissingField)
	}
	signedBy, _ := p.Value("Signed-By")
	var srcs []Source
	for _, u := range uris {
		for _, s := range suites {
			if strings.HasSuffix(s, "/") != (len(comps) == 0) {
				return nil, fmt.Errorf("suite %s: %w", s, errComponents)
			}
			srcs = append(srcs, Source{URI: u, Suite: s, Components: slices.Clone(comps), SignedBy: strings.TrimSpace(signedBy)})
		}
	}
	return srcs, nil
}

func words(p Paragraph, name string) []string {
	v, _ := p.Value(name)
	return strings.Fields(v)
}

// enabled applies APT's boolean parsing to the Enabled field (default yes).
func enabled(p Paragraph) bool {
	v, ok := p.Value("Enabled")
	if !ok {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "no", "false", "without", "off", "disable", "0":
		return false
	}
	return true
}
