// Package feed makes Atom 1.0 feeds of the catalog: one of all releases
// (images built, versions promoted to channels, hotfixes, security
// releases, revocations) and one of security releases only (with advisory
// IDs, severity, fixed packages and the affected line), each for one product
// and for all of them.
//
// Generate is pure: it turns what Load read from the catalog into a Feed;
// Handler serves the feeds over HTTP at
//
//	/feeds/releases.atom            /feeds/security.atom
//	/feeds/PRODUCT/releases.atom    /feeds/PRODUCT/security.atom
package feed

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

// Kind is which feed: all releases or security releases.
type Kind string

// Feed kinds.
const (
	Releases Kind = "releases"
	Security Kind = "security"
)

// Options configure the feeds.
type Options struct {
	BaseURL    string       // where the server is reached, e.g. https://images.example.org; links and feed IDs start with it
	Authority  string       // tag: URI authority of entry IDs; default BaseURL's host (set it to keep IDs when the URL moves)
	Title      string       // prefix of feed titles
	Author     string       // the feed's author
	MaxEntries int          // newest entries kept; 0 for all
	Version    string       // bakery's version, for atom:generator
	Logger     *slog.Logger // errors of the handler; nil: discard
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// DefaultOptions returns options for a server on baseURL.
func DefaultOptions(baseURL string) Options {
	return Options{BaseURL: baseURL, Title: "bakery", Author: "bakery", MaxEntries: 100}
}

// Validate checks the options at start-up.
func (o Options) Validate() error {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("feed base URL %q: want an absolute http:// or https:// URL", o.BaseURL)
	}
	if o.Title == "" || o.Author == "" {
		return errors.New("feed options: title and author must be set")
	}
	if o.MaxEntries < 0 {
		return errors.New("feed options: max entries must not be negative")
	}
	return nil
}

func (o Options) base() string { return strings.TrimRight(o.BaseURL, "/") }

func (o Options) authority() string {
	if o.Authority != "" {
		return o.Authority
	}
	u, _ := url.Parse(o.BaseURL)
	return u.Hostname()
}

// Path returns the URL path of a feed: /feeds/KIND.atom, or
// /feeds/PRODUCT/KIND.atom for one product.
func Path(kind Kind, product string) string {
	if product == "" {
		return "/feeds/" + string(kind) + ".atom"
	}
	return "/feeds/" + url.PathEscape(product) + "/" + string(kind) + ".atom"
}

// Product is what a product's feed entries are made from: its release
// state (images, marks, policy) and its audit log.
type Product struct {
	State  release.State
	Events []catalog.Event // oldest first
}

// Generate makes the feed of kind over products: one product's feed when
// product is set (products then holds that one), the global feed
// otherwise. Entries are newest first; the feed's updated time is its
// newest entry's.
func Generate(kind Kind, product string, products []Product, o Options) Feed {
	var entries []Entry
	for _, p := range products {
		entries = append(entries, productEntries(kind, p, o)...)
	}
	slices.SortStableFunc(entries, func(a, b Entry) int {
		if c := time.Time(b.Updated).Compare(time.Time(a.Updated)); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if o.MaxEntries > 0 && len(entries) > o.MaxEntries {
		entries = entries[:o.MaxEntries]
	}
	f := Feed{
		ID:        o.base() + Path(kind, product),
		Title:     title(kind, product, o),
		Updated:   Time(time.Unix(0, 0)),
		Authors:   []Person{{Name: o.Author}},
		Generator: Generator{Name: "bakery", Version: o.Version},
		Links: []Link{
			{Rel: "self", Type: "application/atom+xml", Href: o.base() + Path(kind, product)},
			{Rel: "alternate", Href: o.base() + "/"},
		},
		Entries: entries,
	}
	if len(entries) > 0 {
		f.Updated = entries[0].Updated
	}
	return f
}

func title(kind Kind, product string, o Options) string {
	what := "releases"
	if kind == Security {
		what = "security releases"
	}
	if product == "" {
		return fmt.Sprintf("%s: %s of all products", o.Title, what)
	}
	return fmt.Sprintf("%s: %s of %s", o.Title, what, product)
}

func productEntries(kind Kind, p Product, o Options) []Entry {
	var out []Entry
	if kind == Releases {
		for _, img := range p.State.Images {
			out = append(out, builtEntry(p, img, o))
		}
	}
	for _, e := range p.Events {
		if kind == Security && !securityEvent(e) {
			continue
		}
		if entry, ok := eventEntry(p, e, o); ok {
			out = append(out, entry)
		}
	}
	return out
}

// securityEvent reports whether e belongs in the security feed: a security
// release, or the revocation of one.
func securityEvent(e catalog.Event) bool {
	if e.Action == catalog.ActionSecurityRelease {
		return true
	}
	m, ok := eventMarks(e)
	return e.Action == catalog.ActionRevoke && ok && m.Security
}

// eventMarks returns the marks e set on its own image.
func eventMarks(e catalog.Event) (catalog.Marks, bool) {
	for _, m := range e.Marks {
		if m.Image == e.Image {
			return m.Marks, true
		}
	}
	return catalog.Marks{}, false
}

// tagID returns a tag: URI (RFC 4151) for something of product dated at.
func tagID(o Options, at time.Time, product, kind, name string) string {
	return fmt.Sprintf("tag:%s,%s:bakery/%s/%s/%s", o.authority(), at.UTC().Format("2006-01-02"),
		url.PathEscape(product), kind, url.PathEscape(name))
}

func entry(p Product, id, title string, at time.Time, author string, o Options) Entry {
	return Entry{
		ID: id, Title: title, Updated: Time(at), Published: Time(at),
		Authors: []Person{{Name: author}},
		Links:   []Link{{Rel: "alternate", Type: "application/atom+xml", Href: o.base() + Path(Releases, p.State.Product)}},
	}
}
