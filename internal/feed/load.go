package feed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

// ErrNoProduct is returned by Load for a product the catalog knows nothing
// about: no image and no release event.
var ErrNoProduct = errors.New("no such product")

// Load reads what the feeds of product ("" for all products) are made of.
func Load(ctx context.Context, cat catalog.Catalog, product string) ([]Product, error) {
	events, err := cat.Events(ctx, product)
	if err != nil {
		return nil, fmt.Errorf("loading feed data: %w", err)
	}
	names := []string{product}
	if product == "" {
		if names, err = productNames(ctx, cat, events); err != nil {
			return nil, fmt.Errorf("loading feed data: %w", err)
		}
	}
	byProduct := map[string][]catalog.Event{}
	for _, e := range events {
		byProduct[e.Product] = append(byProduct[e.Product], e)
	}
	var out []Product
	for _, name := range names {
		p, err := loadProduct(ctx, cat, name, byProduct[name])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func loadProduct(ctx context.Context, cat catalog.Catalog, name string, events []catalog.Event) (Product, error) {
	s, err := release.Load(ctx, cat, name)
	switch {
	case errors.Is(err, release.ErrUnknown) && len(events) > 0: // every image deleted; the audit log stays
		s = release.State{Product: name}
	case errors.Is(err, release.ErrUnknown):
		return Product{}, fmt.Errorf("feed of %q: %w", name, ErrNoProduct)
	case err != nil:
		return Product{}, fmt.Errorf("loading feed data of %s: %w", name, err)
	}
	return Product{State: s, Events: events}, nil
}

// productNames returns every product with an image or an event, sorted.
func productNames(ctx context.Context, cat catalog.Catalog, events []catalog.Event) ([]string, error) {
	imgs, err := cat.ListImages(ctx, catalog.ListOptions{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, img := range imgs {
		names = append(names, img.Product)
	}
	for _, e := range events {
		names = append(names, e.Product)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Build loads the catalog and returns the feed of kind for product ("" for
// all products) as an XML document.
func Build(ctx context.Context, cat catalog.Catalog, kind Kind, product string, o Options) ([]byte, error) {
	products, err := Load(ctx, cat, product)
	if err != nil {
		return nil, err
	}
	return Marshal(Generate(kind, product, products, o))
}

// Files returns every feed the handler serves, by URL path (relative to the
// site root, e.g. "feeds/debian-cloud/security.atom"), for writing them out
// as static files.
func Files(ctx context.Context, cat catalog.Catalog, o Options) (map[string][]byte, error) {
	products, err := Load(ctx, cat, "")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, kind := range []Kind{Releases, Security} {
		if out[strings.TrimPrefix(Path(kind, ""), "/")], err = Marshal(Generate(kind, "", products, o)); err != nil {
			return nil, err
		}
		for _, p := range products {
			doc, err := Marshal(Generate(kind, p.State.Product, []Product{p}, o))
			if err != nil {
				return nil, err
			}
			out[strings.TrimPrefix(Path(kind, p.State.Product), "/")] = doc
		}
	}
	return out, nil
}
