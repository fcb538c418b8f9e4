package apt

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// EachParagraph streams deb822 paragraphs to fn, with the same rules as
// ParseParagraphs, without holding the whole file (a Debian main Packages
// index is some 50 MB). An error from fn stops the scan and is returned.
func EachParagraph(r io.Reader, fn func(Paragraph) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var p paragraphParser
	emit := func() error {
		for _, para := range p.done {
			if err := fn(para); err != nil {
				return err
			}
		}
		p.done = p.done[:0]
		return nil
	}
	for sc.Scan() {
		if err := p.line(strings.TrimSuffix(sc.Text(), "\r")); err != nil {
			return err
		}
		if err := emit(); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading line %d: %w", p.n+1, err)
	}
	p.flush()
	return emit()
}

// EachPackage streams the stanzas of a Packages index to fn.
func EachPackage(r io.Reader, fn func(Package) error) error {
	return EachParagraph(r, func(p Paragraph) error {
		pkg, err := packageFrom(p)
		if err != nil {
			return fmt.Errorf("parsing Packages: %w", err)
		}
		return fn(pkg)
	})
}
