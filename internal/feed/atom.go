package feed

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"time"
)

// Namespace is the Atom 1.0 XML namespace (RFC 4287).
const Namespace = "http://www.w3.org/2005/Atom"

// ContentType is the media type of an Atom feed.
const ContentType = "application/atom+xml; charset=utf-8"

// Feed is an Atom feed document (RFC 4287 §4.1.1).
type Feed struct {
	XMLName   xml.Name  `xml:"http://www.w3.org/2005/Atom feed"`
	ID        string    `xml:"id"`
	Title     string    `xml:"title"`
	Subtitle  string    `xml:"subtitle,omitempty"`
	Updated   Time      `xml:"updated"`
	Authors   []Person  `xml:"author"`
	Generator Generator `xml:"generator"`
	Links     []Link    `xml:"link"`
	Entries   []Entry   `xml:"entry"`
}

// Entry is an Atom entry (RFC 4287 §4.1.2).
type Entry struct {
	ID         string     `xml:"id"`
	Title      string     `xml:"title"`
	Updated    Time       `xml:"updated"`
	Published  Time       `xml:"published"`
	Authors    []Person   `xml:"author"`
	Links      []Link     `xml:"link"`
	Categories []Category `xml:"category"`
	Content    Text       `xml:"content"`
}

// Person is an atom:author.
type Person struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

// Generator names the program that made the feed.
type Generator struct {
	Name    string `xml:",chardata"`
	URI     string `xml:"uri,attr,omitempty"`
	Version string `xml:"version,attr,omitempty"`
}

// Link is an atom:link.
type Link struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

// Category is an atom:category.
type Category struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

// Text is an Atom text construct; bakery writes plain text, in a CDATA
// section so that its lines stay readable.
type Text struct {
	Type string `xml:"type,attr"`
	Body string `xml:",cdata"`
}

// Time is an Atom date: RFC 3339 in UTC, to the second.
type Time time.Time

// MarshalText formats t for Atom.
func (t Time) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(time.RFC3339)), nil
}

// UnmarshalText parses an RFC 3339 date.
func (t *Time) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return fmt.Errorf("parsing Atom date %q: %w", b, err)
	}
	*t = Time(v)
	return nil
}

// Marshal returns the feed as an indented XML document.
func Marshal(f Feed) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encoding Atom feed %s: %w", f.ID, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
