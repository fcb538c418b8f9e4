package main

import (
	"context"
	"errors"

	"github.com/bakery-dev/bakery/internal/feed"
)

func runFeed(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("feed", "bakery feed [PRODUCT] [--security] [--base-url URL] (print an Atom feed; 'bakery serve' serves them under /feeds/)")
	security := fs.Bool("security", false, "the feed of security releases (default: all releases)")
	base := fs.String("base-url", "http://127.0.0.1:8080", "the URL the catalog is served at: feed IDs and links start with it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("feed takes at most one PRODUCT")
	}
	o := feed.DefaultOptions(*base)
	o.Version = version
	if err := o.Validate(); err != nil {
		return usagef("%v", err)
	}
	kind := feed.Releases
	if *security {
		kind = feed.Security
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	doc, err := feed.Build(ctx, st.catalog, kind, fs.Arg(0), o)
	if errors.Is(err, feed.ErrNoProduct) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	_, err = g.stdout.Write(doc)
	return err
}
